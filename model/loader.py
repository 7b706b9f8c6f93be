"""Turning what the user wrote (a preset, a folder, a GGUF file, a hub id) into a loaded model.

:func:`resolve` is pure and instant; :func:`load_model` imports torch and transformers only when
called, so importing this module keeps the server's start instant. Loading never writes to
stdout (the LSP channel while serving): it logs through :mod:`logging` and keeps transformers'
own output on stderr.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from kodama.model.config import QuantizationName
from kodama.model.errors import ModelLoadError
from kodama.model.isolated import run_isolated
from kodama.model.presets import Preset, get_preset, preset_names
from kodama.model.weights import (
    ProgressFn,
    converted_dir,
    ensure_converted,
    ensure_converted_gguf,
    is_complete,
    quiet_transformers,
)

logger = logging.getLogger(__name__)

SourceKind = Literal["preset", "path", "gguf", "hub"]
"""Where a model comes from."""

DtypeChoice = Literal["auto", "bfloat16", "float32"]
"""Float type to compute in; ``auto`` picks bfloat16 where the CPU has bf16 instructions."""

_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_TRUE = {"1", "true", "yes", "on"}


class AdapterLoadError(ModelLoadError):
    """The model loaded, but the fine-tuned adapter asked for could not be applied to it (a
    damaged or unsafe adapter folder, or one trained for another model): the base model alone
    still can be used."""


@dataclass(frozen=True)
class ModelSource:
    """What a model spec resolved to."""

    kind: SourceKind
    """``preset``, ``path`` (a model folder), ``gguf`` (a GGUF file) or ``hub`` (a hub id)."""
    value: str
    """The preset name, the absolute path, or the hub id."""
    preset: Preset | None
    """The preset, for kind ``preset``; None otherwise."""


@dataclass
class LoadedModel:
    """A model ready for generation, with its tokenizer and how it was obtained."""

    model: Any
    """The transformers ``PreTrainedModel``, in eval mode."""
    tokenizer: Any
    """The transformers ``PreTrainedTokenizerBase``."""
    name: str
    """Short display name (preset name, folder or file name, or hub id)."""
    source: ModelSource
    """What the spec resolved to."""
    dtype: str
    """Float type of the weights: ``bfloat16`` or ``float32``."""
    load_seconds: float
    """Wall time of :func:`load_model`, conversion included."""
    quantization: QuantizationName = "none"
    """Format of the linear layers as loaded: ``none`` (float) or packed ``int8``/``int4``."""


def _presets_hint() -> str:
    return f"Available presets: {', '.join(preset_names())}."


def _looks_like_path(spec: str) -> bool:
    return (
        spec.startswith(("/", "./", "../", "~", ".\\", "..\\"))
        or spec.lower().endswith(".gguf")
        or (os.sep != "/" and os.sep in spec)
    )


def resolve(spec: str) -> ModelSource:
    """Decide what ``spec`` names, without loading anything.

    In order: a preset name or alias; an existing directory (a model folder); an existing
    ``.gguf`` file; an ``org/name`` hub id. A path-looking spec that does not exist, an existing
    file that is not a GGUF, and anything else raise ModelLoadError saying what to pass instead.
    """
    text = spec.strip()
    if not text:
        raise ModelLoadError(
            f"No model given. Pass a preset name, a path or a hub id. {_presets_hint()}"
        )
    preset = get_preset(text)
    if preset is not None:
        return ModelSource("preset", preset.name, preset)
    path = Path(text).expanduser()
    if path.is_dir():
        return ModelSource("path", str(path.resolve()), None)
    if path.is_file():
        if path.suffix.lower() == ".gguf":
            return ModelSource("gguf", str(path.resolve()), None)
        raise ModelLoadError(
            f"Model {spec!r} is a file but not a .gguf file. Pass a .gguf file, a model folder "
            f"(with config.json and safetensors weights), a hub id or a preset. {_presets_hint()}"
        )
    if _looks_like_path(text):
        raise ModelLoadError(
            f"Model {spec!r}: no such file or directory ({path.absolute()}). Check the path, "
            f"or use a preset. {_presets_hint()}"
        )
    if _HUB_ID.match(text):
        return ModelSource("hub", text, None)
    raise ModelLoadError(
        f"Unknown model {spec!r}: it is not a preset, an existing folder or .gguf file, or a "
        f"Hugging Face hub id (org/name). {_presets_hint()}"
    )


def _hub_offline() -> bool:
    return any(
        os.environ.get(name, "").strip().lower() in _TRUE
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def bf16_is_fast() -> bool:
    """Whether this CPU has bf16 matrix instructions (AVX512-BF16 or AMX), so bf16 pays off.

    ``torch.backends.cpu.get_cpu_capability()`` only says ``AVX512`` on such machines; torch's
    own feature probes are what tell.
    """
    import torch

    for probe in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"):
        check = getattr(torch.cpu, probe, None)
        try:
            if check is not None and check():
                return True
        except Exception:  # a probe that cannot run says nothing
            continue
    return False


def _model_folder(source: ModelSource, progress: ProgressFn | None) -> str:
    """The folder (or hub id) to hand to ``from_pretrained``, converting first if needed."""
    if source.kind == "preset":
        assert source.preset is not None
        folder = converted_dir(source.preset)
        if is_complete(folder, source.preset.sha256):
            return str(folder)
        return str(run_isolated(ensure_converted, source.preset, progress=progress))
    if source.kind == "gguf":
        return str(run_isolated(ensure_converted_gguf, Path(source.value), progress=progress))
    if source.kind == "path":
        folder = Path(source.value)
        if not (folder / "config.json").is_file():
            ggufs = sorted(p.name for p in folder.glob("*.gguf"))
            hint = (
                f"It holds {', '.join(ggufs)}: pass that file's path instead."
                if ggufs
                else "Pass a folder written by save_pretrained (config.json, safetensors), a "
                f".gguf file, a hub id or a preset. {_presets_hint()}"
            )
            raise ModelLoadError(f"Folder {folder} is not a model folder (no config.json). {hint}")
        return str(folder)
    return source.value


def _failure_message(spec: str, source: ModelSource, folder: str, error: Exception) -> str:
    tried = f"Could not load model {spec!r}"
    cause = f"{type(error).__name__}: {error}"
    if source.kind == "hub":
        if _hub_offline():
            return (
                f"{tried}: it looks like a Hugging Face hub id, but the hub cannot be reached "
                "(HF_HUB_OFFLINE is set) and the model is not in the local Hugging Face cache. "
                "Download it on a machine with internet (`hf download "
                f"{source.value}`) or pass a local path instead. ({cause})"
            )
        return (
            f"{tried} from the Hugging Face hub ({source.value}). Check the id and your internet "
            "connection; without internet, download the model elsewhere and pass its local "
            "folder, or use a preset (set HF_HUB_OFFLINE=1 to skip the network retries). "
            f"{_presets_hint()} ({cause})"
        )
    return (
        f"{tried} (resolved to {source.kind} {source.value}, loading from {folder}). "
        f"Check that it is a complete causal language model folder that transformers supports. "
        f"({cause})"
    )


def load_model(
    spec: str,
    *,
    dtype: DtypeChoice = "auto",
    progress: ProgressFn | None = None,
    threads: int | None = None,
    adapter: Path | None = None,
    quantization: QuantizationName = "none",
) -> LoadedModel:
    """Load the model ``spec`` names (see :func:`resolve`) with its tokenizer, ready to generate.

    Presets and GGUF files are converted into Kodama's cache on first use (progress reports
    each stage), later loads read the cached folder. ``dtype="auto"`` is bfloat16 when the CPU
    has bf16 instructions, else float32. ``threads`` sets torch's intra-op thread count. Every
    failure is a ModelLoadError that says what was tried and what to do. ``adapter`` is a
    folder ``kodama fine-tune`` wrote: it is merged into the weights (no cost per token); it
    is read from safetensors only, once checked
    (:func:`~kodama.model.finetune.adapter.check_adapter`), and any problem with it is an
    :class:`AdapterLoadError`. ``quantization`` (``int8``, ``int4``) returns the model with its
    linear layers already packed, read from the packed copy in the cache
    (:mod:`kodama.model.weights.packed`, written on first use in a child process), so that the
    float weights are never all in memory; without an adapter only.
    """
    if dtype not in ("auto", "bfloat16", "float32"):
        raise ValueError(f"dtype must be 'auto', 'bfloat16' or 'float32', not {dtype!r}")
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be at least 1, not {threads}")
    started = time.perf_counter()
    source = resolve(spec)
    if adapter is not None:  # before the weights load: a refused adapter costs nothing
        _check_adapter(adapter, spec)
    import torch

    if threads is not None:
        torch.set_num_threads(threads)
    chosen = dtype if dtype != "auto" else ("bfloat16" if bf16_is_fast() else "float32")
    torch_dtype = getattr(torch, chosen)
    name = source.preset.name if source.preset is not None else _display_name(source)
    folder = _model_folder(source, progress)
    message = f"Loading {name} ({chosen})"
    if progress is not None:
        progress(message, None)
    logger.info("loading %s from %s as %s", spec, folder, chosen)
    kwargs: dict[str, Any] = {"local_files_only": True} if _hub_offline() else {}
    packed = None if adapter is not None else _packed_copy(source, folder, quantization, chosen,
                                                           progress)
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        with quiet_transformers(progress, message):
            if packed is not None:
                from kodama.model.weights.packed import load_packed

                model = load_packed(packed[0], packed[1], torch_dtype)
            else:
                model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch_dtype, **kwargs)
            tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
    except Exception as error:
        raise ModelLoadError(_failure_message(spec, source, folder, error)) from error
    if adapter is not None:
        from kodama.model.finetune.adapter import apply_trained

        try:
            model = apply_trained(model, adapter)
        except Exception as error:
            raise AdapterLoadError(
                f"could not apply the fine-tuned adapter {adapter} to {name}: {error}. "
                "Roll back with `kodama adapters rollback PATH` or set model.adapter to none."
            ) from error
        name = f"{name} + {adapter.parent.name if adapter.name == 'best' else adapter.name}"
    model.eval()
    seconds = time.perf_counter() - started
    actual = str(model.dtype).removeprefix("torch.")
    logger.info("loaded %s (%s) in %.1f s", name, actual, seconds)
    if progress is not None:
        progress(f"Loaded {name}", 1.0)
    return LoadedModel(model, tokenizer, name, source, actual, seconds,
                       quantization if packed is not None else "none")


def _local_folder(source: ModelSource, folder: str) -> Path | None:
    """The model folder on disk: ``folder`` itself, or a hub model's snapshot in the local
    Hugging Face cache (None until the first load has downloaded it)."""
    if source.kind != "hub":
        return Path(folder)
    try:
        from huggingface_hub import try_to_load_from_cache

        config = try_to_load_from_cache(source.value, "config.json")
    except Exception:  # an unreadable cache: load the usual way
        return None
    return Path(config).parent if isinstance(config, str) else None


def _packed_copy(source: ModelSource, folder: str, quantization: QuantizationName, dtype: str,
                 progress: ProgressFn | None) -> tuple[Path, Path] | None:
    """(model folder, packed folder) of the model's weights packed as ``quantization``, packing
    them first in a child process if needed; None where there is nothing to pack or packing
    failed (then the float weights load and are quantised in memory, as before)."""
    if quantization == "none":
        return None
    local = _local_folder(source, folder)
    if local is None:
        return None
    from kodama.model.weights.packed import can_pack, ensure_packed, packed_ready

    if not can_pack(local, quantization):
        return None
    packed = packed_ready(local, quantization, dtype)
    if packed is None:
        try:
            packed = run_isolated(ensure_packed, local, quantization, dtype, progress=progress)
        except ModelLoadError as error:
            logger.warning("could not pack %s as %s, quantising in memory: %s", local,
                           quantization, error)
            return None
    return local, packed


def _check_adapter(adapter: Path, spec: str) -> None:
    """:class:`AdapterLoadError` when the adapter folder is not safe to read."""
    from kodama.model.finetune.adapter import check_adapter

    try:
        check_adapter(adapter)
    except ValueError as error:
        raise AdapterLoadError(
            f"could not apply the fine-tuned adapter to {spec}: {error}. Roll back with "
            "`kodama adapters rollback PATH` or set model.adapter to none."
        ) from error


def load_tokenizer(spec: str, *, progress: ProgressFn | None = None) -> Any:
    """Only the tokenizer of the model ``spec`` names (see :func:`resolve`), for a backend that
    generates elsewhere. A preset or GGUF file is converted into the cache on first use, as for
    :func:`load_model`; no weights are loaded. ModelLoadError says what was tried."""
    source = resolve(spec)
    folder = _model_folder(source, progress)
    kwargs: dict[str, Any] = {"local_files_only": True} if _hub_offline() else {}
    try:
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(folder, **kwargs)
    except Exception as error:
        raise ModelLoadError(_failure_message(spec, source, folder, error)) from error


def _display_name(source: ModelSource) -> str:
    if source.kind == "hub":
        return source.value
    path = Path(source.value)
    return path.stem if source.kind == "gguf" else path.name
