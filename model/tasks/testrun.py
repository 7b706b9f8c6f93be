"""Running generated tests before they are offered, whatever the framework: keep what passes,
say what was dropped.

A generated test that fails is worse than none, so the tests task runs the new tests with the
repository's own test runner before offering them, in a
:class:`~kodama.model.tasks.sandbox.Sandbox` (a scratch copy of the repository, the project's
toolchain, no network). Each framework's module (:mod:`.pytestrun` for Python,
:mod:`.jsrun` for JavaScript and TypeScript) finds the tests in generated code, cuts failing
ones out, and runs one *round*: a process over some tests, whose outcomes arrive test by test
where the runner allows it. This module holds what they share:

1. :func:`all_outcomes` runs rounds until every test has an outcome: when a round had to be
   stopped (a test that hangs, a test that kills its process), the test that was running fails
   (:func:`blame_unfinished`) and the tests not yet reached run again without it.
2. :func:`run_checked` does that twice: tests that passed run a second time, and a test is kept
   only if it passed both times (a flaky test is dropped too); tests that check nothing are
   never run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from kodama.model.tasks.sandbox import Finished

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


Round = Callable[[Sequence[str], Callable[[int], None]], RunReport]
"""One process over some tests (by id); it calls its second argument with the number of tests
finished so far, as they finish."""


def blame_unfinished(finished: Finished, started: Sequence[str], outcomes: dict[str, Outcome],
                     timeout_s: float) -> None:
    """The test that was running when a round's process died or was stopped fails."""
    unfinished = [test_id for test_id in started if test_id not in outcomes]
    if unfinished and not finished.cancelled:
        why = (f"past {timeout_s:g} s, or it hung" if finished.returncode is None
               else f"exit status {finished.returncode}")
        outcomes[unfinished[-1]] = Outcome(False, f"the test run stopped during this test ({why})")


def all_outcomes(round_: Round, ids: Sequence[str], *, cancelled: Callable[[], bool],
                 progress: Callable[[str], None] | None, label: str) -> RunReport:
    """Outcomes of every test of ``ids``: rounds over the tests not reached yet, as long as
    each round gets further."""
    outcomes: dict[str, Outcome] = {}
    left = list(ids)
    while left:
        before = len(outcomes)

        def on_done(count: int, before: int = before) -> None:
            if progress is not None:
                progress(f"{label} {min(before + count, len(ids))}/{len(ids)}")

        report = round_(left, on_done)
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


def run_checked(round_: Round, text: str, ids: Sequence[str],
                has_check: Callable[[str, str], bool], *, cancelled: Callable[[], bool],
                progress: Callable[[str], None] | None) -> RunReport:
    """Every test of ``ids`` (in ``text``) that checks something run in rounds
    (:func:`all_outcomes`); those that pass run again (flaky ones fail); those that check
    nothing fail with :data:`HOLLOW` without running."""
    hollow = {t: Outcome(False, HOLLOW) for t in ids if not has_check(text, t)}
    ids = [test_id for test_id in ids if test_id not in hollow]
    if not ids:
        return RunReport(hollow)
    first = all_outcomes(round_, ids, cancelled=cancelled, progress=progress,
                         label="running tests")
    passed = [test_id for test_id, outcome in first.outcomes.items() if outcome.passed]
    if not first.problem and passed and not cancelled():
        second = all_outcomes(round_, passed, cancelled=cancelled, progress=progress,
                              label="running the passing tests again")
        if second.problem:
            return second
        for test_id, outcome in second.outcomes.items():
            if not outcome.passed:
                first.outcomes[test_id] = Outcome(False, f"flaky: {outcome.message}")
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
