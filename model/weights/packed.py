"""Quantised weights kept in Kodama's cache, so that a start never holds the float model.

Quantising at start-up (:func:`kodama.model.quantize.quantize_model`) first loads every float
weight: 2.8 GB at peak for the default model in bfloat16, 4 GB in float32, to keep a third of
that. Instead, the first start with a given model folder and weight format streams the folder's
safetensors one tensor at a time, packs each linear layer's weight with the same functions as
in-memory quantisation (so the very same values) and writes the result under
``<cache>/packed/``. Every start then reads that file: the model is built without weights
(accelerate's ``init_empty_weights``), the packed layers are put in place, and the other tensors
(embeddings, norms, biases) are read straight into the compute float type, a block of rows at
a time; an embedding table of bf16 values stays bf16 (``CompactEmbedding``).

The cache key is a SHA-256 of the folder's resolved path, the sizes and times of its config and
safetensors files, the weight format, the float type the weights are rounded to before packing
(the compute type, so that packed values equal in-memory quantisation's) and torch's version
(the int4 layout is the kernel's own): change any and the packed copy is rebuilt. A model whose
checkpoint names do not match its modules (:class:`UnsupportedLayout`) loads the float way.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import struct
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from kodama.model.quantize import PACKED_LAYERS, Quantization, packs_int4
from kodama.model.types import ProgressFn, report_progress
from kodama.model.weights.store import cache_root, ensure_folder, is_complete

PACKED_VERSION = 2
"""Version of the packed layout; bump it to make every packed copy rebuild."""

WEIGHTS_NAME = "packed.safetensors"
"""The packed weights inside a packed folder."""

READ_BLOCK_ROWS = 8192
"""Rows of a float tensor read and converted at a time (bounds the transient copy)."""


class UnsupportedLayout(ValueError):
    """The folder's checkpoint names do not map one to one onto the model's weights."""


def _source_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.safetensors"))


def fingerprint(folder: Path, quantization: Quantization, dtype: str) -> str:
    """The cache key of ``folder``'s weights packed as ``quantization`` from their ``dtype``
    values (see the module doc)."""
    import torch

    files = [folder / "config.json", *_source_files(folder)]
    stats = {path.name: [path.stat().st_size, path.stat().st_mtime_ns] for path in files}
    key = {"version": PACKED_VERSION, "folder": str(folder.resolve()), "files": stats,
           "quantization": quantization, "dtype": dtype, "torch": torch.__version__}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def _located(folder: Path, quantization: Quantization, dtype: str) -> tuple[Path, str]:
    """Where ``folder``'s packed copy lives, and its cache key."""
    key = fingerprint(folder, quantization, dtype)
    stem = re.sub(r"[^a-z0-9._-]+", "-", folder.name.lower()).strip(".-") or "model"
    return cache_root() / "packed" / f"{stem}-{quantization}-{dtype}-{key[:16]}", key


def packed_dir(folder: Path, quantization: Quantization, dtype: str) -> Path:
    """Where ``folder``'s packed copy lives (whether or not it exists yet)."""
    return _located(folder, quantization, dtype)[0]


def can_pack(folder: Path, quantization: Quantization) -> bool:
    """Whether ``folder`` is a model folder with safetensors weights (what packing reads) and
    this torch build can pack ``quantization``."""
    from kodama.model.quantize import QUANTIZATIONS, int4_layout_ok

    if quantization not in QUANTIZATIONS or quantization == "none":
        return False
    if quantization == "int4" and not int4_layout_ok():
        return False
    return (folder / "config.json").is_file() and bool(_source_files(folder))


def packed_ready(folder: Path, quantization: Quantization, dtype: str) -> Path | None:
    """``folder``'s packed copy if it is complete, else None (a cheap check)."""
    final, key = _located(folder, quantization, dtype)
    return final if is_complete(final, key) else None


def ensure_packed(folder: Path, quantization: Quantization, dtype: str,
                  progress: ProgressFn | None = None) -> Path:
    """``folder``'s packed copy, writing it first if it is missing (under the cache's lock)."""
    final, key = _located(folder, quantization, dtype)

    def build(work: Path, out: Path) -> None:
        write_packed(folder, quantization, dtype, out, progress)

    return ensure_folder(final, key, f"{quantization} weights of {folder}", build, progress)


