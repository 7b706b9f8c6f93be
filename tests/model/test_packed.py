"""Packed weights in the cache (kodama.model.weights.packed) on the tiny model: a model loaded
from its packed copy is the very model in-memory quantisation makes; the copy is keyed by what
it was made from; packing problems fall back to quantising in memory."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from helpers.tiny_model import make_tiny_model
from kodama.model import loader
from kodama.model.engine import Engine
from kodama.model.loader import LoadedModel, load_model
from kodama.model.quantize import CompactEmbedding, Int8Linear, int4_layout_ok, quantize_model
from kodama.model.weights import packed as packing
from kodama.model.weights.store import MARKER_NAME

PROMPT = torch.tensor([[5, 20, 33, 40, 12, 9, 100, 7, 64]])


def _inline(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Run packing in this process (no child), recording what was packed."""
    packed: list[str] = []

    def run(job: Callable[..., Any], *args: Any, progress: Any = None) -> Any:
        packed.append(str(args[0]))
        return job(*args, progress=progress)

    monkeypatch.setattr(loader, "run_isolated", run)
    return packed


def _assert_same_model(reference: LoadedModel, loaded: LoadedModel) -> None:
    expected, actual = reference.model.state_dict(), loaded.model.state_dict()
    assert expected.keys() == actual.keys()
    for name, tensor in expected.items():
        assert actual[name].dtype == tensor.dtype, name
        assert torch.equal(actual[name], tensor), name
    with torch.no_grad():
        assert torch.equal(reference.model(PROMPT).logits, loaded.model(PROMPT).logits)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("quantization", ["int8", "int4"])
def test_packed_copy_is_the_model_in_memory_quantisation_makes(
        tiny_model_dir: Path, dtype: str, quantization: str) -> None:
    if quantization == "int4" and not int4_layout_ok():
        pytest.skip("this torch build has no CPU int4 kernel")
    reference = load_model(str(tiny_model_dir), dtype=dtype)  # type: ignore[arg-type]
    quantize_model(reference.model, quantization)  # type: ignore[arg-type]
    loaded = load_model(str(tiny_model_dir), dtype=dtype,  # type: ignore[arg-type]
                        quantization=quantization)  # packed in a child process
    assert loaded.quantization == quantization and loaded.dtype == dtype
    assert not any(isinstance(m, torch.nn.Linear) for m in loaded.model.modules())
    _assert_same_model(reference, loaded)
    engine = Engine(loaded, quantization=quantization)  # type: ignore[arg-type]
    assert engine.model is loaded.model


def test_a_table_of_bf16_values_stays_bf16_when_computing_in_float32(
        tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from transformers import AutoModelForCausalLM

    folder = tmp_path / "bf16"
    AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.bfloat16).save_pretrained(
        folder)
    for extra in tiny_model_dir.iterdir():  # the tokenizer files
        if not (folder / extra.name).exists():
            shutil.copy(extra, folder / extra.name)
    _inline(monkeypatch)
    plain = load_model(str(folder), dtype="float32")
    rows = plain.model.get_input_embeddings()(PROMPT)
    reference = load_model(str(folder), dtype="float32")
    quantize_model(reference.model, "int8")
    loaded = load_model(str(folder), dtype="float32", quantization="int8")
    for model in (reference.model, loaded.model):
        table = model.get_input_embeddings()
        assert isinstance(table, CompactEmbedding) and table.weight.dtype == torch.bfloat16
        assert torch.equal(table(PROMPT), rows) and table(PROMPT).dtype == torch.float32
    assert loaded.dtype == "float32"
    _assert_same_model(reference, loaded)
    # A float32 table of other values stays as it is.
    assert not isinstance(load_model(str(tiny_model_dir), dtype="float32", quantization="int8")
                          .model.get_input_embeddings(), CompactEmbedding)


def test_tied_output_head_is_packed_from_the_embeddings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = make_tiny_model(tmp_path / "tied", tied=True)
    _inline(monkeypatch)
    reference = load_model(str(folder), dtype="float32")
    quantize_model(reference.model, "int8")
    loaded = load_model(str(folder), dtype="float32", quantization="int8")
    assert isinstance(loaded.model.lm_head, Int8Linear)
    _assert_same_model(reference, loaded)


def test_the_copy_is_reused_and_rebuilt_when_the_weights_change(
        tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    packed = _inline(monkeypatch)
    load_model(str(folder), dtype="float32", quantization="int8")
    first = packing.packed_ready(folder, "int8", "float32")
    assert first is not None and len(packed) == 1
    load_model(str(folder), dtype="float32", quantization="int8")
    assert len(packed) == 1  # read from the cache, not packed again
    load_model(str(folder), dtype="bfloat16", quantization="int8")
    assert len(packed) == 2  # another compute type: other rounded values, another copy
    weights = folder / "model.safetensors"
    stat = weights.stat()
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert packing.packed_ready(folder, "int8", "float32") is None
    load_model(str(folder), dtype="float32", quantization="int8")
    assert len(packed) == 3
    assert packing.packed_ready(folder, "int8", "float32") not in (None, first)


def test_a_truncated_copy_is_rebuilt(
        tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    packed = _inline(monkeypatch)
    reference = load_model(str(tiny_model_dir), dtype="float32", quantization="int8")
    copy = packing.packed_dir(tiny_model_dir, "int8", "float32")
    weights = copy / packing.WEIGHTS_NAME
    weights.write_bytes(weights.read_bytes()[:-100])
    loaded = load_model(str(tiny_model_dir), dtype="float32", quantization="int8")
    assert packed[-1] == str(tiny_model_dir) and (copy / MARKER_NAME).is_file()
    _assert_same_model(reference, loaded)


def test_packing_failure_falls_back_to_quantising_in_memory(
        tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    _inline(monkeypatch)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise packing.UnsupportedLayout("the checkpoint has no tensor for lm_head.weight")

    monkeypatch.setattr(packing, "write_packed", refuse)
    loaded = load_model(str(folder), dtype="bfloat16", quantization="int8")
    assert loaded.quantization == "none"
    assert "no tensor for lm_head.weight" in caplog.text
    engine = Engine(loaded, quantization="int8")
    assert isinstance(engine.model.lm_head, Int8Linear)


def test_no_packed_copy_without_quantisation_or_with_an_adapter(
        tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    packed = _inline(monkeypatch)
    assert load_model(str(tiny_model_dir), dtype="float32").quantization == "none"
    assert packed == []


def test_an_engine_refuses_weights_packed_in_another_format(tiny_model_dir: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _inline(monkeypatch)
    loaded = load_model(str(tiny_model_dir), dtype="float32", quantization="int8")
    with pytest.raises(ValueError, match="loaded with int8 weights, not none"):
        Engine(loaded, quantization="none")


def test_unsupported_layout_is_found_before_anything_is_written(
        tmp_path: Path, tiny_model_dir: Path) -> None:
    from safetensors.torch import load_file, save_file

    folder = tmp_path / "renamed"
    shutil.copytree(tiny_model_dir, folder)
    tensors = load_file(str(folder / "model.safetensors"))
    tensors["model.final_norm.weight"] = tensors.pop("model.norm.weight")
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(packing.UnsupportedLayout, match=r"model\.norm\.weight"):
        packing.write_packed(folder, "int8", "float32", tmp_path / "out")
    assert not (tmp_path / "out").exists()
