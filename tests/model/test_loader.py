"""Tests for kodama.model.loader: resolving specs, loading, errors, and the real default model."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from helpers.tiny_model import make_tiny_gguf
from kodama.model import loader
from kodama.model.errors import ModelLoadError
from kodama.model.loader import LoadedModel, ModelSource, load_model, resolve
from kodama.model.presets import DEFAULT_PRESET, PRESETS
from kodama.model.weights import is_complete

# --- resolve ---------------------------------------------------------------------------------


def test_resolve_presets_and_aliases() -> None:
    default = PRESETS[DEFAULT_PRESET]
    assert resolve("qwen2.5-coder-0.5b") == ModelSource("preset", DEFAULT_PRESET, default)
    assert resolve("default") == ModelSource("preset", DEFAULT_PRESET, default)
    assert resolve(" SmolLM2-135M ").preset is PRESETS["smollm2-135m"]


def test_resolve_local_folder_and_gguf_file(tmp_path: Path) -> None:
    gguf = tmp_path / "m.GGUF"
    gguf.write_bytes(b"GGUF")
    assert resolve(str(tmp_path)) == ModelSource("path", str(tmp_path.resolve()), None)
    assert resolve(str(gguf)) == ModelSource("gguf", str(gguf.resolve()), None)


def test_resolve_relative_folder_before_hub_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "org" / "name").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert resolve("org/name").kind == "path"
    assert resolve("Qwen/Qwen2.5-Coder-0.5B-Instruct") == ModelSource(
        "hub", "Qwen/Qwen2.5-Coder-0.5B-Instruct", None
    )


@pytest.mark.parametrize(
    "spec", ["/no/such/model", "./nowhere", "~/kodama-no-such-dir", "missing.gguf", "a/b/c.gguf"]
)
def test_resolve_missing_paths(spec: str) -> None:
    with pytest.raises(ModelLoadError, match="no such file or directory"):
        resolve(spec)


@pytest.mark.parametrize("spec", ["gpt-9", "", "a/b/c", "org/"])
def test_resolve_unknown_lists_the_presets(spec: str) -> None:
    with pytest.raises(ModelLoadError) as info:
        resolve(spec)
    assert "qwen2.5-coder-0.5b" in str(info.value) and "smollm2-135m" in str(info.value)


def test_resolve_rejects_a_file_that_is_not_gguf(tmp_path: Path) -> None:
    other = tmp_path / "weights.bin"
    other.write_bytes(b"x")
    with pytest.raises(ModelLoadError, match=r"not a \.gguf file"):
        resolve(str(other))


def test_importing_the_loader_does_not_import_torch() -> None:
    code = "import sys, kodama.model.loader; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"


# --- loading ---------------------------------------------------------------------------------


def test_load_tiny_model_and_generate(
    tiny_model_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    reports: list[tuple[str, float | None]] = []
    threads = torch.get_num_threads()
    loaded = load_model(
        str(tiny_model_dir),
        dtype="float32",
        threads=1,
        progress=lambda m, f: reports.append((m, f)),
    )
    assert torch.get_num_threads() == 1
    torch.set_num_threads(threads)
    assert isinstance(loaded, LoadedModel)
    assert loaded.name == tiny_model_dir.name
    assert loaded.source == ModelSource("path", str(tiny_model_dir.resolve()), None)
    assert loaded.dtype == "float32" and loaded.model.dtype == torch.float32
    assert not loaded.model.training
    assert loaded.load_seconds > 0
    assert any(m.startswith("Loading ") for m, _ in reports)
    tokenizer = loaded.tokenizer
    prompt = "<|fim_prefix|>def fibonacci(n):\n    <|fim_suffix|>\n<|fim_middle|>"
    inputs = tokenizer(prompt, return_tensors="pt")
    assert inputs["input_ids"][0, 0].item() == tokenizer.convert_tokens_to_ids("<|fim_prefix|>")
    output = loaded.model.generate(**inputs, max_new_tokens=6, do_sample=False, eos_token_id=None)
    assert output.shape[1] == inputs["input_ids"].shape[1] + 6
    chat = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False)
    assert chat == "<|im_start|>user\nhi<|im_end|>\n"
    assert capfd.readouterr().out == ""  # stdout is the LSP channel


def test_auto_dtype_follows_the_cpu(tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "bf16_is_fast", lambda: False)
    assert load_model(str(tiny_model_dir)).dtype == "float32"
    monkeypatch.setattr(loader, "bf16_is_fast", lambda: True)
    loaded = load_model(str(tiny_model_dir))
    assert loaded.dtype == "bfloat16" and loaded.model.dtype == torch.bfloat16


def test_load_gguf_file_converts_once_and_matches_the_original(
    tiny_model_dir: Path,
    tmp_path: Path,
    kodama_cache_dir: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    gguf = make_tiny_gguf(tiny_model_dir, tmp_path / "tiny.gguf")
    from_gguf = load_model(str(gguf), dtype="bfloat16")
    assert from_gguf.source.kind == "gguf" and from_gguf.name == "tiny"
    assert capfd.readouterr().out == ""  # conversion printed nothing on stdout either
    converted = [p for p in (kodama_cache_dir / "models").iterdir() if p.name.startswith("tiny-")]
    assert len(converted) == 1 and is_complete(converted[0])
    original = load_model(str(tiny_model_dir), dtype="bfloat16")
    text = "def fibonacci(n):\n    return n"
    ids = original.tokenizer(text, return_tensors="pt")["input_ids"]
    assert ids.tolist() == from_gguf.tokenizer(text, return_tensors="pt")["input_ids"].tolist()
    with torch.no_grad():
        expected = original.model(ids).logits
        actual = from_gguf.model(ids).logits
    assert torch.equal(expected, actual)  # stored bf16 == original weights cast to bf16
    eos = from_gguf.model.generation_config.eos_token_id
    assert set(eos) == set(
        from_gguf.tokenizer.convert_tokens_to_ids(["<|endoftext|>", "<|im_end|>"])
    )


def test_folder_without_config_is_explained(tmp_path: Path) -> None:
    (tmp_path / "model.gguf").write_bytes(b"GGUF")
    with pytest.raises(ModelLoadError, match=r"no config\.json.*model\.gguf"):
        load_model(str(tmp_path))


def test_broken_model_folder_chains_the_cause(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"model_type": "qwen2"}', encoding="utf-8")
    with pytest.raises(ModelLoadError) as info:
        load_model(str(tmp_path), dtype="float32")
    assert str(tmp_path) in str(info.value)
    assert info.value.__cause__ is not None


def test_hub_id_offline_fails_fast_and_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    with pytest.raises(ModelLoadError) as info:
        load_model("kodama-tests/no-such-model-anywhere")
    # Offline means no network wait at all; the bound only catches a hang on a busy machine.
    assert time.perf_counter() - started < 60
    message = str(info.value)
    assert "kodama-tests/no-such-model-anywhere" in message
    assert "hub cannot be reached" in message and "local path" in message
    assert info.value.__cause__ is not None


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="dtype"):
        load_model("default", dtype="float16")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="threads"):
        load_model("default", threads=0)


# --- the real default model ------------------------------------------------------------------


@pytest.mark.real_model
def test_default_model_completes_fibonacci(default_model_dir: Path) -> None:
    assert is_complete(default_model_dir)
    loaded = load_model("default")
    assert loaded.name == DEFAULT_PRESET and loaded.source.kind == "preset"
    tokenizer = loaded.tokenizer
    prompt = (
        "<|fim_prefix|>def fibonacci(n):\n    <|fim_suffix|>\n\nprint(fibonacci(10))\n"
        "<|fim_middle|>"
    )
    inputs = tokenizer(prompt, return_tensors="pt")
    with torch.inference_mode():
        output = loaded.model.generate(**inputs, max_new_tokens=32, do_sample=False)
    completion = tokenizer.decode(
        output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True
    )
    assert completion.strip()
    assert "return" in completion
