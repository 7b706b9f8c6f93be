"""JavaScript and TypeScript tests for :mod:`.testrun`: node:test, Jest, Vitest and Mocha.

- The tests in generated code are its ``it``/``test`` calls
  (:func:`~kodama.syntax.testcases.test_cases`), each known by its suites' and its own titles
  (``cart > total > sums prices``); a test checks something when it calls ``expect``/``assert``
  (or ``should``) on something other than a constant; cutting a failing test out removes its
  statement.
- One round runs the whole test file (the runners select by title only with patterns) with the
  repository's runner: ``node --test`` with Kodama's reporter, which writes outcomes test by
  test; Jest, Vitest and Mocha from the repository's ``node_modules/.bin`` (linked into the
  scratch copy) with their JSON reports, read when they finish. Every Node process gets a
  preload (``_kodama_no_network.cjs``) that refuses connections to other machines, besides the
  network namespace of the sandbox where the system allows one.

Pure parts are functions of text; :func:`run` is the only one that starts a process.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kodama.model.tasks.sandbox import Event, Finished, Sandbox
from kodama.model.tasks.testrun import (
    MESSAGE_CHARS,
    WHOLE_RUN_S,
    Outcome,
    Round,
    RunReport,
    blame_unfinished,
    run_checked,
)
from kodama.syntax.testcases import SEPARATOR, test_cases

FRAMEWORKS = ("node:test", "jest", "vitest", "mocha")
"""The frameworks this module runs."""

_CHECK = re.compile(r"\b(?:expect|assert(?:\.\w+)?|should)\s*\(\s*(?!(?:true|1|false)\s*\))"
                    r"|\.should\b")


def test_ids(code: str, language: str = "javascript") -> list[str]:
    """The ids of the tests in ``code`` (suite titles and the test's, joined by `` > ``)."""
    return [case.id for case in test_cases(language, code)]


def has_check(code: str, test_id: str, language: str = "javascript") -> bool:
    """Whether the test ``test_id`` of ``code`` calls ``expect``/``assert``/``should`` on
    something other than a constant."""
    return any(case.id == test_id and bool(_CHECK.search(case.body))
               for case in test_cases(language, code))


def prune(code: str, keep: set[str], language: str = "javascript") -> str:
    """``code`` without the tests whose id is not in ``keep`` (their whole statements)."""
    for case in reversed(test_cases(language, code)):
        if case.id not in keep:
            end = case.end + (1 if code[case.end:case.end + 1] == "\n" else 0)
            code = code[:case.start].rstrip(" \t") + code[end:]
    return code


def _key(titles: Sequence[str]) -> str:
    return SEPARATOR.join(str(t) for t in titles)


def outcomes_from_jest(report: dict[str, Any]) -> tuple[dict[str, Outcome], str]:
    """Outcomes by id from a Jest or Vitest ``--json`` report, and the file's own failure
    (a syntax or import error: no test ran)."""
    outcomes: dict[str, Outcome] = {}
    problem = ""
    for result in report.get("testResults", []):
        for case in result.get("assertionResults", []):
            key = _key([*case.get("ancestorTitles", []), case.get("title", "")])
            status = case.get("status")
            if status == "passed":
                outcomes[key] = Outcome(True)
            else:
                messages = case.get("failureMessages") or [f"{status}"]
                text = re.sub(r"\x1b\[[0-9;]*m", "", str(messages[0]))
                lines = [line for line in text.splitlines() if not line.strip().startswith("at ")]
                outcomes[key] = Outcome(False, "\n".join(lines[:8])[:MESSAGE_CHARS])
        if not result.get("assertionResults") and result.get("message"):
            problem = re.sub(r"\x1b\[[0-9;]*m", "", str(result["message"]))
    return outcomes, problem.strip()[:MESSAGE_CHARS]


def outcomes_from_mocha(report: dict[str, Any], ids: Sequence[str]) -> dict[str, Outcome]:
    """Outcomes by id from a Mocha ``json`` report (its full titles join the suites' and the
    test's titles with spaces, so they are matched against the ids written that way)."""
    by_full = {test_id.replace(SEPARATOR, " "): test_id for test_id in ids}
    outcomes: dict[str, Outcome] = {}
    for case in report.get("passes", []):
        key = by_full.get(case.get("fullTitle", ""))
        if key is not None:
            outcomes.setdefault(key, Outcome(True))
    for case in report.get("failures", []) + report.get("pending", []):
        key = by_full.get(case.get("fullTitle", ""))
        if key is not None:
            err = case.get("err") or {}
            message = str(err.get("message") or "pending")
            if "actual" in err or "expected" in err:
                message += f"\nactual: {err.get('actual')}\nexpected: {err.get('expected')}"
            outcomes[key] = Outcome(False, message[:MESSAGE_CHARS])
    return outcomes


def outcomes_from_events(events: Sequence[Event]) -> dict[str, Outcome]:
    """Outcomes by id from Kodama's node:test reporter."""
    outcomes: dict[str, Outcome] = {}
    for event in events:
        if event.get("event") != "result":
            continue
        key = _key(event.get("titles", []))
        if event.get("outcome") == "passed":
            outcomes.setdefault(key, Outcome(True))
        else:
            message = str(event.get("message") or event.get("outcome") or "failed")
            prefix = "skipped: " if event.get("outcome") == "skipped" else ""
            outcomes[key] = Outcome(False, (prefix + message)[:MESSAGE_CHARS])
    return outcomes


def command_for(framework: str, node: str, test_file: str, report: str,
                timeout_s: float) -> list[str]:
    """The command of one run of ``test_file`` (``report``: where the JSON report goes)."""
    ms = str(int(timeout_s * 1000))
    if framework == "node:test":
        return [node, "--test", "--test-reporter=./.kodama/_kodama_node_reporter.mjs",
                "--test-reporter-destination=stdout", test_file]
    tool = f"node_modules/.bin/{framework}"
    if framework == "jest":
        return [tool, "--ci", "--json", f"--outputFile={report}", f"--testTimeout={ms}",
                "--runTestsByPath", test_file]
    if framework == "vitest":
        return [tool, "run", "--reporter=json", f"--outputFile={report}",
                f"--testTimeout={ms}", test_file]
    return [tool, "--reporter", "json", "--reporter-option", f"output={report}",
            "--timeout", ms, test_file]


def _outcomes(framework: str, finished: Finished, report: Path,
              ids: Sequence[str]) -> tuple[dict[str, Outcome], str]:
    if framework == "node:test":
        return outcomes_from_events(finished.events), ""
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        tail = " ".join(finished.output.strip().splitlines()[-3:])[:MESSAGE_CHARS]
        return {}, f"{framework} did not run the tests: {tail or 'no output'}"
    if framework == "mocha":
        return outcomes_from_mocha(data, ids), ""
    outcomes, problem = outcomes_from_jest(data)
    return outcomes, (f"cannot be loaded: {problem}" if problem and not outcomes else "")


def _round(sandbox: Sandbox, framework: str, node: str, test_file: str, timeout_s: float,
           cancelled: Callable[[], bool]) -> Round:
    """One run of the test file; outcomes of the tests among ``ids`` it got to."""

    def round_(ids: Sequence[str], on_done: Callable[[int], None]) -> RunReport:
        report = sandbox.path / ".kodama" / "report.json"
        report.unlink(missing_ok=True)
        count = 0

        def on_event(event: Event) -> None:
            nonlocal count
            if event.get("event") == "result" and _key(event.get("titles", [])) in ids:
                count += 1
                on_done(count)

        preload = sandbox.path / ".kodama" / "_kodama_no_network.cjs"
        env = {} if sandbox.network else {"NODE_OPTIONS": f"--require {preload}"}
        finished = sandbox.run(command_for(framework, node, test_file, str(report), timeout_s),
                               timeout_s=WHOLE_RUN_S + timeout_s * len(ids),
                               cancelled=cancelled, on_event=on_event, env=env)
        outcomes, problem = _outcomes(framework, finished, report, ids)
        started = [_key(e.get("titles", [])) for e in finished.events if e.get("event") == "start"]
        blame_unfinished(finished, [t for t in started if t in ids], outcomes, timeout_s)
        wanted = {test_id: o for test_id, o in outcomes.items() if test_id in ids}
        if finished.returncode is None and not wanted:
            why = "was cancelled" if finished.cancelled else "ran past its time limit"
            return RunReport(problem=f"the test run {why}")
        if not wanted and not problem:  # node:test reports a file that fails to load as a test
            failed = [o for test_id, o in outcomes.items() if not o.passed and test_id not in ids]
            if failed:
                problem = f"cannot be loaded: {failed[0].message}"
        if problem.startswith("cannot be loaded"):
            return RunReport({test_id: Outcome(False, problem) for test_id in ids})
        if problem:
            return RunReport(problem=problem)
        return RunReport(wanted)

    return round_


def run(root: Path, files: Sequence[str], test_file: str, text: str, ids: Sequence[str], *,
        framework: str, command: str = "", timeout_s: float, network: bool = False,
        cancelled: Callable[[], bool] = lambda: False,
        progress: Callable[[str], None] | None = None) -> RunReport:
    """Run the tests ``ids`` of ``test_file`` (relative to ``root``), written with ``text``,
    with ``framework`` in a scratch copy of ``root``'s ``files`` (``command``: the Node
    executable, default ``node`` on the PATH), twice, hollow ones not at all."""
    node = command or shutil.which("node") or ""
    if framework == "node:test" and not node:
        return RunReport(problem="node is not installed (set tasks.tests.node)")
    if framework != "node:test" and not (root / "node_modules" / ".bin" / framework).exists():
        return RunReport(problem=f"{framework} is not installed in {root / 'node_modules'} "
                                 "(run npm install)")
    language = "typescript" if test_file.endswith((".ts", ".mts", ".cts")) else (
        "tsx" if test_file.endswith(".tsx") else "javascript")
    try:
        with Sandbox(root, files, network=network) as sandbox:
            sandbox.write(test_file, text)
            if (root / "node_modules").is_dir():
                (sandbox.path / "node_modules").symlink_to(root / "node_modules")
            return run_checked(
                _round(sandbox, framework, node, test_file, timeout_s, cancelled), text, ids,
                lambda code, test_id: has_check(code, test_id, language),
                cancelled=cancelled, progress=progress)
    except OSError as exc:
        return RunReport(problem=f"cannot copy the repository to run the tests: {exc}")
