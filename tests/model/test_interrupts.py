"""Ctrl-C in the first second of every ``kodama`` command (tiny model) exits 130 without a
traceback: while Python imports Kodama, while the model loads, while it works.

SIGINT goes to the command's whole process group, as a terminal sends it (``kodama demo``'s
server included). A command that finished before the signal is left out (``adapters list``
may); every other one must answer 130.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.repos import make_repo


def commands(root: Path, model: Path) -> dict[str, list[str]]:
    source = f"{root / 'pkg' / 'mod1.py'}"
    flags = ["--model", str(model), "--threads", "1"]
    return {
        "serve": ["serve", *flags],
        "complete": ["complete", f"{source}:4:5", *flags],
        "eval": ["eval", str(root), "--model", str(model), "--holes", "4"],
        "explain": ["explain", f"{source}:4", *flags],
        "docstring": ["docstring", f"{source}:4", *flags],
        "tests": ["tests", f"{source}:4", *flags],
        "fine-tune": ["fine-tune", str(root), *flags, "--max-steps", "500",
                      "--install", "never"],
        "adapters": ["adapters", "list", str(root)],
        "demo": ["demo", *flags],
    }


def _default_sigint() -> None:
    # Whatever SIGINT disposition the test process runs with, the command gets a terminal's.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(args: list[str], cache: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "KODAMA_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen([sys.executable, "-m", "kodama.server", *args], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=_default_sigint)


def interrupt(process: subprocess.Popen[str]) -> tuple[bool, int, str]:
    """Ctrl-C now, unless it already ended: (signalled, exit status, everything it wrote)."""
    signalled = process.poll() is None
    if signalled:
        os.killpg(process.pid, signal.SIGINT)
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
    return signalled, process.returncode, out + err


def check(name: str, signalled: bool, code: int, output: str) -> str | None:
    if signalled and (code != 130 or "Traceback" in output):
        return f"{name}: exit {code}\n{output[-2000:]}"
    return None


@pytest.mark.parametrize("delay", [0.15, 0.8])
def test_ctrl_c_in_the_first_second_exits_130_without_a_traceback(
        tmp_path: Path, tiny_model_dir: Path, kodama_cache_dir: Path, delay: float) -> None:
    root = make_repo(tmp_path / "repo")
    problems: list[str] = []
    signalled: list[str] = []
    for name, args in commands(root, tiny_model_dir).items():
        process = start(args, kodama_cache_dir)
        time.sleep(delay)
        sent, code, output = interrupt(process)
        if sent:
            signalled.append(name)
        problem = check(name, sent, code, output)
        if problem:
            problems.append(problem)
    assert problems == []
    assert set(signalled) >= set(commands(root, tiny_model_dir)) - {"adapters"}
