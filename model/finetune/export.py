"""Exporting an installed adapter for the inference servers teams run.

- :func:`export_lora`: the peft LoRA adapter as vLLM loads it (``--enable-lora --lora-modules
  NAME=DIR``; a request then picks it with ``"model": NAME``), its base model named by its hub
  id when Kodama knows it, plus ``SERVING.md`` with the commands.
- :func:`export_merged`: the base model with the adapter merged in, as a plain Hugging Face
  folder (safetensors + tokenizer) that vLLM and TGI serve directly and llama.cpp's
  ``convert_hf_to_gguf.py`` turns into a GGUF. Works for every method (LoRA, top, full).

Both write into a scratch folder beside the destination and rename it into place, so an
interrupted export never leaves a half-written folder under the destination's name.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from kodama.model.errors import KodamaError

LORA_FILES = ("adapter_config.json", "adapter_model.safetensors")


def _fresh(dest: Path) -> Path:
    """A scratch folder beside ``dest``; refuses a ``dest`` that exists and is not empty."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise KodamaError(f"{dest} already exists: choose a new folder for the export")
    dest.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))


def _finish(scratch: Path, dest: Path) -> Path:
    if dest.exists():
        dest.rmdir()  # empty (checked by _fresh)
    scratch.rename(dest)
    return dest


def serving_notes(name: str, base: str, dest: Path, *, merged: bool, rank: int = 16) -> str:
    """``SERVING.md``: how to serve the export and point Kodama at it."""
    if merged:
        serve = (f"vllm serve {dest} --served-model-name {name}\n"
                 f"# or TGI: text-generation-launcher --model-id {dest}\n"
                 f"# or llama.cpp: python convert_hf_to_gguf.py {dest} --outfile {name}.gguf\n"
                 f"#               llama-server -m {name}.gguf --alias {name}")
    else:
        serve = (f"vllm serve {base} --enable-lora --max-lora-rank {max(rank, 16)} \\\n"
                 f"    --lora-modules {name}={dest}")
    return (
        f"# {name}\n\n"
        f"A Kodama fine-tune of `{base}`"
        f"{' with the adapter merged into the weights' if merged else ' (a LoRA adapter)'}.\n\n"
        "Serve it:\n\n```bash\n" + serve + "\n```\n\n"
        "Then point each developer's Kodama at the server (editor settings or command line):"
        "\n\n```bash\n"
        f"kodama serve --remote http://SERVER:8000/v1 --remote-model {name}\n```\n"
    )


def export_lora(adapter: Path, dest: Path, *, name: str, base: str) -> Path:
    """Copy the LoRA adapter in ``adapter`` to ``dest`` in peft's format (what vLLM's LoRA
    modules load), with ``base`` as its base model; KodamaError if it is not a LoRA adapter."""
    if not (adapter / "adapter_config.json").is_file():
        raise KodamaError(f"{adapter} is not a LoRA adapter (it was trained with method top or "
                          "full): export it with --merged")
    scratch = _fresh(dest)
    try:
        for file in LORA_FILES:
            shutil.copy2(adapter / file, scratch / file)
        config_path = scratch / "adapter_config.json"
        config = json.loads(config_path.read_text(encoding="utf-8"))
        config["base_model_name_or_path"] = base
        # Leaf names (``q_proj`` …), as vLLM matches them; on this model they pick the very
        # same layers as the full paths peft recorded.
        targets = config.get("target_modules")
        if isinstance(targets, list):
            config["target_modules"] = sorted({str(t).rsplit(".", 1)[-1] for t in targets})
        config["inference_mode"] = True
        config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        notes = serving_notes(name, base, dest, merged=False, rank=int(config.get("r", 16)))
        (scratch / "SERVING.md").write_text(notes, encoding="utf-8")
        return _finish(scratch, dest)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise


def export_merged(load: Callable[[], tuple[object, object]], dest: Path, *, name: str,
                  base: str) -> Path:
    """Save the merged model ``load()`` returns (``(model, tokenizer)``, adapter applied) as a
    Hugging Face folder at ``dest``."""
    scratch = _fresh(dest)
    try:
        model, tokenizer = load()
        model.save_pretrained(str(scratch), safe_serialization=True)  # type: ignore[attr-defined]
        tokenizer.save_pretrained(str(scratch))  # type: ignore[attr-defined]
        (scratch / "SERVING.md").write_text(serving_notes(name, base, dest, merged=True),
                                            encoding="utf-8")
        return _finish(scratch, dest)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
