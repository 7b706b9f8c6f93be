"""Running generated Python tests before they are offered: keep what passes, say what was dropped.

A generated test that fails is worse than none, so the tests task runs the new tests with the
repository's own pytest before offering them:

1. The repository's files (the walk's rules: no ignored, hidden or vendored files, no links)
   are copied into a scratch folder and the test file, with the new tests merged in, is written
   there: the user's tree is never touched.
2. pytest runs only the new tests (by node id) with the project's interpreter (its ``.venv``,
   the active virtual environment, or ``tasks.tests.python``), under a time limit, without
   network: in a network namespace of its own (``unshare -rn``) where the system allows one,
   and in any case with a pytest plugin that refuses connections to anything but this machine.
3. Tests that passed are run a second time; a test is kept only if it passed both times (a
   flaky test is dropped too).

Pure parts (test names in generated code, pruning, the JUnit report) are functions of text;
:func:`run_pytest` is the only one that starts a process.
"""

from __future__ import annotations

import ast
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

MAX_COPY_BYTES = 200 << 20
"""Largest repository (files the walk admits) copied to run tests in; larger ones are not run."""

HOLLOW = "checks nothing"
"""Why a test that checks nothing (``assert True``) is dropped."""

MESSAGE_CHARS = 400
"""Failure messages are cut to this length (they go into a comment and back to the model)."""

NO_NETWORK_PLUGIN = '''"""Kodama's test sandbox: no connection leaves this machine."""
import ipaddress
import socket

_connect = socket.socket.connect


def _local(address):
    host = address[0] if isinstance(address, tuple) else address
    if not isinstance(host, str) or host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _local(address):
        raise OSError(101, f"network access is disabled while Kodama checks tests ({address})")
    return _connect(self, address)


socket.socket.connect = connect
'''


@dataclass(frozen=True)
class Outcome:
    """What happened to one test."""

    passed: bool
    message: str = ""
    """Why it failed: the exception line (cut), '' when it passed."""


@dataclass
class RunReport:
    """The outcome of every new test; ``problem`` says why nothing could be run."""

    outcomes: dict[str, Outcome] = field(default_factory=dict)
    problem: str = ""


