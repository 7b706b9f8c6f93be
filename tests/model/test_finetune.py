"""``kodama fine-tune`` end to end on the tiny model: data → plan → before → train → after →
report → install; Ctrl-C and killed runs resume; adapters roll back; continual learning; the
served model changes with the adapter."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import torch

from helpers.repos import FAST, fine_tune, make_repo, module
from kodama.model.config import FineTuneConfig
from kodama.model.finetune import train as ftrain
from kodama.model.finetune.adapter import TRAINED_FILE, apply_trained, make_trainable
from kodama.model.finetune.batches import mean_loss
from kodama.model.finetune.data import PackedSequence
from kodama.model.finetune.planning import Plan
from kodama.model.finetune.store import AdapterStore, repo_key
from kodama.model.loader import load_model
from kodama.model.weights import cache_root
from kodama.server.commands.cli import main


def run_dirs(root: Path) -> list[Path]:
    return sorted((cache_root() / "finetune" / repo_key(root)).glob("run-*"))


def test_dry_run_prints_statistics_and_an_estimate_without_training(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(tmp_path / "repo")
    assert fine_tune(root, tiny_model_dir, "--dry-run") == 0
    err = capsys.readouterr().err
    assert "train " in err and "validation " in err and "test " in err
    assert "left out: secret: secret file (.env) 1" in err
    assert "estimated time: training" in err
    assert "GB allowed (--max-memory); gradient checkpointing off" in err
    assert run_dirs(root) == []
    assert AdapterStore().current(root) is None


def test_a_max_memory_nothing_fits_stops_at_once_saying_what_would(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(tmp_path / "repo")
    started = time.perf_counter()
    assert fine_tune(root, tiny_model_dir, "--max-memory", "0.2") == 2
    assert time.perf_counter() - started < 60
    err = capsys.readouterr().err
    assert ("kodama: fine-tuning this 0.1M-parameter model (lora) needs at least 0.7 GB "
            "(runtime 0.6 GB), ") in err
    assert "it may use 0.2 GB (--max-memory 0.2). Pass --max-memory 0.7 if " in err
    assert "data:" not in err  # nothing was prepared, nothing trained
    assert run_dirs(root) == []  # the new run folder is removed
    assert AdapterStore().current(root) is None


def test_fine_tune_reports_installs_serves_rolls_back_and_continues(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(tmp_path / "repo")
    reports = tmp_path / "reports"
    assert fine_tune(root, tiny_model_dir, "--max-steps", "6", "--install", "always",
                     "--learning-rate", "0.01", "--report-dir", str(reports)) == 0
    out = capsys.readouterr()
    assert "## Before and after, on held-out files" in out.out
    report = json.loads((reports / "report.json").read_text())
    assert (reports / "report.png").read_bytes()[:4] == b"\x89PNG"
    assert "![loss curves" in (reports / "report.md").read_text()
    assert report["training"]["steps"] == 6
    assert report["results"]["holes"] == 6
    assert report["data"]["skipped"] == {"secret: secret file (.env)": 1}
    test_files = set(report["results"]["test_files"])
    assert test_files and report["data"]["splits"]["train"]["files"] + len(test_files) < 11
    first = AdapterStore().current(root)
    assert first is not None and report["installed"] == first.version
    assert first.meta["splits"] and all(first.meta["splits"][p] == "test" for p in test_files)

    # The adapter changes the model's predictions.
    ids = torch.tensor([[10, 20, 30, 40]])
    base = load_model(str(tiny_model_dir), dtype="float32")
    tuned = load_model(str(tiny_model_dir), dtype="float32", adapter=first.path)
    with torch.no_grad():
        assert not torch.allclose(base.model(ids).logits, tuned.model(ids).logits)
    assert "+" in tuned.name

    # Nothing changed: nothing to learn.
    assert fine_tune(root, tiny_model_dir, "--max-steps", "6") == 0
    assert "nothing new to learn" in capsys.readouterr().err

    # A changed training file: continue from the installed adapter, measure forgetting.
    train_file = next(p for p, s in first.meta["splits"].items() if s == "train")
    (root / train_file).write_text(module(40))
    assert fine_tune(root, tiny_model_dir, "--max-steps", "4", "--install", "always",
                     "--report-dir", str(reports)) == 0
    err = capsys.readouterr().err
    assert f"continuing from adapter {first.version}: 1 training files changed" in err
    second = json.loads((reports / "report.json").read_text())
    assert second["data"]["continued_from"] == first.version
    assert second["forgetting"]["holes"] == 6
    # The test files did not change: the same holes, the first adapter's recorded answers.
    assert second["results"]["hole_set"] == report["results"]["hole_set"]
    assert second["forgetting"]["previous_exact"] == report["results"]["tuned"]["exact_count"]
    assert second["forgetting"]["exact"] == second["results"]["tuned"]["exact_count"]
    assert second["forgetting"]["base_exact"] == second["results"]["base"]["exact_count"]
    now = AdapterStore().current(root)
    assert now is not None and now.version != first.version

    # Roll back, list, remove.
    assert main(["adapters", "rollback", str(root)]) == 0
    current = AdapterStore().current(root)
    assert current is not None and current.version == first.version
    assert main(["adapters", "list", str(root)]) == 0
    assert f"* {first.version}" in capsys.readouterr().out
    assert main(["adapters", "remove", str(root)]) == 0
    assert AdapterStore().current(root) is None


def test_an_adapter_that_is_not_better_is_not_installed(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(tmp_path / "repo")
    assert fine_tune(root, tiny_model_dir, "--max-steps", "2", "--no-install") == 0
    assert "not installed (--no-install)" in capsys.readouterr().err
    assert AdapterStore().current(root) is None
    # The tiny model's noise matches no hole before or after: "better" cannot hold.
    assert fine_tune(root, tiny_model_dir, "--max-steps", "2", "--fresh") == 0
    report = json.loads((run_dirs(root)[-1] / "report.json").read_text())
    base, tuned = report["results"]["base"], report["results"]["tuned"]
    better = tuned["exact_count"] > base["exact_count"] or (
        tuned["exact_count"] == base["exact_count"]
        and tuned["edit_similarity"] > base["edit_similarity"])
    assert bool(report["installed"]) == better
    assert (AdapterStore().current(root) is not None) == better


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_saves_a_checkpoint_and_resume_finishes_the_run(
    tmp_path: Path, tiny_model_dir: Path, kodama_cache_dir: Path
) -> None:
    # The tiny model trains ~100 steps/s: enough steps that Ctrl-C surely lands in training.
    steps_planned = 1500
    root = make_repo(tmp_path / "repo", files=14)
    env = {**os.environ, "KODAMA_CACHE_DIR": str(kodama_cache_dir), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "kodama.server", "fine-tune", str(root), "--model",
               str(tiny_model_dir), *FAST, "--max-steps", str(steps_planned), "--max-minutes", "0",
               "--sequence-tokens", "128", "--gradient-accumulation", "1",
               "--no-install", "--patience", "1000", "--epochs", "20"]
    # Ctrl-C as a terminal sends it, whatever SIGINT disposition the test process runs with
    # (a child started with SIGINT ignored would never see it).
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True,
                               preexec_fn=_default_sigint)
    deadline = time.monotonic() + 240
    while not any((d / "checkpoint").is_dir() for d in run_dirs(root)):
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "no checkpoint after 240 s"
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "--resume" in err
    run_dir = run_dirs(root)[-1]
    saved = json.loads((run_dir / "checkpoint" / "state.json").read_text())
    assert 25 <= saved["step"] < steps_planned
    assert not (run_dir / "done").exists()

    resumed = subprocess.run([*command, "--resume"], env=env, capture_output=True, text=True,
                             timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads((run_dir / "report.json").read_text())
    steps = [p["step"] for p in report["training"]["history"] if "train_loss" in p]
    assert steps == list(range(1, steps_planned + 1)), "every step once, continued where it stopped"
    assert (run_dir / "done").exists()


def test_a_killed_run_resumes_from_its_last_periodic_checkpoint(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    from accelerate import Accelerator

    model = make_trainable(load_model(str(tiny_model_dir), dtype="float32").model,
                           FineTuneConfig())
    data = [PackedSequence([(i * 7 + k) % 400 + 10 for k in range(40)],
                      [(i * 7 + k) % 400 + 10 for k in range(40)]) for i in range(12)]
    config = FineTuneConfig(gradient_accumulation=2, patience=100)
    run_plan = Plan(steps=10, epochs=1.0, eval_every=5, learning_rate=1e-3,
                           step_seconds=0.1, limited_by="max_steps")
    run_dir = tmp_path / "run"

    def die_at_step_7(state: ftrain.State, point: dict[str, float]) -> None:
        if state.step == 7:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        ftrain.train(model, data, data[:2], config, run_plan, run_dir,
                     Accelerator(gradient_accumulation_steps=2, cpu=True), pad_id=0,
                     checkpoint_every=3, on_log=die_at_step_7)
    assert json.loads((run_dir / "checkpoint" / "state.json").read_text())["step"] == 6
    fresh = make_trainable(load_model(str(tiny_model_dir), dtype="float32").model,
                           FineTuneConfig())
    state = ftrain.train(fresh, data, data[:2], config, run_plan, run_dir,
                         Accelerator(gradient_accumulation_steps=2, cpu=True), pad_id=0,
                         checkpoint_every=3, resume=True)
    assert state.step == 10
    steps = [p["step"] for p in state.history if "train_loss" in p]
    assert steps == list(range(1, 11))
    assert (run_dir / "best" / "adapter_config.json").is_file()
    assert not math.isinf(state.best_loss)


@pytest.mark.parametrize("method", ["top", "full"])
def test_top_layers_and_full_fine_tunes_install_and_apply(
    tmp_path: Path, tiny_model_dir: Path, method: str
) -> None:
    root = make_repo(tmp_path / "repo")
    assert fine_tune(root, tiny_model_dir, "--method", method, "--top-layers", "1",
                     "--max-steps", "3", "--learning-rate", "0.01", "--install", "always") == 0
    installed = AdapterStore().current(root)
    assert installed is not None and (installed.path / TRAINED_FILE).is_file()
    from safetensors.torch import load_file

    names = set(load_file(str(installed.path / TRAINED_FILE)))
    if method == "top":
        assert names and all(n.startswith(("model.layers.1.", "model.norm.")) for n in names)
    else:
        assert "model.embed_tokens.weight" in names and any("layers.0." in n for n in names)
    ids = torch.tensor([[10, 20, 30, 40]])
    base = load_model(str(tiny_model_dir), dtype="float32")
    tuned = load_model(str(tiny_model_dir), dtype="float32", adapter=installed.path)
    with torch.no_grad():
        assert not torch.allclose(base.model(ids).logits, tuned.model(ids).logits)


def _early_stopping_run(tmp_path: Path, tiny_model_dir: Path, start_loss: float | None) -> tuple[
        Any, list[PackedSequence], Any, float, ftrain.State]:
    from accelerate import Accelerator

    torch.manual_seed(0)
    model = make_trainable(load_model(str(tiny_model_dir), dtype="float32").model,
                           FineTuneConfig())
    data = [PackedSequence([(i * 7 + k) % 400 + 10 for k in range(40)],
                      [(i * 7 + k) % 400 + 10 for k in range(40)]) for i in range(8)]
    # A learning rate far too high: the validation loss soon stops improving.
    config = FineTuneConfig(gradient_accumulation=1, patience=2, optimizer="sgd")
    run_plan = Plan(steps=40, epochs=5.0, eval_every=1, learning_rate=50.0,
                           step_seconds=0.1, limited_by="max_steps")
    accelerator = Accelerator(gradient_accumulation_steps=1, cpu=True)
    before = mean_loss(model, data[:2], 0, accelerator)
    state = ftrain.train(model, data, data[:2], config, run_plan, tmp_path / "run",
                         accelerator, pad_id=0,
                         state=ftrain.State(best_loss=before if start_loss is None else start_loss))
    return model, data, accelerator, before, state


def test_early_stopping_keeps_the_weights_of_the_best_validation(
        tmp_path: Path, tiny_model_dir: Path) -> None:
    _, data, accelerator, before, state = _early_stopping_run(tmp_path, tiny_model_dir, None)
    assert state.finished.startswith("early stop")
    assert state.step < 40
    seen = [(0, before)] + [(h["step"], h["validation_loss"]) for h in state.history
                            if "validation_loss" in h]
    best_step, best_loss = min(seen, key=lambda point: point[1])
    assert (state.best_step, state.best_loss) == (best_step, pytest.approx(best_loss))
    # The kept weights are the best ones: loaded afresh they give the best validation loss.
    kept = load_model(str(tiny_model_dir), dtype="float32", adapter=tmp_path / "run" / "best")
    assert mean_loss(kept.model, data[:2], 0, accelerator) == pytest.approx(
        best_loss, rel=1e-4)


def test_a_run_that_beats_nothing_keeps_the_starting_weights(
        tmp_path: Path, tiny_model_dir: Path) -> None:
    # A starting loss of 0 cannot be beaten, as when a continued run only gets worse.
    _, _, _, _, state = _early_stopping_run(tmp_path, tiny_model_dir, 0.0)
    assert state.finished.startswith("early stop") and state.step == 2
    assert state.best_step == 0 and state.best_loss == 0.0
    from safetensors.torch import load_file

    weights = load_file(str(tmp_path / "run" / "best" / "adapter_model.safetensors"))
    assert weights and all(not t.any() for name, t in weights.items() if "lora_B" in name)


def test_wrapping_and_applying_an_adapter_warns_about_nothing(
        tmp_path: Path, tiny_model_dir: Path) -> None:
    # peft asks transformers 5 a deprecated question; the user's terminal must not show it.
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = make_trainable(load_model(str(tiny_model_dir), dtype="float32").model,
                               FineTuneConfig())
        model.save_pretrained(str(tmp_path / "adapter"))
        apply_trained(load_model(str(tiny_model_dir), dtype="float32").model,
                      tmp_path / "adapter")
    assert [str(w.message) for w in caught if issubclass(w.category, FutureWarning)] == []


def test_slower_steps_than_planned_stop_at_the_budget_with_a_last_validation(
        tmp_path: Path, tiny_model_dir: Path) -> None:
    from accelerate import Accelerator

    torch.manual_seed(0)
    model = make_trainable(load_model(str(tiny_model_dir), dtype="float32").model,
                           FineTuneConfig())
    data = [PackedSequence([(i * 7 + k) % 400 + 10 for k in range(40)],
                      [(i * 7 + k) % 400 + 10 for k in range(40)]) for i in range(8)]
    # Planned as if a step took 1 ms: 10,000 steps in a budget of 1.2 s cannot all run.
    config = FineTuneConfig(gradient_accumulation=1, max_minutes=0.02, patience=100)
    run_plan = Plan(steps=10_000, epochs=100.0, eval_every=5_000, learning_rate=1e-3,
                           step_seconds=0.001, limited_by="time budget")
    state = ftrain.train(model, data, data[:2], config, run_plan, tmp_path / "run",
                         Accelerator(gradient_accumulation_steps=1, cpu=True), pad_id=0)
    assert state.finished == "time budget reached"
    assert 1 <= state.step < 5_000
    validated = [h["step"] for h in state.history if "validation_loss" in h]
    assert validated == [state.step], "the weights reached are validated once, at the end"
    assert (tmp_path / "run" / "best" / "adapter_config.json").is_file()


def test_a_continued_run_that_learned_nothing_keeps_the_adapter_without_measuring_it_again(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(tmp_path / "repo")
    assert fine_tune(root, tiny_model_dir, "--max-steps", "3", "--install", "always") == 0
    first = AdapterStore().current(root)
    assert first is not None
    capsys.readouterr()
    # A training file and a test file change: new holes, and the previous run's to re-check.
    splits = first.meta["splits"]
    for kind, n in (("train", 41), ("test", 42)):
        (root / next(p for p, s in splits.items() if s == kind)).write_text(module(n))
    reports = tmp_path / "reports"
    assert fine_tune(root, tiny_model_dir, "--max-steps", "3", "--learning-rate", "1e-12",
                     "--report-dir", str(reports)) == 0
    err = capsys.readouterr().err
    report = json.loads((reports / "report.json").read_text())
    assert report["training"]["best_step"] == 0
    assert report["decision"].startswith("not installed: no validation improved")
    # The kept weights are the installed adapter's: its recorded answers stand, none redone.
    assert report["forgetting"] is None and "  old [" not in err and "tuned [" in err
    current = AdapterStore().current(root)
    assert current is not None and current.version == first.version


def test_resuming_a_run_prepared_by_an_older_kodama_says_to_start_again(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(tmp_path / "repo")
    old = run_dirs(root)
    older = cache_root() / "finetune" / repo_key(root) / "run-20240101-000000"
    older.mkdir(parents=True)
    (older / "dataset.pt").write_bytes(b"\x80\x04 a pickle of the older Kodama")
    assert old == [] and fine_tune(root, tiny_model_dir, "--resume") == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    said = [line for line in err.splitlines() if line.startswith("kodama: ")]
    assert said == [f"kodama: the interrupted fine-tune in {older} was prepared by an older "
                    "Kodama and cannot be resumed: start it again without --resume"]


def test_the_holes_are_completed_with_the_repository_context_budget_of_serving() -> None:
    from kodama.model.config import ContextConfig
    from kodama.server.commands.finetune import pipeline_settings
    from kodama.server.config import KodamaConfig

    budget = pipeline_settings(KodamaConfig(context=ContextConfig(tokens=77))).completion.budget
    assert budget.context_tokens == 77
    off = pipeline_settings(KodamaConfig(context=ContextConfig(enabled=False, tokens=77)))
    assert off.completion.budget.context_tokens == 0
