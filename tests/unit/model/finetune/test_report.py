"""The install rule, and the report's words for a continued run."""

from __future__ import annotations

from typing import Any

from kodama.model.evaluation import HoleResult, RunResult, Summary
from kodama.model.finetune.dataset import DataStats, SplitStats
from kodama.model.finetune.report import (
    Continued,
    FineTuneReport,
    Forgetting,
    Results,
    Scores,
    TrainingSummary,
    decide,
)


def run(exact: list[bool], similarity: float) -> RunResult:
    return RunResult(config={}, results=tuple(
        HoleResult(path="a.py", kind="single", line=i, expected="x", completion="x" if e else "",
                   exact=e, edit_similarity=similarity, parses=True, empty=not e,
                   latency_ms=1.0) for i, e in enumerate(exact)))


def test_install_only_when_better() -> None:
    base = run([True, False, False, True], 0.5)
    assert decide(base, run([True, True, False, True], 0.5), "better")[0]
    assert not decide(base, run([True, False, False, False], 0.9), "better")[0]
    assert decide(base, run([True, False, False, True], 0.6), "better")[0], "tie, closer"
    assert not decide(base, run([True, False, False, True], 0.5), "better")[0], "no gain"
    installed, why = decide(base, run([False] * 4, 0.1), "always")
    assert installed and "install=always" in why
    installed, why = decide(base, run([True] * 4, 1.0), "never")
    assert not installed and "--no-install" in why
    assert "+1/-0" in decide(base, run([True, True, False, True], 0.5), "better")[1]


def test_a_continued_run_must_improve_on_the_installed_adapter_and_not_forget() -> None:
    base = run([True, False, False, True], 0.5)
    tuned = run([True, True, False, True], 0.5)  # better than the base
    fine = Continued("v1", improved=True, holes=40, exact=20, previous_exact=22)
    assert decide(base, tuned, "better", fine) == decide(base, tuned, "better"), "2 is noise"

    installed, why = decide(base, tuned, "better", Continued("v1", improved=False))
    assert not installed and "no validation improved on the installed adapter v1" in why

    forgot = Continued("v1", improved=True, holes=40, exact=19, previous_exact=22)
    assert forgot.forgot()
    installed, why = decide(base, tuned, "better", forgot)
    assert not installed and "forgot what the installed adapter v1 knew (19 vs 22" in why
    # 5 % of 200 holes is 10: losing 10 is noise, 11 is forgetting.
    assert not Continued("v1", True, holes=200, exact=90, previous_exact=100).forgot()
    assert Continued("v1", True, holes=200, exact=89, previous_exact=100).forgot()
    # An adapter that recorded no per-hole results cannot be compared.
    assert not Continued("v1", True, holes=40, exact=0, previous_exact=None).forgot()

    # Not better than the base: that reason comes first; always/never still decide alone.
    assert "not better than the base" in decide(base, base, "better", forgot)[1]
    assert decide(base, base, "always", Continued("v1", improved=False))[0]
    assert not decide(base, tuned, "never", fine)[0]


def report(continued_from: str | None, best_step: int,
           forgetting: dict[str, Any] | None) -> FineTuneReport:
    row = Scores(Summary(holes=5, exact_match=0.4, edit_similarity=0.5, parse_rate=1.0,
                         parse_checked=5, empty_rate=0.0, latency_p50_ms=1.0,
                         latency_p95_ms=2.0, exact_count=2), test_loss=1.0)
    split = SplitStats(files=1, lines=10, examples=3, tokens=100, sequences=1)
    return FineTuneReport(
        repository="/r", model="m", started="now", decision="kept",
        data=DataStats(files_seen=3, skipped={}, skipped_examples={},
                       splits={"train": split, "validation": split, "test": split},
                       example_kinds={"line": 3}, continued_from=continued_from,
                       changed_files=1),
        training=TrainingSummary(
            method="lora", steps=9, epochs=0.5, limited_by="epochs", finished="done",
            tokens=900, seconds=60.0, tokens_per_second=15.0, peak_memory_mb=100.0,
            best_step=best_step, best_validation_loss=1.0, initial_validation_loss=1.2,
            trainable_parameters=1, total_parameters=2, learning_rate=1e-4,
            sequence_tokens=64, effective_batch=4, history=[], config={}),
        results=Results(holes=5, hole_set="h", test_files=["t.py"], wins=1, losses=0,
                        base=row, tuned=row),
        forgetting=None if forgetting is None else Forgetting(
            version="v1", improved=True, **forgetting),
    )


def test_the_report_says_when_the_tuned_row_is_the_kept_adapter() -> None:
    from kodama.model.finetune.report import markdown

    kept = markdown(report("v1", 0, {"holes": 27, "base_exact": None, "exact": 17,
                                     "previous_exact": 16}))
    assert 'No validation beat the installed adapter v1: the "tuned" row is that adapter' in kept
    assert "On the 27 holes of the previous run: previous adapter 16, this one 17 exact " \
           "matches (base –)." in kept
    assert "No validation beat" not in markdown(report("v1", 5, None))
    assert "No validation beat" not in markdown(report(None, 0, None))
    unknown = markdown(report("v1", 5, {"holes": 4, "base_exact": 1, "exact": 2,
                                        "previous_exact": None}))
    assert "previous adapter –, this one 2 exact matches (base 1)." in unknown
