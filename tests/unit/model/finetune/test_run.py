"""The run folder of a fine-tune: a new one replaces abandoned runs, ``--resume`` takes the
last unfinished one, and one an older Kodama prepared is refused with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from kodama.model.finetune.dataset import DATASET_FILE, OUTDATED_DATASET_FILE
from kodama.model.finetune.run import DONE_FILE, run_folder
from kodama.model.finetune.store import repo_key
from kodama.model.weights import cache_root


def runs_of(root: Path) -> Path:
    return cache_root() / "finetune" / repo_key(root)


def make_run(root: Path, name: str, *files: str) -> Path:
    folder = runs_of(root) / name
    folder.mkdir(parents=True)
    for file in files:
        (folder / file).write_text("x")
    return folder


def test_resume_takes_the_last_unfinished_run(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    with pytest.raises(ValueError, match="no interrupted fine-tune"):
        run_folder(root, resume=True)
    make_run(root, "run-20240101-000000", DATASET_FILE)
    last = make_run(root, "run-20240102-000000", DATASET_FILE)
    make_run(root, "run-20240103-000000", DATASET_FILE, DONE_FILE)  # finished
    make_run(root, "run-20240104-000000")  # never got its data
    assert run_folder(root, resume=True) == last


def test_a_new_run_removes_abandoned_ones_and_keeps_finished_ones(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    abandoned = make_run(root, "run-20240101-000000", DATASET_FILE)
    finished = make_run(root, "run-20240102-000000", DATASET_FILE, DONE_FILE)
    fresh = run_folder(root, resume=False)
    assert fresh.is_dir() and fresh.parent == runs_of(root)
    assert not abandoned.exists() and finished.is_dir()


def test_resuming_a_run_of_an_older_kodama_says_to_start_again(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    old = make_run(root, "run-20240101-000000", OUTDATED_DATASET_FILE)
    with pytest.raises(ValueError, match="prepared by an older Kodama") as caught:
        run_folder(root, resume=True)
    assert str(old) in str(caught.value)
