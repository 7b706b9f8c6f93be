"""``kodama fine-tune`` under ``accelerate launch`` with two CPU processes (a gloo group): one
adapter like the single-process run's, one plan, one report, and a killed run that resumes
from its last checkpoint. The same code path runs N GPUs (README, "For teams")."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from helpers.llama_server import free_port
from helpers.repos import FAST, fine_tune, make_repo
from kodama.model.finetune.store import AdapterStore


def launch(root: Path, model: Path, *extra: str) -> subprocess.Popen[str]:
    """``accelerate launch`` of two fine-tune processes on this CPU."""
    command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
               "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
               "--dynamo_backend", "no", "--main_process_port", str(free_port()),
               "-m", "kodama.server", "fine-tune", str(root), "--model", str(model), *FAST,
               *extra]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True, stdin=subprocess.DEVNULL)


def finish(process: subprocess.Popen[str], timeout: float = 400) -> str:
    out, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, out[-4000:]
    return out


def kill_all(marker: str) -> int:
    """SIGKILL every process whose command line mentions ``marker``; how many."""
    killed = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in command:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(proc.name), signal.SIGKILL)
                killed += 1
    return killed


def runs_of(root: Path) -> Path:
    from kodama.model.finetune.store import repo_key
    from kodama.model.weights import cache_root

    return cache_root() / "finetune" / repo_key(root)


def run_dir(root: Path) -> Path:
    runs = sorted(runs_of(root).glob("run-*"))
    assert len(runs) == 1, runs
    return runs[0]


def tensors(folder: Path) -> dict[str, tuple[int, ...]]:
    from safetensors.torch import load_file

    return {name: tuple(t.shape)
            for name, t in load_file(str(folder / "adapter_model.safetensors")).items()}


def test_two_processes_train_the_same_kind_of_adapter_as_one(
        tmp_path: Path, tiny_model_dir: Path) -> None:
    single = make_repo(tmp_path / "single")
    double = make_repo(tmp_path / "double")
    assert fine_tune(single, tiny_model_dir, "--max-steps", "4", "--install", "always") == 0
    out = finish(launch(double, tiny_model_dir, "--max-steps", "4", "--install", "always"))
    assert out.count("plan: 4 steps of 1×4×2 sequences") == 1, "planned and said once"
    assert out.count("`kodama serve` uses it") == 1, "one process evaluates and installs"
    one, two = AdapterStore().current(single), AdapterStore().current(double)
    assert one is not None and two is not None
    assert tensors(two.path) == tensors(one.path)
    assert (json.loads((two.path / "adapter_config.json").read_text())["r"]
            == json.loads((one.path / "adapter_config.json").read_text())["r"])
    report = json.loads((run_dir(double) / "report.json").read_text())
    assert report["training"]["steps"] == 4
    assert report["training"]["effective_batch"] == 8, "each step: 4 sequences × 2 processes"
    assert not list(Path.cwd().glob("checkpoint*")), "no process wrote outside the run folder"


def test_a_killed_two_process_run_resumes_from_its_checkpoint(
        tmp_path: Path, tiny_model_dir: Path) -> None:
    root = make_repo(tmp_path / "repo")
    steps = ["--max-steps", "40", "--epochs", "10", "--max-minutes", "0", "--patience", "100",
             "--install", "always"]
    process = launch(root, tiny_model_dir, *steps)
    state_file: Path | None = None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        found = sorted(runs_of(root).glob("run-*/checkpoint/state.json"))
        if found:
            state_file = found[0]
            break
        time.sleep(0.1)
    assert state_file is not None, "a checkpoint after 25 steps"
    killed = kill_all(str(root))  # the launcher and both workers (torchrun starts them in
    process.communicate(timeout=30)  # sessions of their own), as a crash or OOM would
    assert killed >= 3
    stopped_at = json.loads(state_file.read_text())["step"]
    assert stopped_at == 25
    assert AdapterStore().current(root) is None

    out = finish(launch(root, tiny_model_dir, *steps, "--resume"))
    assert out.count("resuming") == 1
    report = json.loads((run_dir(root) / "report.json").read_text())
    assert report["training"]["steps"] == 40, (report["training"]["finished"], out[-3000:])
    trained = [p["step"] for p in report["training"]["history"] if "train_loss" in p]
    assert trained == list(range(1, 41)), "steps 1–25+ before the kill, the rest after"
    assert AdapterStore().current(root) is not None
    shutil.rmtree(tmp_path / "repo")


def test_two_processes_under_a_time_budget_stop_together(
        tmp_path: Path, tiny_model_dir: Path) -> None:
    # With a budget every step asks all processes whether time is up (their clocks differ, and
    # the last validation is collective): one process stopping alone would hang the other.
    root = make_repo(tmp_path / "repo")
    out = finish(launch(root, tiny_model_dir, "--max-minutes", "0.05", "--max-steps", "400",
                        "--epochs", "100", "--patience", "100", "--no-install"))
    report = json.loads((run_dir(root) / "report.json").read_text())
    training = report["training"]
    assert training["limited_by"] == "time budget", out[-3000:]
    assert training["finished"] == "time budget reached" or \
        training["finished"].startswith("planned steps done"), training["finished"]
    validated = [p["step"] for p in training["history"] if "validation_loss" in p]
    assert validated[-1] == training["steps"], "the weights reached are validated"
    assert out.count("\nreport: ") == 1, "one process evaluates and reports"
