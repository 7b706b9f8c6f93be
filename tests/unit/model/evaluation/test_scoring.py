"""kodama.model.evaluation.scoring: exact match, edit similarity, parse check, summaries."""

from __future__ import annotations

import pytest

from kodama.model.evaluation import (
    edit_similarity,
    exact_match,
    levenshtein,
    percentile,
    score,
    summarize,
)

from .fakes import make_hole


def test_levenshtein_and_edit_similarity() -> None:
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("", "abc") == 3
    assert levenshtein("same", "same") == 0
    assert edit_similarity("kitten", "sitting") == pytest.approx(1 - 3 / 7)
    assert edit_similarity("  x = 1 ", "x = 1") == 1.0
    assert edit_similarity("abc", "") == 0.0
    assert edit_similarity("", "") == 1.0


def test_exact_match_trims_whitespace_and_compares_lines_for_multi() -> None:
    assert exact_match("foo(a, b)", "  foo(a, b)  ", "single")
    assert not exact_match("foo(a, b)", "foo(a,b)", "single")
    expected = "x = 1\n    return x"
    assert exact_match(expected, "x = 1   \n    return x  \n\n", "multi")
    assert not exact_match(expected, "x = 1\nreturn x", "multi"), "indentation counts"


def test_score_checks_that_the_file_still_parses() -> None:
    hole = make_hole("x = f(", "a, b)", "\ny = 2\n")
    good = score(hole, "a, b)", 12.0)
    assert good.exact and good.parses is True and not good.empty
    broken = score(hole, "a, b", 5.0)
    assert not broken.exact and broken.parses is False
    empty = score(hole, "  ", 1.0)
    assert empty.empty and empty.parses is None, "an empty completion is not 'accepted'"
    unparsed = score(make_hole("x = f(", "a, b)", "\ny = (\n", original_parses=False), "a, b)", 1.0)
    assert unparsed.parses is None, "files that did not parse are not counted"


def test_summaries_and_percentiles() -> None:
    hole = make_hole("x = f(", "a, b)", "\n")
    results = [score(hole, "a, b)", 10.0), score(hole, "a", 20.0), score(hole, "", 30.0),
               score(hole, "a, b)", 40.0)]
    s = summarize(results)
    assert s.holes == 4 and s.exact_count == 2 and s.exact_match == 0.5
    assert s.parse_checked == 3 and s.parse_rate == pytest.approx(2 / 3)
    assert s.empty_rate == 0.25
    assert s.latency_p50_ms == 20.0 and s.latency_p95_ms == 40.0
    assert percentile([5.0], 95) == 5.0
    assert percentile(list(map(float, range(1, 101))), 95) == 95.0
