"""Generated tests checked before they are offered: run in the repository's own framework
(:mod:`.pytestrun` for Python, :mod:`.jsrun` for JavaScript and TypeScript), failing ones shown
to the model for repair, and only those that pass twice kept (:func:`checked`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from kodama.model.config import TestRunConfig
from kodama.model.errors import TaskError
from kodama.model.tasks import jsrun, pytestrun, testrun
from kodama.model.tasks.generate import ChatRequest
from kodama.model.tasks.sandbox import project_python
from kodama.model.tasks.testgen import TestRequest, TestResult, merged, repair_chat, tests_code
from kodama.syntax.walk import walk

PYTHON_FRAMEWORKS = ("pytest", "unittest")


def runs(request: TestRequest) -> bool:
    """Whether :func:`checked` can run this request's tests: Python with pytest or unittest,
    JavaScript / TypeScript with node:test, Jest, Vitest or Mocha."""
    framework = request.plan.framework
    if request.subject.language == "python":
        return framework in PYTHON_FRAMEWORKS
    return request.subject.language in ("javascript", "typescript", "tsx") and \
        framework in jsrun.FRAMEWORKS


def not_run(request: TestRequest) -> str:
    """Why the tests of ``request`` are offered without running them ('' when they run)."""
    if runs(request):
        return ""
    return (f"these {request.plan.framework} tests were not run (Kodama runs Python and "
            "JavaScript / TypeScript tests); check them before you rely on them")


@dataclass(frozen=True)
class _Framework:
    """A framework's test finding, pruning and running, for one request."""

    test_ids: Callable[[str], list[str]]
    prune: Callable[[str, set[str]], str]
    run: Callable[..., testrun.RunReport]
    """(root, files, test_file, text, ids, timeout_s=, network=, cancelled=, progress=)"""


def _framework(request: TestRequest, settings: TestRunConfig) -> _Framework:
    if request.subject.language == "python":
        python = project_python(request.root, settings.python)
        return _Framework(pytestrun.test_ids, pytestrun.prune,
                          partial(pytestrun.run, command=python))
    language = request.subject.language
    return _Framework(partial(jsrun.test_ids, language=language),
                      partial(jsrun.prune, language=language),
                      partial(jsrun.run, framework=request.plan.framework,
                              command=settings.node))


Ask = Callable[[ChatRequest], str]
"""Asks the model a chat and gives its answer (in-process for the CLI, through the model's
thread in the server)."""


@dataclass(frozen=True)
class CheckedTests:
    """Generated tests after running them (:func:`checked`)."""

    result: TestResult
    """The test file with the tests that are offered."""
    code: str
    """Those tests alone (the generated code, failing tests taken out)."""
    message: str
    """One line for the user: what was kept and dropped, or why nothing was run."""
    generated: int
    kept: int
    """Tests offered that passed twice (== ``generated`` when they could not be run)."""
    ran: bool


def _after_repair(outcome: testrun.Outcome) -> testrun.Outcome:
    if outcome.message == testrun.HOLLOW:
        return testrun.Outcome(False, "its repair checks nothing")
    return testrun.Outcome(False, f"still failing after a repair: {outcome.message}")


@dataclass
class _Check:
    """The state of :func:`checked`: the tests so far and what each did."""

    code: str
    report: testrun.RunReport
    keep: set[str]
    present: set[str]
    """The tests in ``code`` (a repair round leaves out the failing tests it did not rewrite)."""
    repaired: int = 0

    def failing(self) -> dict[str, str]:
        """Why each test of ``code`` that can still be repaired failed."""
        return {test_id: o.message for test_id, o in self.report.outcomes.items()
                if not o.passed and o.message != testrun.HOLLOW and test_id in self.present}


def _repair_round(request: TestRequest, state: _Check, ask: Ask, framework: _Framework,
                  run: Callable[[str, list[str]], testrun.RunReport]) -> bool:
    """Show the model the failing tests and why; run its rewrite. Whether anything changed."""
    try:
        fixed = tests_code(request, ask(repair_chat(request, state.code, state.failing())))
    except TaskError:  # the repair holds no test: the verdicts stand
        return False
    fixed_ids = [test_id for test_id in framework.test_ids(fixed) if test_id not in state.keep]
    if not fixed_ids:
        return False
    gap = "\n\n\n" if request.subject.language == "python" else "\n\n"
    combined = framework.prune(state.code, state.keep) + gap + framework.prune(
        fixed, set(fixed_ids))
    second = run(combined, fixed_ids)
    if second.problem:
        return False
    passed = {test_id for test_id, o in second.outcomes.items() if o.passed}
    outcomes = state.report.outcomes
    state.report.outcomes = {**{t: o for t, o in outcomes.items()
                                if o.passed or t not in second.outcomes},
                             **{t: (o if o.passed else _after_repair(o))
                                for t, o in second.outcomes.items()}}
    state.code, state.keep = combined, state.keep | passed
    state.present = state.keep | set(fixed_ids)
    state.repaired += len(passed)
    return True


def checked(request: TestRequest, code: str, settings: TestRunConfig,
            cancelled: Callable[[], bool] = lambda: False,
            progress: Callable[[str], None] | None = None,
            ask: Ask | None = None) -> CheckedTests:
    """Only those of the generated tests (``code``) that check something and pass, run twice
    in a scratch copy of the repository (:mod:`~kodama.model.tasks.testrun`), with a line for
    the user saying what was kept and dropped. With ``ask``, the tests that failed get up to
    ``settings.repairs`` repair rounds: the model sees why they failed (the failing line, the
    actual values, the real signature) and rewrites them; those of the rewritten tests that
    check something and pass twice are kept too. When the tests cannot be run at all (no
    pytest, the repository cannot be copied), all of them, and the reason.

    Raises TaskError when none passes: a file of failing tests is worse than none.
    """
    framework = _framework(request, settings)
    ids = framework.test_ids(code)
    root = request.root
    files: Sequence[str] = [entry.path for entry in walk(root)]

    def run(candidate: str, wanted: list[str]) -> testrun.RunReport:
        result = merged(request, candidate)
        return framework.run(root, files, result.path.relative_to(root).as_posix(),
                             result.text, wanted, timeout_s=settings.timeout_s,
                             network=settings.network, cancelled=cancelled, progress=progress)

    if not ids:
        raise TaskError(f"the model wrote no test that {request.plan.framework} would run for "
                        f"{request.subject.qualified_name!r}; nothing was changed")
    report = run(code, ids)
    if report.problem:
        return CheckedTests(merged(request, code), code,
                            f"the generated tests were not run: {report.problem}", len(ids),
                            len(ids), ran=False)
    state = _Check(code, report, {t for t, o in report.outcomes.items() if o.passed}, set(ids))
    for round_number in range(settings.repairs if ask is not None else 0):
        if not state.failing() or cancelled():
            break
        if progress is not None:
            progress(f"repairing {len(state.failing())} failing tests"
                     + (f" (round {round_number + 1})" if round_number else ""))
        assert ask is not None
        if not _repair_round(request, state, ask, framework, run):
            break
    if cancelled():
        raise TaskError(f"checking the tests for {request.subject.qualified_name!r} was "
                        "cancelled; nothing was changed")
    if not state.keep:
        raise TaskError(f"none of the {len(ids)} generated tests for "
                        f"{request.subject.qualified_name!r} passes "
                        f"({testrun.summary(state.report, 0)}); nothing was changed")
    code = framework.prune(state.code, state.keep)
    return CheckedTests(merged(request, code), code,
                        testrun.summary(state.report, len(state.keep), state.repaired),
                        len(ids), len(state.keep), ran=True)
