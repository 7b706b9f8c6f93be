"""The prepared dataset: built from a repository (with replay when continuing from an
installed adapter), kept in the run folder as data and read back exactly; a folder an older
Kodama prepared is refused with a clear message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from helpers.repos import make_repo, module
from kodama.model.config import FineTuneConfig
from kodama.model.finetune import data
from kodama.model.finetune.dataset import (
    DATASET_FILE,
    OUTDATED_DATASET_FILE,
    SEQUENCES_FILE,
    OutdatedRunFolder,
    build_dataset,
    has_dataset,
    load_dataset,
    save_dataset,
    text_hash,
)
from kodama.model.finetune.store import Installed


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_model_dir))


def corpus_of(tmp_path: Path, files: int = 10) -> data.Corpus:
    return data.collect(make_repo(tmp_path / "repo", files=files))


def test_a_fresh_dataset_trains_on_every_training_file(tmp_path: Path, tokenizer: Any) -> None:
    corpus = corpus_of(tmp_path)
    dataset = build_dataset(corpus, tokenizer, FineTuneConfig(), None)
    trained = [path for path, split in dataset.splits.items() if split == "train"]
    assert dataset.stats.splits["train"].files == len(trained)
    assert dataset.changed == [] and dataset.stats.continued_from is None
    assert dataset.stats.skipped == {"secret: secret file (.env)": 1}
    assert dataset.stats.splits["train"].sequences == len(dataset.train) > 0
    assert dataset.test_files() == sorted(p for p, s in dataset.splits.items() if s == "test")
    assert dataset.hashes == {s.path: text_hash(s.text) for s in corpus.files}


def test_continuing_trains_on_what_changed_plus_as_much_replayed(
        tmp_path: Path, tokenizer: Any) -> None:
    corpus = corpus_of(tmp_path, files=12)
    fresh = build_dataset(corpus, tokenizer, FineTuneConfig(), None)
    train_files = sorted(p for p, s in fresh.splits.items() if s == "train")
    changed = train_files[0]
    recorded = {**fresh.hashes, changed: "an older text"}
    previous = Installed(str(corpus.root), "20240101-000000", tmp_path / "adapter",
                         {"source_files": recorded})
    continued = build_dataset(corpus, tokenizer, FineTuneConfig(), previous)
    assert continued.changed == [changed]
    assert continued.stats.continued_from == "20240101-000000"
    assert continued.stats.changed_files == 1
    # The changed file and about as much text again of the unchanged ones, not all of them.
    assert 2 <= continued.stats.splits["train"].files < len(train_files)
    assert continued.stats.splits["test"] == fresh.stats.splits["test"]


def test_nothing_changed_gives_an_empty_change_list(tmp_path: Path, tokenizer: Any) -> None:
    corpus = corpus_of(tmp_path)
    fresh = build_dataset(corpus, tokenizer, FineTuneConfig(), None)
    previous = Installed(str(corpus.root), "20240101-000000", tmp_path / "adapter",
                         {"source_files": fresh.hashes})
    assert build_dataset(corpus, tokenizer, FineTuneConfig(), previous).changed == []


def test_a_repository_without_source_files_is_refused(tmp_path: Path, tokenizer: Any) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no source file to train on"):
        build_dataset(data.collect(tmp_path / "empty"), tokenizer, FineTuneConfig(), None)


def test_the_dataset_is_saved_as_data_and_read_back_exactly(
        tmp_path: Path, tokenizer: Any) -> None:
    corpus = corpus_of(tmp_path)
    (corpus.root / "pkg" / "extra.py").write_text(module(30))
    dataset = build_dataset(data.collect(corpus.root), tokenizer,
                            FineTuneConfig(sequence_tokens=128), None)
    folder = tmp_path / "run"
    folder.mkdir()
    assert not has_dataset(folder)
    save_dataset(dataset, folder)
    assert has_dataset(folder)
    assert (folder / DATASET_FILE).is_file() and (folder / SEQUENCES_FILE).is_file()
    assert not list(folder.glob("*.pt")) and not list(folder.glob("*.tmp"))
    assert load_dataset(folder) == dataset


def test_empty_splits_survive_the_round_trip(tmp_path: Path, tokenizer: Any) -> None:
    corpus = corpus_of(tmp_path)
    dataset = build_dataset(corpus, tokenizer, FineTuneConfig(), None)
    dataset.validation = []
    folder = tmp_path / "run"
    folder.mkdir()
    save_dataset(dataset, folder)
    assert load_dataset(folder).validation == []


def test_a_run_folder_of_an_older_kodama_gets_a_clear_message(tmp_path: Path) -> None:
    folder = tmp_path / "run-20240101-000000"
    folder.mkdir()
    (folder / OUTDATED_DATASET_FILE).write_bytes(b"\x80\x04 a pickle")
    assert has_dataset(folder)
    with pytest.raises(OutdatedRunFolder) as caught:
        load_dataset(folder)
    message = str(caught.value)
    assert "prepared by an older Kodama" in message and "without --resume" in message
    assert str(folder) in message and "\n" not in message
    assert isinstance(caught.value, ValueError)
