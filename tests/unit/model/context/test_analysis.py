"""Tests for kodama.model.context.analysis: one file's chunks and entry."""

from __future__ import annotations

from kodama.model.context.analysis import chunk_ranges


def test_chunks_split_at_definitions_within_bounds() -> None:
    ranges = chunk_ranges(100, boundaries=[0, 15, 30, 70], blank=[50])
    assert ranges[0] == (0, 15)
    assert all(12 <= end - start <= 25 for start, end in ranges[:-1])
    assert ranges[-1][1] == 100
    assert [s for s, _ in ranges][1:] == [e for _, e in ranges][:-1]
