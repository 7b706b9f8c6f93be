"""Fault injection on ``kodama fine-tune`` (tiny model): SIGKILL at named points of every stage
(data, base scoring, training, a checkpoint's swap, the tuned scoring, the install) never
leaves a broken installed adapter, and ``--resume`` (or, before any data is saved, a plain
re-run) finishes the run.

The points are :func:`~kodama.model.finetune.durable_files.fault_point` calls, reached through
the ``KODAMA_FAULT_AT`` environment variable: the process kills itself there. Each kill is
followed by the next run of the chain, which recovers it. The table of where the run was
killed, what was left and how it recovered is printed (``pytest -s``). A few more points run
with ``KODAMA_LONG_FAULTS=1``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers.faults import install_previous
from helpers.repos import FAST, make_repo
from kodama.model.config import FineTuneConfig
from kodama.model.finetune import train as ftrain
from kodama.model.finetune.adapter import make_trainable
from kodama.model.finetune.data import PackedSequence
from kodama.model.finetune.durable_files import FAULT_ENV
from kodama.model.finetune.planning import Plan
from kodama.model.finetune.store import AdapterStore, Installed, repo_key
from kodama.model.loader import load_model
from kodama.model.weights import cache_root

LONG = os.environ.get("KODAMA_LONG_FAULTS") == "1"


@dataclass(frozen=True)
class Fault:
    """One run of the chain: killed at ``point`` (None: left to finish)."""

    point: str | None
    resume: bool
    stage: str
    """Where that is, for the table."""
    recovery: str
    """How the next run recovers, for the table."""
    said: str = ""
    """What the next run says when it recovers."""
    long: bool = False


CHAIN = [
    Fault("data", False, "data, before the dataset is saved",
          "--resume refuses (nothing to resume, exit 2); a plain re-run starts again"),
    Fault("base", False, "scoring the base model (no base_loss.json yet)",
          "--resume scores the base model and measures the losses again",
          "no checkpoint was saved before the run stopped: training starts again"),
    Fault("step@10", True, "training, step 10 (before the first checkpoint)",
          "--resume trains from the start",
          "no checkpoint was saved before the run stopped: training starts again"),
    Fault("swap:checkpoint", True, "between the two renames of the step-50 checkpoint",
          "--resume takes checkpoint.new (complete) and continues at step 50",
          "training continues from the checkpoint of step 50"),
    Fault("tuned", True, "scoring the tuned model", "--resume skips training (finished "
          "checkpoint) and scores again", "training continues from the checkpoint of step 60",
          long=True),
    Fault("install-copied", True, "install: files copied, not yet renamed into place",
          "--resume installs anew; the .incoming folder is cleaned up", long=True),
    Fault("install-published", True, "install: version in place, pointer not yet swapped",
          "--resume installs anew; prune removes the orphan version", long=True),
    Fault("installed", True, "after the install, before the run is marked done",
          "--resume keeps that version (no second install) and marks the run done"),
    Fault(None, True, "(not killed)", "finishes"),
]

FLAGS = [*FAST, "--max-steps", "60", "--epochs", "20", "--max-minutes", "0",
         "--sequence-tokens", "128", "--gradient-accumulation", "1", "--patience", "1000",
         "--install", "always", "--fresh"]


def fine_tune(root: Path, model: Path, fault: Fault,
              cache: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    env.update(KODAMA_CACHE_DIR=str(cache), PYTHONUNBUFFERED="1")
    if fault.point is not None:
        env[FAULT_ENV] = fault.point
    command = [sys.executable, "-m", "kodama.server", "fine-tune", str(root), "--model",
               str(model), *FLAGS, *(["--resume"] if fault.resume else [])]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)


def left_on_disk(root: Path, previous: Installed) -> str:
    """The run folder's entries and the adapter store's state, in a few words."""
    runs = sorted((cache_root() / "finetune" / repo_key(root)).glob("run-*"))
    run = ", ".join(sorted(p.name for p in runs[-1].iterdir())) or "(empty)" if runs else "none"
    current = AdapterStore().current(root)
    assert current is not None
    versions_dir = AdapterStore().base / repo_key(root) / "versions"
    others = sorted(p.name if p.name.startswith(".") else "another version"
                    for p in versions_dir.iterdir()
                    if p.name not in (previous.version, current.version))
    which = "the previous one" if current.version == previous.version else "this run's"
    return f"run folder: {run}; adapters: current = {which}" + \
        (f", also {', '.join(others)}" if others else "")


def assert_installed_adapter_is_whole(root: Path, model: Path, previous: Installed,
                                      fault: Fault) -> Installed:
    """Current, complete, loadable; still the previous one until this run installs."""
    store = AdapterStore()
    current = store.current(root)
    assert current is not None
    assert store.verify(current) is None
    if fault.point != "installed":
        assert current.version == previous.version, fault
    else:
        assert current.meta.get("run", "").startswith("run-")
    load_model(str(model), dtype="float32", adapter=current.path)
    return current


def test_sigkill_at_every_stage_loses_nothing_and_resume_finishes(
        tmp_path: Path, tiny_model_dir: Path, kodama_cache_dir: Path) -> None:
    root = make_repo(tmp_path / "repo", files=14)
    previous = install_previous(root, tiny_model_dir, tmp_path)
    table = ["| killed at | left on disk | recovery |", "|---|---|---|"]
    chain = [fault for fault in CHAIN if LONG or not fault.long]
    installed: Installed | None = None
    said = ""
    for fault in chain:
        done = fine_tune(root, tiny_model_dir, fault, kodama_cache_dir)
        assert said in done.stderr, (fault, done.stderr[-3000:])
        said = fault.said
        if fault.point is None:
            assert done.returncode == 0, done.stderr[-3000:]
            break
        assert done.returncode == -signal.SIGKILL, (fault, done.stderr[-3000:])
        installed = assert_installed_adapter_is_whole(root, tiny_model_dir, previous, fault)
        table.append(f"| {fault.stage} (`{fault.point}`) | {left_on_disk(root, previous)} | "
                     f"{fault.recovery} |")
        if fault.point == "data":
            refused = fine_tune(root, tiny_model_dir, Fault("never", True, "", ""),
                                kodama_cache_dir)
            assert refused.returncode == 2 and "Traceback" not in refused.stderr
            assert "no interrupted fine-tune" in refused.stderr
    print("\n" + "\n".join(table))

    run_dir = sorted((cache_root() / "finetune" / repo_key(root)).glob("run-*"))[-1]
    assert (run_dir / "done").is_file()
    report = json.loads((run_dir / "report.json").read_text())
    steps = [p["step"] for p in report["training"]["history"] if "train_loss" in p]
    assert steps == list(range(1, 61)), "every step once"
    store = AdapterStore()
    current = store.current(root)
    assert current is not None and installed is not None
    assert current.version == installed.version == report["installed"], "installed once"
    assert [v.version for v in store.versions(root)] == [previous.version, current.version]
    assert not [p for p in (store.base / repo_key(root) / "versions").iterdir()
                if p.name.startswith(".")]
    load_model(str(tiny_model_dir), dtype="float32", adapter=current.path)


def test_a_resumed_run_trains_exactly_as_the_uninterrupted_one(
        tmp_path: Path, tiny_model_dir: Path) -> None:
    # The learning-rate schedule is not saved (accelerate would pickle it): recomputed from the
    # step, it must give the resumed steps the rates the uninterrupted run had.
    from accelerate import Accelerator

    data = [PackedSequence([(i * 7 + k) % 400 + 10 for k in range(40)],
                           [(i * 7 + k) % 400 + 10 for k in range(40)]) for i in range(12)]
    config = FineTuneConfig(gradient_accumulation=1, patience=100, warmup=0.5)
    run_plan = Plan(steps=10, epochs=1.0, eval_every=100, learning_rate=1e-2,
                    step_seconds=0.1, limited_by="max_steps")

    def run(folder: Path, resume: bool = False, on_log: ftrain.Log | None = None,
            ) -> list[tuple[float, float]]:
        rates: list[tuple[float, float]] = []

        def log(state: ftrain.State, point: dict[str, float]) -> None:
            loss = next(p["train_loss"] for p in state.history if "train_loss" in p
                        and p["step"] == state.step)
            rates.append((point["learning_rate"], loss))
            if on_log is not None:
                on_log(state, point)

        model = make_trainable(load_model(str(tiny_model_dir), dtype="float32").model, config)
        ftrain.train(model, data, data[:2], config, run_plan, folder,
                     Accelerator(gradient_accumulation_steps=1, cpu=True), pad_id=0,
                     checkpoint_every=3, resume=resume, on_log=log)
        return rates

    whole = run(tmp_path / "whole")

    def die_at_step_7(state: ftrain.State, point: dict[str, float]) -> None:
        if state.step == 7:
            raise RuntimeError("killed")

    with contextlib.suppress(RuntimeError):
        run(tmp_path / "cut", on_log=die_at_step_7)
    resumed = run(tmp_path / "cut", resume=True)
    assert [rate for rate, _ in resumed] == pytest.approx([rate for rate, _ in whole[6:]])
    assert [loss for _, loss in resumed] == pytest.approx([loss for _, loss in whole[6:]],
                                                           rel=1e-4)
    assert not list((tmp_path / "cut" / "checkpoint").glob("custom_checkpoint*"))