def test_ids(code: str) -> list[str]:
    """Pytest node-id tails of the tests in ``code``: ``test_x`` and ``TestY::test_z``."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    ids: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
                "test"):
            ids.append(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            ids += [f"{node.name}::{item.name}" for item in node.body
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                    and item.name.startswith("test")]
    return ids


def _test_node(tree: ast.Module, test_id: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    owner, _, name = test_id.rpartition("::")
    body: list[ast.stmt] = tree.body
    if owner:
        cls = next((n for n in body if isinstance(n, ast.ClassDef) and n.name == owner), None)
        body = cls.body if cls is not None else []
    return next((n for n in body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                 and n.name == name), None)


def has_check(code: str, test_id: str) -> bool:
    """Whether the test ``test_id`` of ``code`` checks something: an ``assert`` of anything but
    a constant, ``pytest.raises``/``approx``-style helpers, or ``self.assert…``. A test without
    one passes whatever the code does (``assert True``) and is never offered."""
    try:
        node = _test_node(ast.parse(code), test_id)
    except SyntaxError:
        return False
    if node is None:
        return False
    for inner in ast.walk(node):
        if isinstance(inner, ast.Assert) and not isinstance(inner.test, ast.Constant):
            return True
        if isinstance(inner, ast.Call):
            func = inner.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name.startswith(("assert", "raises", "warns", "fail")):
                return True
    return False


def prune(code: str, keep: set[str]) -> str:
    """``code`` without the tests whose id is not in ``keep`` (a test class left without tests
    goes too); everything else (imports, helpers, fixtures) stays as written."""
    tree = ast.parse(code)
    lines = code.splitlines(keepends=True)
    cuts: list[tuple[int, int]] = []

    def span(node: ast.stmt) -> tuple[int, int]:
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        return first - 1, node.end_lineno or node.lineno

    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
                "test") and node.name not in keep:
            cuts.append(span(node))
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            tests = [item for item in node.body
                     if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                     and item.name.startswith("test")]
            dropped = [item for item in tests if f"{node.name}::{item.name}" not in keep]
            if tests and len(dropped) == len(tests):
                cuts.append(span(node))
            else:
                cuts += [span(item) for item in dropped]
    for start, end in sorted(cuts, reverse=True):
        del lines[start:end]
    return "".join(lines)


def parse_junit(xml: str, test_file: str) -> dict[str, Outcome]:
    """Outcomes by node-id tail from a pytest ``--junitxml`` report of ``test_file`` (its path
    relative to the run folder)."""
    module = test_file.removesuffix(".py").replace("/", ".")
    outcomes: dict[str, Outcome] = {}
    for case in ET.fromstring(xml).iter("testcase"):
        classname = case.get("classname", "")
        name = case.get("name", "").split("[", 1)[0]
        owner = classname[len(module) + 1:] if classname.startswith(module + ".") else ""
        key = f"{owner}::{name}" if owner else name
        problem = next((child for child in case if child.tag in ("failure", "error", "skipped")),
                       None)
        if problem is None:
            outcomes.setdefault(key, Outcome(True))
            continue
        text = (problem.get("message") or problem.text or problem.tag).strip()
        first = text.splitlines()[0] if text else problem.tag
        reason = "skipped: " + first if problem.tag == "skipped" else first
        outcomes[key] = Outcome(False, reason[:MESSAGE_CHARS])  # one bad case fails the test
    return outcomes


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


def _copy_repository(root: Path, files: Sequence[str], scratch: Path) -> None:
    total = 0
    for rel in files:
        source = root / rel
        total += source.stat().st_size
        if total > MAX_COPY_BYTES:
            raise OSError(f"the repository is larger than {MAX_COPY_BYTES >> 20} MB")
        target = scratch / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


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


def _pytest_once(python: str, scratch: Path, test_file: str, ids: Sequence[str],
                 timeout_s: float, network: bool) -> RunReport:
    report_path = scratch / ".kodama-report.xml"
    report_path.unlink(missing_ok=True)
    command = [*([] if network else _isolation()), python, "-m", "pytest", "-q",
               "-p", "no:cacheprovider", "--junitxml", str(report_path),
               *([] if network else ["-p", "_kodama_no_network"]),
               *(f"{test_file}::{test_id}" for test_id in ids)]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": os.pathsep.join([str(scratch / ".kodama"), str(scratch)])}
    try:
        process = subprocess.Popen(command, cwd=scratch, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as exc:
        return RunReport(problem=f"cannot start {python}: {exc}")
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return RunReport(problem=f"the tests ran past the {timeout_s:.0f} s limit")
    text = output.decode("utf-8", "replace")
    if "No module named pytest" in text:
        return RunReport(problem=f"pytest is not installed for {python} (set tasks.tests.python "
                                 "to the project's interpreter)")
    try:
        outcomes = parse_junit(report_path.read_text(encoding="utf-8"), test_file)
    except (OSError, ET.ParseError):
        tail = " ".join(text.strip().splitlines()[-3:])[:MESSAGE_CHARS]
        return RunReport(problem=f"pytest did not run the tests: {tail or 'no output'}")
    for test_id in ids:  # collected under another name, or not at all (a collection error)
        if test_id not in outcomes:
            errors = [line for line in text.splitlines() if line.startswith(("E ", "ERROR"))]
            reason = errors[0][:MESSAGE_CHARS] if errors else "not collected"
            outcomes[test_id] = Outcome(False, reason)
    return RunReport({test_id: outcomes[test_id] for test_id in ids})


def run_pytest(root: Path, files: Sequence[str], test_file: str, text: str, ids: Sequence[str],
               *, python: str, timeout_s: float, network: bool = False,
               cancelled: Callable[[], bool] = lambda: False,
               progress: Callable[[str], None] | None = None) -> RunReport:
    """Run the tests ``ids`` of ``test_file`` (relative to ``root``), written with ``text``,
    in a scratch copy of ``root``'s ``files``; those that pass are run again (flaky ones fail).
    Tests that check nothing (:func:`has_check`) are not run: they fail with :data:`HOLLOW`.
    """
    hollow = {test_id: Outcome(False, HOLLOW) for test_id in ids if not has_check(text, test_id)}
    ids = [test_id for test_id in ids if test_id not in hollow]
    if not ids:
        return RunReport(hollow)
    report = _run_twice(root, files, test_file, text, ids, python=python, timeout_s=timeout_s,
                        network=network, cancelled=cancelled, progress=progress)
    report.outcomes.update(hollow)
    return report


def _run_twice(root: Path, files: Sequence[str], test_file: str, text: str, ids: Sequence[str],
               *, python: str, timeout_s: float, network: bool, cancelled: Callable[[], bool],
               progress: Callable[[str], None] | None) -> RunReport:
    with tempfile.TemporaryDirectory(prefix="kodama-tests-") as folder:
        scratch = Path(folder)
        try:
            _copy_repository(root, files, scratch)
        except OSError as exc:
            return RunReport(problem=f"cannot copy the repository to run the tests: {exc}")
        target = scratch / test_file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        (scratch / ".kodama").mkdir(exist_ok=True)
        (scratch / ".kodama" / "_kodama_no_network.py").write_text(NO_NETWORK_PLUGIN)
        if progress is not None:
            progress(f"running {len(ids)} tests")
        first = _pytest_once(python, scratch, test_file, ids, timeout_s, network)
        passed = [test_id for test_id, outcome in first.outcomes.items() if outcome.passed]
        if first.problem or not passed or cancelled():
            return first
        if progress is not None:
            progress(f"running the {len(passed)} passing tests again")
        second = _pytest_once(python, scratch, test_file, passed, timeout_s, network)
        if second.problem:
            return second
        for test_id, outcome in second.outcomes.items():
            if not outcome.passed:
                first.outcomes[test_id] = Outcome(False, f"flaky: {outcome.message}")
        return first


def summary(report: RunReport, kept: int, repaired: int = 0) -> str:
    """One line for the user: how many tests were kept (``repaired`` of them on a second try),
    dropped and why."""
    dropped = {test_id: o for test_id, o in report.outcomes.items() if not o.passed}
    fixed = f" ({repaired} of them repaired)" if repaired else ""
    if not dropped:
        return f"{kept} generated tests pass{fixed}"
    reasons = "; ".join(f"{test_id}: {o.message}" for test_id, o in list(dropped.items())[:3])
    more = f" (and {len(dropped) - 3} more)" if len(dropped) > 3 else ""
    return (f"kept {kept} passing tests{fixed}, dropped {len(dropped)} that failed: "
            f"{reasons}{more}")
