"""kodama.model.evaluation.holes: deterministic held-out files and holes."""

from __future__ import annotations

from pathlib import Path

import pytest

from kodama.model.evaluation import (
    MID_MAX_TOKENS,
    find_candidates,
    held_out_count,
    hole_set_hash,
    pick_holes,
    walk_repository,
)
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


def test_mid_holes_cut_a_line_after_its_first_tokens(repo: Path) -> None:
    hole_set = pick_holes(repo, holes=20, held_out=4, seed=3, mid_fraction=0.5,
                          multi_fraction=0.25)
    sources = {f.path: f for f in walk_repository(repo)}
    kinds = [h.kind for h in hole_set.holes]
    assert (kinds.count("mid"), kinds.count("multi"), kinds.count("single")) == (10, 5, 5)
    for hole in hole_set.holes:
        if hole.kind != "mid":
            continue
        assert hole.mode == "single"
        assert "\n" not in hole.middle and hole.middle.strip()
        assert hole.suffix == "" or hole.suffix.startswith("\n")
        # At one of the line's first three cut positions: after its first one to three tokens.
        line_cuts = next(cuts for cuts in find_candidates(sources[hole.path]).single
                         if cuts[0].line == hole.line)
        assert hole.offset in [cut.start for cut in line_cuts[:MID_MAX_TOKENS]]
    lines = [(h.path, h.line) for h in hole_set.holes if h.kind != "multi"]
    assert len(lines) == len(set(lines)), "a line gives at most one hole"


def test_mid_holes_leave_the_other_holes_of_a_seed_alone(repo: Path) -> None:
    plain = pick_holes(repo, holes=12, held_out=4, seed=3)
    with_mid = pick_holes(repo, holes=18, held_out=4, seed=3, mid_fraction=1 / 3)
    assert pick_holes(repo, holes=12, held_out=4, seed=3, mid_fraction=0) == plain
    multi = [h for h in plain.holes if h.kind == "multi"]
    assert multi and multi == [h for h in with_mid.holes if h.kind == "multi"][: len(multi)]


def test_mid_and_multi_shares_cannot_exceed_all_holes(repo: Path) -> None:
    with pytest.raises(ValueError, match="at most 1"):
        pick_holes(repo, holes=10, held_out=2, mid_fraction=0.8, multi_fraction=0.4)