def _skeleton(folder: Path, dtype: Any) -> Any:
    """The model ``folder`` configures, with its parameters on the meta device (no memory)."""
    from accelerate import init_empty_weights
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(folder)
    with init_empty_weights():
        return AutoModelForCausalLM.from_config(config, dtype=dtype)


def _linear_layers(model: Any) -> dict[str, Any]:
    from torch import nn

    return {name: module for name, module in model.named_modules()
            if isinstance(module, nn.Linear)}


class _Checkpoint:
    """The tensors of a folder's safetensors files, by name, opened lazily."""

    def __init__(self, folder: Path, stack: ExitStack) -> None:
        from safetensors import safe_open

        self._files: dict[str, Any] = {}
        for path in _source_files(folder):
            handle = stack.enter_context(safe_open(str(path), framework="pt"))
            for name in handle.keys():  # noqa: SIM118 - a safe_open handle is not iterable
                self._files[name] = handle

    def names(self) -> set[str]:
        return set(self._files)

    def tensor(self, name: str) -> Any:
        return self._files[name].get_tensor(name)


def _weight_names(model: Any, checkpoint: _Checkpoint) -> Iterator[tuple[str, str]]:
    """(model weight name, checkpoint name) for every persistent weight of ``model``; an output
    head tied to the input embeddings and absent from the checkpoint reads the embeddings."""
    available = checkpoint.names()
    head = model.get_output_embeddings()
    embeddings = model.get_input_embeddings()
    modules = {id(module): name for name, module in model.named_modules()}
    for name in model.state_dict():
        source = name
        module = name.rpartition(".")[0]
        if source not in available and head is not None and module == modules.get(id(head)):
            source = f"{modules[id(embeddings)]}.weight"
        if source not in available:
            raise UnsupportedLayout(f"the checkpoint has no tensor for {name}")
        yield name, source


def write_packed(folder: Path, quantization: Quantization, dtype: str, out: Path,
                 progress: ProgressFn | None = None) -> None:
    """Write ``folder``'s weights, linear layers packed as ``quantization``, into ``out``.

    Each weight is first rounded to ``dtype``, so the packed values are exactly those of
    loading the model as ``dtype`` and quantising it in memory.
    """
    import torch
    from safetensors.torch import save_file

    compute = getattr(torch, dtype)
    model = _skeleton(folder, compute)
    linears = _linear_layers(model)
    head = model.get_output_embeddings()
    tensors: dict[str, Any] = {}
    layers: dict[str, str] = {}
    with ExitStack() as stack:
        checkpoint = _Checkpoint(folder, stack)
        names = list(_weight_names(model, checkpoint))
        for done, (name, source) in enumerate(names):
            report_progress(progress, f"Packing {quantization} weights", done / len(names))
            module, _, leaf = name.rpartition(".")
            tensor = checkpoint.tensor(source)
            if module in linears and leaf == "weight":
                layer = linears[module]
                int4 = packs_int4(quantization, layer.out_features, layer.in_features,
                                  layer is head)
                kind = "int4" if int4 else "int8"
                layers[module] = kind
                packed = PACKED_LAYERS[kind].pack(tensor.to(compute))
                tensors.update({f"{module}.{key}": value for key, value in packed.items()})
            else:
                tensors[name] = _exact_bf16(tensor.contiguous())
            del tensor
    out.mkdir(parents=True)
    save_file(tensors, str(out / WEIGHTS_NAME),
              metadata={"quantization": quantization, "layers": json.dumps(layers)})
    report_progress(progress, f"Packing {quantization} weights", 1.0)


def _exact_bf16(tensor: Any) -> Any:
    """``tensor`` in bfloat16 when that changes no value (a float32 copy of bf16 weights), so
    that loading can keep the embedding table compact (:class:`CompactEmbedding`)."""
    import torch

    if tensor.dtype != torch.float32:
        return tensor
    compact = tensor.to(torch.bfloat16)
    return compact if torch.equal(compact.float(), tensor) else tensor


_DTYPES = {"BF16": "bfloat16", "F16": "float16", "F32": "float32", "F64": "float64",
           "I8": "int8", "U8": "uint8", "I16": "int16", "I32": "int32", "I64": "int64",
           "BOOL": "bool"}


