"""kodama.model.evaluation.holes: deterministic held-out files and holes."""

from __future__ import annotations

from pathlib import Path

import pytest

from kodama.model.evaluation import held_out_count, hole_set_hash, pick_holes, walk_repository
from kodama.syntax.analysis import completion_mode
from kodama.syntax.document import SyntaxDocument
from kodama.syntax.languages import detect


def test_holes_are_deterministic_for_a_seed_and_change_with_it(repo: Path) -> None:
    first = pick_holes(repo, holes=12, held_out=3, seed=7)
    second = pick_holes(repo, holes=12, held_out=3, seed=7)
    other = pick_holes(repo, holes=12, held_out=3, seed=8)
    assert first == second
    assert first.hash == second.hash == hole_set_hash(second.holes)
    assert (other.held_out, other.holes) != (first.held_out, first.holes)
    assert other.hash != first.hash


def test_hole_counts_split_two_thirds_single(repo: Path) -> None:
    hole_set = pick_holes(repo, holes=9, held_out=4, seed=1)
    kinds = [h.kind for h in hole_set.holes]
    assert kinds.count("single") == 6 and kinds.count("multi") == 3
    assert len(hole_set.held_out) == 4 and hole_set.files_seen == 4
    # Spread over the held-out files: the first round takes one single hole from each file.
    assert {h.path for h in hole_set.holes[:4]} == set(hole_set.held_out)


def test_every_hole_rebuilds_its_file_and_cuts_at_a_syntactic_point(repo: Path) -> None:
    texts = {f.path: f.text for f in walk_repository(repo)}
    hole_set = pick_holes(repo, holes=60, held_out=4, seed=3)
    assert len(hole_set.holes) > 20
    for hole in hole_set.holes:
        assert hole.prefix + hole.middle + hole.suffix == texts[hole.path]
        assert hole.original_parses
        line_before = hole.prefix.rsplit("\n", 1)[-1]
        if hole.kind == "single":
            assert "\n" not in hole.middle and hole.middle.strip()
            assert line_before.strip(), "a single-line hole keeps code before the cursor"
            assert hole.suffix == "" or hole.suffix.startswith("\n")
            assert "WORD" not in hole.middle, "no holes in comments or docstrings"
            doc = SyntaxDocument("x", hole.prefix + hole.suffix, detect(hole.path))
            assert completion_mode(doc, hole.offset) == "single"
        else:
            assert not line_before.strip(), "multi: the cursor is on the indented first line"
            assert 2 <= len(hole.middle.split("\n")) <= 8
            doc = SyntaxDocument("x", hole.prefix + hole.suffix, detect(hole.path))
            assert completion_mode(doc, hole.offset) == "multi"


def test_held_out_count_accepts_counts_and_fractions() -> None:
    assert held_out_count(3, 10) == 3
    assert held_out_count(25, 10) == 10
    assert held_out_count(0.25, 10) == 2
    assert held_out_count(0.01, 10) == 1
    with pytest.raises(ValueError):
        held_out_count(0, 10)
