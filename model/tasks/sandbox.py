"""Where generated tests and documentation examples run before they are offered: a scratch copy
of the repository, the project's own interpreter, no network, time limits, cancellation.

- The repository's files (the walk's rules: no ignored, hidden or vendored files, no links) are
  copied into a temporary folder: the user's tree is never touched.
- Commands run there in a process group of their own, killed at the time limit or when the
  user cancels; in a network namespace of their own (``unshare -rn``, loopback only) where the
  system allows one, and in any case with ``_kodama_sandbox`` imported first, which refuses
  connections to other machines.
- While a command runs, the JSON lines it writes to its events file (``_kodama_sandbox`` as a
  pytest plugin, the example runner) are handed over as they come: progress, and what ran
  before a command had to be stopped.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

MAX_COPY_BYTES = 200 << 20
"""Largest repository (files the walk admits) copied to run tests in; larger ones are not run."""

PLUGIN = "_kodama_sandbox"
"""The module imported into the project's interpreter first (``model/tasks/_kodama_sandbox.py``)."""

POLL_S = 0.1

Event = dict[str, Any]


@dataclass
class Finished:
    """How a command ended."""

    returncode: int | None
    """None when it was stopped (time limit, cancelled)."""
    output: str
    events: list[Event] = field(default_factory=list)
    timed_out: bool = False
    cancelled: bool = False


def project_python(root: Path, configured: str = "") -> str:
    """The interpreter to run ``root``'s tests with: ``configured`` if set, else the
    repository's ``.venv``/``venv``, else the active virtual environment, else ``python3``."""
    if configured:
        return configured
    for name in (".venv", "venv", "env"):
        candidate = root / name / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        if candidate.is_file():
            return str(candidate)
    active = os.environ.get("VIRTUAL_ENV")
    if active and (Path(active) / "bin" / "python").is_file():
        return str(Path(active) / "bin" / "python")
    return shutil.which("python3") or sys.executable


@functools.cache
def _isolation() -> tuple[str, ...]:
    """``unshare -rn`` when this system lets an unprivileged process have its own network
    namespace (no interface but loopback), else nothing (the plugin still refuses). Probed
    once per process."""
    unshare = shutil.which("unshare")
    if unshare is None or sys.platform != "linux":
        return ()
    try:
        done = subprocess.run([unshare, "-rn", "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return (unshare, "-rn") if done.returncode == 0 else ()


def _read_events(path: Path, seen: int) -> tuple[list[Event], int]:
    """Complete JSON lines of ``path`` after byte ``seen``, and the new position."""
    try:
        with path.open("rb") as handle:
            handle.seek(seen)
            data = handle.read()
    except OSError:
        return [], seen
    end = data.rfind(b"\n") + 1
    events = []
    for line in data[:end].splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events, seen + end


class Sandbox:
    """A scratch copy of a repository to run commands in (a context manager: the copy goes
    when it closes).

    Raises OSError on entering when the repository cannot be copied (too large, unreadable).
    """

    def __init__(self, root: Path, files: Sequence[str], *, network: bool = False) -> None:
        self.root = root
        self.files = files
        self.network = network
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self.path = Path()

    def __enter__(self) -> Sandbox:
        self._folder = tempfile.TemporaryDirectory(prefix="kodama-tests-")
        self.path = Path(self._folder.name)
        try:
            self._copy()
        except OSError:
            self._folder.cleanup()
            raise
        plugins = self.path / ".kodama"
        plugins.mkdir(exist_ok=True)
        for helper in Path(__file__).parent.glob("_kodama_*.*"):  # plugins, preloads, runners
            shutil.copyfile(helper, plugins / helper.name)
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._folder is not None:
            self._folder.cleanup()

    def _copy(self) -> None:
        total = 0
        for rel in self.files:
            source = self.root / rel
            total += source.stat().st_size
            if total > MAX_COPY_BYTES:
                raise OSError(f"the repository is larger than {MAX_COPY_BYTES >> 20} MB")
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)

    def write(self, rel: str, text: str) -> Path:
        """Write ``text`` to ``rel`` in the copy (folders made as needed)."""
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    def run(self, command: Sequence[str], *, timeout_s: float,
            cancelled: Callable[[], bool] = lambda: False,
            on_event: Callable[[Event], None] | None = None,
            env: dict[str, str] | None = None) -> Finished:
        """Run ``command`` in the copy, isolated from the network unless allowed, and stop
        it after ``timeout_s`` or when ``cancelled()`` turns true (polled). ``on_event`` gets
        each line of the command's events file as it comes; every event is in the result."""
        events_path = self.path / ".kodama" / "events.jsonl"
        events_path.unlink(missing_ok=True)
        full_env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1",
                    "PYTHONPATH": os.pathsep.join([str(self.path / ".kodama"), str(self.path)]),
                    "KODAMA_SANDBOX_EVENTS": str(events_path),
                    "KODAMA_SANDBOX_NETWORK": "1" if self.network else "0", **(env or {})}
        isolation = () if self.network else _isolation()
        output_path = self.path / ".kodama" / "output.txt"
        with output_path.open("wb") as output:
            process = subprocess.Popen([*isolation, *command], cwd=self.path, env=full_env,
                                       stdout=output, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
            events: list[Event] = []
            seen = 0
            deadline = time.monotonic() + timeout_s
            stopped = ""
            while True:
                try:
                    returncode: int | None = process.wait(timeout=POLL_S)
                except subprocess.TimeoutExpired:
                    returncode = None
                new, seen = _read_events(events_path, seen)
                for event in new:
                    events.append(event)
                    if on_event is not None:
                        on_event(event)
                if returncode is not None:
                    break
                if cancelled():
                    stopped = "cancelled"
                elif time.monotonic() > deadline:
                    stopped = "timeout"
                if stopped:
                    with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
                    break
        text = output_path.read_text(encoding="utf-8", errors="replace")
        return Finished(None if stopped else process.returncode, text, events,
                        timed_out=stopped == "timeout", cancelled=stopped == "cancelled")
