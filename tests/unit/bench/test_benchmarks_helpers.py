"""The latency benchmark's pure helpers: line picking, percentiles, typing scripts, edit states."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root

from benchmarks.common import (
    PAUSE_AFTER,
    Summary,
    cut_line,
    edit_states,
    percentile,
    pick_lines,
    ratio,
    typing_script,
)

SOURCE = """import os

# a comment that is long enough
def load(path):
    \"\"\"Docstring line.\"\"\"

    text = open(path).read()
    return text.strip()
x = 1
"""


def test_pick_lines_skips_blank_comment_and_short_lines() -> None:
    assert pick_lines(SOURCE, 10) == [0, 3, 6, 7]


def test_pick_lines_spreads_evenly_and_handles_zero() -> None:
    text = "\n".join(f"value_{i:02d} = {i}" for i in range(20))
    picked = pick_lines(text, 4)
    assert picked == [2, 7, 12, 17]
    assert pick_lines(text, 0) == []


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 11)]  # 1..10
    assert percentile(values, 50) == 5
    assert percentile(values, 95) == 10
    assert percentile(values, 0) == 1
    assert percentile([7.0], 95) == 7
    assert percentile(list(reversed(values)), 50) == 5
    assert math.isnan(percentile([], 50))


def test_summary_and_ratio() -> None:
    s = Summary.of([100.0, 200.0, 300.0, 400.0])
    assert (s.n, s.p50, s.p95, s.mean) == (4, 200, 400, 250)
    assert Summary.of([]).n == 0 and math.isnan(Summary.of([]).p50)
    assert ratio(150, 300) == "0.50"
    assert ratio(1, 0) == "–" and ratio(float("nan"), 1) == "–"


def test_typing_script_types_every_character_at_the_pace() -> None:
    script = typing_script("return value", seed=3, interval_ms=(80, 120), pause_ms=600)
    assert "".join(k.char for k in script) == "return value"
    pauses = [k.pause_ms for k in script]
    # a pause after the word ("return ") and at the end of the line; typing pace elsewhere
    assert pauses[6] == 600 and pauses[-1] == 600
    others = [p for i, p in enumerate(pauses) if i not in (6, len(pauses) - 1)]
    assert all(80 <= p <= 120 for p in others)


def test_typing_script_is_reproducible_and_collapses_punctuation_runs() -> None:
    a = typing_script("f(a, b)", seed=1)
    assert a == typing_script("f(a, b)", seed=1)
    assert a != typing_script("f(a, b)", seed=2)
    natural = [i for i, k in enumerate(a) if k.pause_ms >= 600]
    # "(" then "a", ", " is one run (pause after the space only), ")" is the end
    assert natural == [1, 4, 6]
    assert "," in PAUSE_AFTER and " " in PAUSE_AFTER


def test_typing_script_rejects_bad_intervals() -> None:
    with pytest.raises(ValueError):
        typing_script("x", interval_ms=(120, 80))
    assert typing_script("") == []


def test_cut_line_and_edit_states() -> None:
    opened, indent, code = cut_line(SOURCE, 6)
    assert indent == "    " and code == "text = open(path).read()"
    assert opened.split("\n")[6] == "    "
    states = list(edit_states(SOURCE, 6, 3))
    assert [s.typed for s in states] == [0, 1, 2, 3]
    assert states[0].text == opened
    last = states[-1]
    assert last.text.split("\n")[6] == "    tex"
    assert last.column == 7
    assert last.text[: last.offset].endswith("\n    tex")
    assert last.text[last.offset:].startswith("\n    return")
    assert len(list(edit_states(SOURCE, 6, -1))) == len(code) + 1
