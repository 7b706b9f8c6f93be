"""Nothing unsafe is loaded (tiny model): an adapter in a pickle format, a damaged or hostile
adapter folder (truncated safetensors, wrong shapes, JSON that is not an object, a link out
of it) gives a clear error and the server keeps serving the base model; a damaged or hostile
run folder is refused by ``--resume`` with a clear message; no Kodama source loads a pickle."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers.repos import fine_tune, make_repo
from kodama.model.config import FineTuneConfig, ModelConfig
from kodama.model.finetune.adapter import TRAINED_FILE, make_trainable
from kodama.model.finetune.store import repo_key
from kodama.model.loader import AdapterLoadError, load_model
from kodama.model.weights import cache_root
from kodama.server.model_host import ModelHost

ROOT = Path(__file__).resolve().parents[2]
WEIGHTS = "adapter_model.safetensors"


def _pickled(folder: Path) -> None:
    os.rename(folder / WEIGHTS, folder / "adapter_model.bin")


def _truncated(folder: Path) -> None:
    data = (folder / WEIGHTS).read_bytes()
    (folder / WEIGHTS).write_bytes(data[: len(data) // 2])


def _wrong_shapes(folder: Path) -> None:
    config = json.loads((folder / "adapter_config.json").read_text())
    config["r"] = 4  # the tensors are rank 16
    (folder / "adapter_config.json").write_text(json.dumps(config))


def _config_not_an_object(folder: Path) -> None:
    (folder / "adapter_config.json").write_text("[1, 2, 3]")


def _linked_out(folder: Path) -> None:
    outside = folder.parent / "elsewhere.safetensors"
    shutil.move(folder / WEIGHTS, outside)
    (folder / WEIGHTS).symlink_to(outside)


def _trained_for_another_model(folder: Path) -> None:
    import torch
    from safetensors.torch import save_file

    for entry in folder.iterdir():
        entry.unlink()
    save_file({"model.norm.weight": torch.ones(3)}, str(folder / TRAINED_FILE))


HOSTILE: dict[str, tuple[Callable[[Path], None], str]] = {
    "pickle": (_pickled, "adapter_model.bin is a pickle, which can run code when loaded: "
                         "Kodama loads adapters from safetensors only"),
    "truncated": (_truncated, f"{WEIGHTS} is damaged (Error while deserializing header"),
    "wrong shapes": (_wrong_shapes, "size mismatch"),
    "JSON not an object": (_config_not_an_object,
                           "adapter_config.json does not hold a JSON object"),
    "link": (_linked_out, f"{WEIGHTS} is a link to "),
    "another model": (_trained_for_another_model, "model.norm.weight has the shape (3,) "
                                                  "where this model's is "),
}


def hostile_adapter(tmp_path: Path, model_dir: Path, case: str) -> Path:
    folder = tmp_path / "adapter"
    model = make_trainable(load_model(str(model_dir), dtype="float32").model, FineTuneConfig())
    model.save_pretrained(str(folder))
    HOSTILE[case][0](folder)
    return folder


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_adapter_is_refused_and_the_server_serves_the_base_model(
        tmp_path: Path, tiny_model_dir: Path, case: str) -> None:
    folder = hostile_adapter(tmp_path, tiny_model_dir, case)
    with pytest.raises(AdapterLoadError) as raised:
        load_model(str(tiny_model_dir), dtype="float32", adapter=folder)
    assert HOSTILE[case][1] in str(raised.value)
    assert "model.adapter to none" in str(raised.value)

    host = ModelHost(ModelConfig(name=str(tiny_model_dir), dtype="float32",
                                 quantization="none", adapter=str(folder)))
    states: list[tuple[str, str]] = []
    host.start_loading(lambda _m, _f: None, lambda s, m: states.append((s, m))).result(120)
    try:
        assert host.state == "ready" and host.engine is not None and host.adapter is None
        assert "the fine-tuned adapter was not loaded" in host.message
        assert HOSTILE[case][1] in host.message
        assert states[-1] == ("ready", host.message)
    finally:
        host.shutdown()


def _run_folder(root: Path, tiny_model_dir: Path) -> Path:
    """A run killed right after its data was prepared (what ``--resume`` reads first)."""
    assert fine_tune(root, tiny_model_dir, "--max-steps", "2", "--no-install") == 0
    run_dir = sorted((cache_root() / "finetune" / repo_key(root)).glob("run-*"))[-1]
    (run_dir / "done").unlink()
    return run_dir


def test_a_damaged_or_hostile_run_folder_is_refused_with_a_clear_message(
        tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_repo(tmp_path / "repo")
    run_dir = _run_folder(root, tiny_model_dir)
    sequences = run_dir / "sequences.safetensors"
    original = sequences.read_bytes()
    capsys.readouterr()

    def resume_says(expected: str) -> None:
        assert fine_tune(root, tiny_model_dir, "--max-steps", "2", "--resume") == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err
        said = [line for line in err.splitlines() if line.startswith("kodama: ")]
        assert len(said) == 1, said
        assert said[0].startswith(f"kodama: the interrupted fine-tune in {run_dir} cannot be "
                                  f"resumed: {expected}"), said
        assert said[0].endswith(". Start it again without --resume"), said

    sequences.write_bytes(original[:-100])
    resume_says("the prepared dataset is damaged (SafetensorError: Error while deserializing "
                "header: incomplete metadata, file not fully covered)")
    outside = tmp_path / "outside.safetensors"
    outside.write_bytes(original)
    sequences.unlink()
    sequences.symlink_to(outside)
    resume_says(f"{sequences} is a link to {outside}, not a file Kodama wrote")
    sequences.unlink()
    sequences.write_bytes(original)
    (run_dir / "plan.json").write_text('["not", "a", "plan"]')
    resume_says(f"{run_dir / 'plan.json'} does not hold a JSON object")
    (run_dir / "plan.json").write_text('{"steps": "many"}')
    resume_says(f"{run_dir / 'plan.json'} is damaged (TypeError: Plan.__init__() missing")


def test_no_kodama_source_loads_a_pickle() -> None:
    # Adapters, datasets and checkpoints are safetensors and JSON; the optimiser's state is
    # read by torch's weights-only loader; the schedule is not saved (accelerate would pickle
    # it and read it back with weights_only=False).
    unsafe = re.compile(r"\bpickle\b\.|import pickle|torch\.load\(|weights_only\s*=\s*False|"
                        r"register_for_checkpointing|load_custom_state")
    found = [f"{path.relative_to(ROOT)}:{n}" for folder in ("model", "server", "syntax")
             for path in sorted((ROOT / folder).rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if unsafe.search(line)]
    assert found == []
