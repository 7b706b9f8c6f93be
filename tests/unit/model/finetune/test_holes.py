"""The holes a fine-tune is measured on: kept as data and read back, and the previous run's
holes kept only where their file did not change."""

from __future__ import annotations

from pathlib import Path

from helpers.repos import make_repo, module
from kodama.model.evaluation import HoleResult, RunResult
from kodama.model.finetune import data
from kodama.model.finetune.holes import (
    HOLES_FILE,
    held_out_holes,
    hole_key,
    load_holes,
    previous_holes,
    run_from_json,
    run_to_json,
    save_holes,
    still_valid,
)


def test_holes_come_from_the_test_files_and_survive_the_round_trip(tmp_path: Path) -> None:
    corpus = data.collect(make_repo(tmp_path / "repo"))
    test_files = ["pkg/mod1.py", "pkg/mod4.py"]
    hole_set = held_out_holes(corpus, test_files, count=8, seed=3)
    assert hole_set.holes and {h.path for h in hole_set.holes} <= set(test_files)
    assert sorted(hole_set.held_out) == test_files
    save_holes(hole_set, tmp_path / HOLES_FILE)
    assert load_holes(tmp_path / HOLES_FILE) == hole_set
    keys = [hole_key(h) for h in hole_set.holes]
    assert len(set(keys)) == len(keys)


def test_run_results_survive_the_round_trip() -> None:
    run = RunResult(config={"model": "base"}, results=(HoleResult(
        path="a.py", kind="single", line=3, expected="x", completion="y", exact=False,
        edit_similarity=0.5, parses=None, empty=False, latency_ms=2.0, snippets=1),))
    assert run_from_json(run_to_json(run)) == run


def test_only_the_holes_of_unchanged_files_stay_valid(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    corpus = data.collect(root)
    hole_set = held_out_holes(corpus, ["pkg/mod1.py", "pkg/mod4.py"], count=8, seed=3)
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    assert previous_holes(adapter, corpus) is None, "an adapter that kept no holes"
    save_holes(hole_set, adapter / HOLES_FILE)
    assert previous_holes(adapter, corpus) == hole_set

    (root / "pkg" / "mod1.py").write_text(module(50))
    changed = data.collect(root)
    kept = still_valid(changed, hole_set)
    assert kept.holes and all(h.path == "pkg/mod4.py" for h in kept.holes)
    assert previous_holes(adapter, changed) == kept

    (root / "pkg" / "mod4.py").write_text(module(51))
    assert previous_holes(adapter, data.collect(root)) is None
