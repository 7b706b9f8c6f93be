"""Running generated Python tests before they are offered: keep what passes, say what was dropped.

A generated test that fails is worse than none, so the tests task runs the new tests with the
repository's own pytest before offering them, in a :class:`~kodama.model.tasks.sandbox.Sandbox`
(a scratch copy of the repository, the project's interpreter, no network):

1. The test file, with the new tests merged in, is written into the copy and pytest runs only
   the new tests (by node id), each under a time limit; outcomes arrive test by test (progress
   "running tests 3/8"). When the whole run has to be stopped (a test that hangs in C code,
   a test that kills its interpreter), the test that was running fails and the tests not yet
   reached run again without it.
2. Tests that passed are run a second time; a test is kept only if it passed both times (a
   flaky test is dropped too).

Pure parts (test names in generated code, pruning, reading the events) are functions of text;
:func:`run_pytest` is the only one that starts a process.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kodama.model.tasks.sandbox import Event, Sandbox, project_python

__all__ = ["HOLLOW", "Outcome", "RunReport", "has_check", "outcomes_from_events",
           "project_python", "prune", "run_pytest", "summary", "test_ids"]

HOLLOW = "checks nothing"
"""Why a test that checks nothing (``assert True``) is dropped."""

MESSAGE_CHARS = 600
"""Failure messages are cut to this length (they go into a comment and back to the model)."""

WHOLE_RUN_S = 30.0
"""Added to the per-test limits for a whole run (start-up, collection, the repository's
fixtures)."""


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


def _pytest_round(sandbox: Sandbox, python: str, test_file: str, ids: Sequence[str], *,
                  timeout_s: float, cancelled: Callable[[], bool],
                  on_done: Callable[[int], None]) -> RunReport:
    """One pytest process over ``ids``; outcomes of the tests it got to (a test running when
    the process was stopped fails), ``problem`` when pytest could not run at all."""
    done: set[str] = set()

    def on_event(event: Event) -> None:
        if event.get("event") == "result":
            key = _test_id(str(event.get("id", "")), test_file)
            if key not in done:
                done.add(key)
                on_done(len(done))

    command = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "_kodama_sandbox",
               *(f"{test_file}::{test_id}" for test_id in ids)]
    finished = sandbox.run(command, timeout_s=WHOLE_RUN_S + timeout_s * len(ids),
                           cancelled=cancelled, on_event=on_event,
                           env={"KODAMA_SANDBOX_TEST_TIMEOUT": f"{timeout_s:g}"})
    if "No module named pytest" in finished.output:
        return RunReport(problem=f"pytest is not installed for {python} (set tasks.tests.python "
                                 "to the project's interpreter)")
    outcomes = outcomes_from_events(finished.events, test_file)
    started = [_test_id(str(e.get("id", "")), test_file) for e in finished.events
               if e.get("event") == "start"]
    unfinished = [test_id for test_id in started if test_id not in outcomes]
    if unfinished and not finished.cancelled:  # the process died or was stopped in this test
        why = (f"past {timeout_s:g} s, or it hung" if finished.returncode is None
               else f"exit status {finished.returncode}")
        outcomes[unfinished[-1]] = Outcome(False, f"the test run stopped during this test ({why})")
    if finished.returncode is None and not outcomes:
        why = "was cancelled" if finished.cancelled else "ran past its time limit"
        return RunReport(problem=f"the test run {why}")
    if not outcomes and finished.returncode not in (0, 1):
        errors = [e for e in finished.events if e.get("event") == "collect error"]
        tail = (str(errors[0].get("message", "")) if errors
                else " ".join(finished.output.strip().splitlines()[-3:]))
        if not errors:
            return RunReport(problem=f"pytest did not run the tests: "
                                     f"{tail[:MESSAGE_CHARS] or 'no output'}")
        return RunReport({test_id: Outcome(False, "cannot be collected: " + tail[:MESSAGE_CHARS])
                          for test_id in ids})
    return RunReport(outcomes)


def _pytest_all(sandbox: Sandbox, python: str, test_file: str, ids: Sequence[str], *,
                timeout_s: float, cancelled: Callable[[], bool],
                progress: Callable[[str], None] | None, label: str) -> RunReport:
    """Outcomes of every test of ``ids``: rounds of :func:`_pytest_round` over the tests not
    reached yet, as long as each round gets further."""
    outcomes: dict[str, Outcome] = {}
    left = list(ids)
    while left:
        before = len(outcomes)

        def on_done(count: int, before: int = before) -> None:
            if progress is not None:
                progress(f"{label} {before + count}/{len(ids)}")

        report = _pytest_round(sandbox, python, test_file, left, timeout_s=timeout_s,
                               cancelled=cancelled, on_done=on_done)
        if report.problem and not outcomes:
            return report
        outcomes.update({k: v for k, v in report.outcomes.items() if k in left})
        left = [test_id for test_id in left if test_id not in outcomes]
        if report.problem or len(outcomes) == before or cancelled():
            break
    for test_id in left:  # never reached (a round that stopped early), or not collected
        outcomes[test_id] = Outcome(False, "not run: the test run stopped before it"
                                    if cancelled() else "not collected")
    return RunReport({test_id: outcomes[test_id] for test_id in ids})


def run_pytest(root: Path, files: Sequence[str], test_file: str, text: str, ids: Sequence[str],
               *, python: str, timeout_s: float, network: bool = False,
               cancelled: Callable[[], bool] = lambda: False,
               progress: Callable[[str], None] | None = None) -> RunReport:
    """Run the tests ``ids`` of ``test_file`` (relative to ``root``), written with ``text``,
    in a scratch copy of ``root``'s ``files``, each under ``timeout_s``; those that pass are
    run again (flaky ones fail). Tests that check nothing (:func:`has_check`) are not run:
    they fail with :data:`HOLLOW`.
    """
    hollow = {test_id: Outcome(False, HOLLOW) for test_id in ids if not has_check(text, test_id)}
    ids = [test_id for test_id in ids if test_id not in hollow]
    if not ids:
        return RunReport(hollow)
    try:
        with Sandbox(root, files, network=network) as sandbox:
            sandbox.write(test_file, text)
            first = _pytest_all(sandbox, python, test_file, ids, timeout_s=timeout_s,
                                cancelled=cancelled, progress=progress, label="running tests")
            passed = [test_id for test_id, outcome in first.outcomes.items() if outcome.passed]
            if not first.problem and passed and not cancelled():
                second = _pytest_all(sandbox, python, test_file, passed, timeout_s=timeout_s,
                                     cancelled=cancelled, progress=progress,
                                     label="running the passing tests again")
                if second.problem:
                    return second
                for test_id, outcome in second.outcomes.items():
                    if not outcome.passed:
                        first.outcomes[test_id] = Outcome(False, f"flaky: {outcome.message}")
    except OSError as exc:
        return RunReport(problem=f"cannot copy the repository to run the tests: {exc}")
    first.outcomes.update(hollow)
    return first


def summary(report: RunReport, kept: int, repaired: int = 0) -> str:
    """One line for the user: how many tests were kept (``repaired`` of them on a second try),
    dropped and why."""
    dropped = {test_id: o for test_id, o in report.outcomes.items() if not o.passed}
    fixed = f" ({repaired} of them repaired)" if repaired else ""
    if not dropped:
        return f"{kept} generated tests pass{fixed}"
    reasons = "; ".join(f"{test_id}: {o.message.splitlines()[0] if o.message else 'failed'}"
                        for test_id, o in list(dropped.items())[:3])
    more = f" (and {len(dropped) - 3} more)" if len(dropped) > 3 else ""
    return (f"kept {kept} passing tests{fixed}, dropped {len(dropped)} that failed: "
            f"{reasons}{more}")