class _PackedFile:
    """A safetensors file read with plain reads into memory the process owns.

    safetensors' own reader maps the file: its tensors stay views of the mapping, whose pages
    count in the server's resident size for as long as the model lives (and every page read
    while converting the embeddings stays mapped too). Reading into our own buffers, the
    page cache keeps the file and the process holds each weight once.
    """

    def __init__(self, path: Path) -> None:
        self._handle = path.open("rb")
        (size,) = struct.unpack("<Q", self._handle.read(8))
        header = json.loads(self._handle.read(size))
        self.metadata: dict[str, str] = header.pop("__metadata__", {})
        self.entries: dict[str, dict[str, Any]] = header
        self._base = 8 + size

    def close(self) -> None:
        self._handle.close()

    def _read_into(self, target: Any, offset: int) -> None:
        self._handle.seek(self._base + offset)
        view = memoryview(target.view(-1).view(_torch().uint8).numpy())
        if self._handle.readinto(view) != len(view):
            raise UnsupportedLayout("the packed file is shorter than its header says")

    def tensor(self, name: str, dtype: Any = None) -> Any:
        """Tensor ``name``, converted to ``dtype`` (if given) a block of rows at a time."""
        torch = _torch()
        entry = self.entries[name]
        stored = getattr(torch, _DTYPES[entry["dtype"]])
        shape = entry["shape"]
        begin = entry["data_offsets"][0]
        if dtype is None or dtype == stored or not shape:
            target = torch.empty(shape, dtype=stored)
            self._read_into(target, begin)
            return target if dtype is None else target.to(dtype)
        target = torch.empty(shape, dtype=dtype)
        row_bytes = target[0].numel() * stored.itemsize if shape[0] else 0
        for start in range(0, shape[0], READ_BLOCK_ROWS):
            block = torch.empty(target[start:start + READ_BLOCK_ROWS].shape, dtype=stored)
            self._read_into(block, begin + start * row_bytes)
            target[start:start + READ_BLOCK_ROWS] = block
        return target


def _torch() -> Any:
    import torch

    return torch


def _compact_embeddings(model: Any, weights: _PackedFile, dtype: Any) -> None:
    """Put a :class:`CompactEmbedding` in place when the model computes in float32 and its
    table is stored in bf16 (what in-memory quantisation does to such a table)."""
    import torch

    from kodama.model.quantize import CompactEmbedding

    embeddings = model.get_input_embeddings()
    name = next(name for name, module in model.named_modules() if module is embeddings)
    key = f"{name}.weight"
    if dtype == torch.float32 and weights.entries.get(key, {}).get("dtype") == "BF16":
        model.set_input_embeddings(CompactEmbedding(weights.tensor(key), dtype,
                                                    getattr(embeddings, "padding_idx", None)))


def load_packed(folder: Path, packed: Path, dtype: Any) -> Any:
    """The model of ``folder`` with the packed weights in ``packed``, floats as ``dtype``."""
    from transformers import GenerationConfig

    model = _skeleton(folder, dtype)
    weights = _PackedFile(packed / WEIGHTS_NAME)
    try:
        layers: dict[str, str] = json.loads(weights.metadata["layers"])

        def bias(name: str) -> Any:
            key = f"{name}.bias"
            return weights.tensor(key, dtype) if key in weights.entries else None

        for name, kind in layers.items():
            parent_name, _, child = name.rpartition(".")
            parent = model.get_submodule(parent_name) if parent_name else model
            cls = PACKED_LAYERS[kind]
            setattr(parent, child, cls(bias(name), **{
                key: weights.tensor(f"{name}.{key}") for key in cls.BUFFERS}))
        _compact_embeddings(model, weights, dtype)
        state = {name: weights.tensor(name, dtype if meta.is_floating_point() else meta.dtype)
                 for name, meta in model.state_dict().items() if meta.is_meta}
    finally:
        weights.close()
    model.load_state_dict(state, strict=False, assign=True)
    empty = [name for name, tensor in model.state_dict().items() if tensor.is_meta]
    if empty:
        raise UnsupportedLayout(f"packed weights lack {', '.join(empty[:3])}")
    with contextlib.suppress(OSError):  # no generation_config.json: from_config's stays
        model.generation_config = GenerationConfig.from_pretrained(folder)
    return model.eval()
