"""Python tests (pytest, unittest through pytest) for :mod:`.testrun`: the tests in generated
code (node-id tails, read with :mod:`ast`), whether each checks something, cutting failing ones
out, and one round: pytest over the tests by node id, each under a time limit, with the
sandbox's plugin (``_kodama_sandbox``) reporting outcomes test by test.

Pure parts are functions of text; :func:`run` is the only one that starts a process.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from pathlib import Path

from kodama.model.tasks.sandbox import Event, Sandbox
from kodama.model.tasks.testrun import (
    MESSAGE_CHARS,
    WHOLE_RUN_S,
    Outcome,
    Round,
    RunReport,
    blame_unfinished,
    run_checked,
)


def _test_class(node: ast.stmt) -> bool:
    """A class pytest collects tests from: ``Test…``, or any ``unittest.TestCase`` subclass."""
    if not isinstance(node, ast.ClassDef):
        return False
    bases = [base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
             for base in node.bases]
    return node.name.startswith("Test") or any(str(b).endswith("TestCase") for b in bases)


def _tests_of(node: ast.ClassDef) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [item for item in node.body if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            and item.name.startswith("test")]


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
        elif isinstance(node, ast.ClassDef) and _test_class(node):
            ids += [f"{node.name}::{item.name}" for item in _tests_of(node)]
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
        elif isinstance(node, ast.ClassDef) and _test_class(node):
            tests = _tests_of(node)
            dropped = [item for item in tests if f"{node.name}::{item.name}" not in keep]
            if tests and len(dropped) == len(tests):
                cuts.append(span(node))
            else:
                cuts += [span(item) for item in dropped]
    for start, end in sorted(cuts, reverse=True):
        del lines[start:end]
    return "".join(lines)


def _test_id(nodeid: str, test_file: str) -> str:
    """The id tail of a pytest node id of ``test_file`` (parameters dropped)."""
    return nodeid.removeprefix(f"{test_file}::").split("[", 1)[0]


def outcomes_from_events(events: Sequence[Event], test_file: str) -> dict[str, Outcome]:
    """Outcomes by test id from the sandbox plugin's events: a test passes when each of its
    phases (and each of its parameter cases) passed; one failure or skip fails it."""
    outcomes: dict[str, Outcome] = {}
    for event in events:
        if event.get("event") != "result":
            continue
        key = _test_id(str(event.get("id", "")), test_file)
        if event.get("outcome") == "passed":
            outcomes.setdefault(key, Outcome(True))
            continue
        message = str(event.get("message") or event.get("outcome") or "failed")
        if event.get("outcome") == "skipped":
            message = "skipped: " + message
        elif event.get("when") == "teardown":
            message = "error in teardown: " + message
        if outcomes.get(key, Outcome(True)).passed:  # the first problem says why
            outcomes[key] = Outcome(False, message[:MESSAGE_CHARS])
    return outcomes


def _round(sandbox: Sandbox, python: str, test_file: str, timeout_s: float,
           cancelled: Callable[[], bool]) -> Round:
    """One pytest process over some tests; outcomes of the tests it got to (a test running
    when the process was stopped fails), ``problem`` when pytest could not run at all."""

    def round_(ids: Sequence[str], on_done: Callable[[int], None]) -> RunReport:
        done: set[str] = set()

        def on_event(event: Event) -> None:
            if event.get("event") == "result":
                done.add(_test_id(str(event.get("id", "")), test_file))
                on_done(len(done))

        command = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                   "-p", "_kodama_sandbox", *(f"{test_file}::{test_id}" for test_id in ids)]
        finished = sandbox.run(command, timeout_s=WHOLE_RUN_S + timeout_s * len(ids),
                               cancelled=cancelled, on_event=on_event,
                               env={"KODAMA_SANDBOX_TEST_TIMEOUT": f"{timeout_s:g}"})
        if "No module named pytest" in finished.output:
            return RunReport(problem=f"pytest is not installed for {python} (set "
                                     "tasks.tests.python to the project's interpreter)")
        outcomes = outcomes_from_events(finished.events, test_file)
        started = [_test_id(str(e.get("id", "")), test_file) for e in finished.events
                   if e.get("event") == "start"]
        blame_unfinished(finished, started, outcomes, timeout_s)
        if finished.returncode is None and not outcomes:
            why = "was cancelled" if finished.cancelled else "ran past its time limit"
            return RunReport(problem=f"the test run {why}")
        if not outcomes and finished.returncode not in (0, 1):
            errors = [e for e in finished.events if e.get("event") == "collect error"]
            if not errors:
                tail = " ".join(finished.output.strip().splitlines()[-3:])
                return RunReport(problem=f"pytest did not run the tests: "
                                         f"{tail[:MESSAGE_CHARS] or 'no output'}")
            reason = "cannot be collected: " + str(errors[0].get("message", ""))
            return RunReport({test_id: Outcome(False, reason[:MESSAGE_CHARS]) for test_id in ids})
        return RunReport(outcomes)

    return round_


def run(root: Path, files: Sequence[str], test_file: str, text: str, ids: Sequence[str], *,
        command: str, timeout_s: float, network: bool = False,
        cancelled: Callable[[], bool] = lambda: False,
        progress: Callable[[str], None] | None = None) -> RunReport:
    """Run the tests ``ids`` of ``test_file`` (relative to ``root``), written with ``text``,
    in a scratch copy of ``root``'s ``files`` with the interpreter ``command``, each under
    ``timeout_s`` (:func:`~kodama.model.tasks.testrun.run_checked`: twice, hollow ones
    not at all)."""
    try:
        with Sandbox(root, files, network=network) as sandbox:
            sandbox.write(test_file, text)
            return run_checked(_round(sandbox, command, test_file, timeout_s, cancelled),
                               text, ids, has_check, cancelled=cancelled, progress=progress)
    except OSError as exc:
        return RunReport(problem=f"cannot copy the repository to run the tests: {exc}")
