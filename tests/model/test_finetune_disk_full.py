"""A full disk during a fine-tune (tiny model): a checkpoint that cannot be written (simulated,
and on a real tiny tmpfs where it can be mounted) or an install that cannot be copied is
reported with the folder and the space needed, the previous checkpoint or installed adapter
intact, and the run resumes once there is space."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import pytest

from helpers.faults import fill, install_previous, tiny_disk
from helpers.repos import fine_tune, make_repo
from kodama.model.config import FineTuneConfig
from kodama.model.finetune import store as store_module
from kodama.model.finetune import train as ftrain
from kodama.model.finetune.adapter import make_trainable
from kodama.model.finetune.data import PackedSequence
from kodama.model.finetune.durable_files import DiskFull
from kodama.model.finetune.planning import Plan
from kodama.model.finetune.store import AdapterStore
from kodama.model.loader import load_model

DATA = [PackedSequence([(i * 7 + k) % 400 + 10 for k in range(40)],
                       [(i * 7 + k) % 400 + 10 for k in range(40)]) for i in range(12)]
PLAN = Plan(steps=10, epochs=1.0, eval_every=100, learning_rate=1e-3, step_seconds=0.1,
            limited_by="max_steps")
CONFIG = FineTuneConfig(gradient_accumulation=1, patience=100)


def _train(model_dir: Path, run_dir: Path, *, resume: bool = False,
           on_log: ftrain.Log | None = None) -> tuple[Any, ftrain.State]:
    from accelerate import Accelerator

    accelerator = Accelerator(gradient_accumulation_steps=1, cpu=True)
    model = make_trainable(load_model(str(model_dir), dtype="float32").model, CONFIG)
    state = ftrain.train(model, DATA, DATA[:2], CONFIG, PLAN, run_dir, accelerator, pad_id=0,
                         checkpoint_every=3, resume=resume, on_log=on_log)
    return accelerator, state


def _saved_step(run_dir: Path) -> int:
    return int(json.loads((run_dir / "checkpoint" / "state.json").read_text())["step"])


def _assert_reported_and_resumable(raised: DiskFull, run_dir: Path, model_dir: Path) -> None:
    message = str(raised)
    assert message.startswith("No space left on device: the checkpoint needs about ")
    assert f" in {run_dir} (" in message and "--resume" in message
    assert _saved_step(run_dir) == 3, "the previous checkpoint is intact"
    assert sorted(p.name for p in run_dir.iterdir() if "checkpoint" in p.name) == ["checkpoint"]
    _, state = _train(model_dir, run_dir, resume=True)
    assert state.step == 10
    assert [p["step"] for p in state.history if "train_loss" in p] == list(range(1, 11))


def test_a_checkpoint_that_finds_the_disk_full_keeps_the_previous_one(
        tmp_path: Path, tiny_model_dir: Path) -> None:
    run_dir = tmp_path / "run"
    patched: list[Any] = []

    def disk_fills_up(state: ftrain.State, point: dict[str, float]) -> None:
        if state.step == 4 and not patched:
            from accelerate import Accelerator

            def full(self: Any, output_dir: str, **kwargs: Any) -> None:
                Path(output_dir).mkdir(parents=True, exist_ok=True)
                (Path(output_dir) / "model.safetensors").write_bytes(b"partial")
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

            patched.append(pytest.MonkeyPatch())
            patched[0].setattr(Accelerator, "save_state", full)

    try:
        with pytest.raises(DiskFull) as raised:
            _train(tiny_model_dir, run_dir, on_log=disk_fills_up)
    finally:
        patched[0].undo()
    _assert_reported_and_resumable(raised.value, run_dir, tiny_model_dir)


def test_a_real_full_disk_at_a_checkpoint_keeps_the_previous_one(
        tmp_path: Path, tiny_model_dir: Path) -> None:
    with tiny_disk(tmp_path / "disk", 4096) as disk:
        run_dir = disk / "run"
        filler: list[Path] = []

        def disk_fills_up(state: ftrain.State, point: dict[str, float]) -> None:
            if state.step == 4 and not filler:
                filler.append(fill(disk, 50_000))

        with pytest.raises(DiskFull) as raised:
            _train(tiny_model_dir, run_dir, on_log=disk_fills_up)
        filler[0].unlink()
        _assert_reported_and_resumable(raised.value, run_dir, tiny_model_dir)


def test_an_install_that_finds_the_disk_full_is_reported_and_resume_installs(
        tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    root = make_repo(tmp_path / "repo")
    flags = ("--max-steps", "3", "--install", "always")
    first = install_previous(root, tiny_model_dir, tmp_path)

    def full(source: Path, target: Path) -> tuple[int, str]:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patch:
        patch.setattr(store_module, "copy_file", full)
        assert fine_tune(root, tiny_model_dir, *flags, "--fresh") == 2
    said = [line for line in capsys.readouterr().err.splitlines() if line.startswith("kodama:")]
    assert len(said) == 1 and said[0].startswith(
        "kodama: No space left on device: installing the adapter needs about ")
    assert f"Free some space, then run `kodama fine-tune {root.resolve()} --resume`" in said[0]
    current = AdapterStore().current(root)
    assert current is not None and current.version == first.version
    assert AdapterStore().verify(current) is None
    assert fine_tune(root, tiny_model_dir, *flags, "--resume") == 0
    now = AdapterStore().current(root)
    assert now is not None and now.version != first.version
