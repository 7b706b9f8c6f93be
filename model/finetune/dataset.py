"""The prepared data of one fine-tune: each file's split, the packed sequences of each split, the
statistics the user sees, and which training files changed since the installed adapter.

:func:`build_dataset` makes it from a :class:`~kodama.model.finetune.data.Corpus` (with
continual replay when training continues from an installed adapter); :func:`save_dataset` and
:func:`load_dataset` keep it in the run folder for ``--resume`` as plain data: the token ids in
a safetensors file, everything else in JSON. A run folder prepared by an older Kodama (a
pickle) cannot be resumed: :class:`OutdatedRunFolder` says so.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kodama.model.config import FineTuneConfig
from kodama.model.finetune import data as fdata
from kodama.model.finetune.adapter_versions import Installed
from kodama.model.finetune.data import PackedSequence, Split

VALIDATION_SEQUENCES = 16
"""Sequences of the validation (and test) loss: about 6,000 tokens, 40 s on a 2-core CPU."""
DATASET_FILE = "dataset.json"
"""The prepared dataset's metadata in a run folder (written last: its presence marks a
complete dataset)."""
SEQUENCES_FILE = "sequences.safetensors"
"""The packed sequences' token ids and labels in a run folder."""
OUTDATED_DATASET_FILE = "dataset.pt"
"""What older Kodama versions saved instead (a pickle, no longer read)."""
FORMAT = 1
SPLIT_NAMES: tuple[Split, ...] = ("train", "validation", "test")


class OutdatedRunFolder(ValueError):
    """The run folder was prepared by an older Kodama, in a format this one does not read."""

    def __init__(self, folder: Path) -> None:
        """``folder``: the run folder."""
        super().__init__(f"the interrupted fine-tune in {folder} was prepared by an older "
                         "Kodama and cannot be resumed: start it again without --resume")


@dataclass(frozen=True)
class SplitStats:
    """What one split holds."""

    files: int
    lines: int
    examples: int
    tokens: int
    sequences: int
    """Packed sequences (validation and test are capped at :data:`VALIDATION_SEQUENCES`)."""


@dataclass(frozen=True)
class DataStats:
    """The data statistics of a run, as printed and reported."""

    files_seen: int
    skipped: dict[str, int]
    """Reason → files left out after the walk (secrets, near-duplicates)."""
    skipped_examples: dict[str, list[str]]
    """Reason → the first few paths left out for it."""
    splits: dict[str, SplitStats]
    example_kinds: dict[str, int]
    """Example kind → count, in the training split."""
    continued_from: str | None
    """The installed adapter version training continues from (None: the base model)."""
    changed_files: int
    """Training files new or changed since that adapter."""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DataStats:
        """The statistics of :func:`dataclasses.asdict`'s output."""
        splits = {name: SplitStats(**split) for name, split in data["splits"].items()}
        return cls(**{**data, "splits": splits})


@dataclass
class PreparedDataset:
    """Everything the run trains and measures on."""

    splits: dict[str, Split]
    """Path → split of every trainable file."""
    hashes: dict[str, str]
    """Path → SHA-256 of every trainable file's text."""
    train: list[PackedSequence]
    validation: list[PackedSequence]
    test: list[PackedSequence]
    stats: DataStats
    changed: list[str]
    """Training files new or changed since the installed adapter (continual learning)."""

    def sequences(self, name: Split) -> list[PackedSequence]:
        """The packed sequences of split ``name``."""
        return {"train": self.train, "validation": self.validation, "test": self.test}[name]

    def test_files(self) -> list[str]:
        """The held-out test files, sorted."""
        return sorted(path for path, split in self.splits.items() if split == "test")


def text_hash(text: str) -> str:
    """SHA-256 of ``text`` in hex (a file's identity across runs)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------ building
def _training_sources(corpus: fdata.Corpus, splits: dict[str, Split], hashes: dict[str, str],
                      seed: int, previous_files: dict[str, str] | None
                      ) -> tuple[list[fdata.SourceFile], list[str]]:
    """The training files to use, and which of them changed: every one for a fresh run; after
    an installed adapter (whose file hashes are ``previous_files``) the changed ones plus as
    much text again of the others, in a seeded order (replay against forgetting)."""
    train_sources = [s for s in corpus.files if splits[s.path] == "train"]
    if previous_files is None:
        return train_sources, []
    changed = [s.path for s in train_sources if previous_files.get(s.path) != hashes[s.path]]
    kept = [s for s in train_sources if s.path not in set(changed)]
    budget = sum(len(s.text) for s in train_sources if s.path in set(changed))
    replay: list[fdata.SourceFile] = []
    for source in sorted(kept, key=lambda s: text_hash(f"{seed}:{s.path}")):
        if sum(len(r.text) for r in replay) >= budget:
            break
        replay.append(source)
    return [s for s in train_sources if s.path in set(changed)] + replay, changed


def build_dataset(corpus: fdata.Corpus, tokenizer: Any, config: FineTuneConfig,
                  previous: Installed | None) -> PreparedDataset:
    """Collect, split, render and pack the repository's examples; with ``previous`` (the
    installed adapter), training sees what changed since it plus as much again of the rest
    (replay against forgetting)."""
    from kodama.model.prompt import detect_fim
    from kodama.model.tokens import PlainText

    root = corpus.root
    if not corpus.files:
        raise ValueError(f"{root}: no source file to train on (languages with a grammar, not "
                         "ignored, not secret, not generated)")
    splits = fdata.split(corpus.files, seed=config.seed, test_fraction=config.test_fraction,
                         validation_fraction=config.validation_fraction)
    hashes = {s.path: text_hash(s.text) for s in corpus.files}
    previous_files = previous.meta.get("source_files", {}) if previous is not None else None
    train_sources, changed = _training_sources(corpus, splits, hashes, config.seed,
                                               previous_files)
    chosen = set(s.path for s in train_sources)
    encoder = PlainText(tokenizer)
    vocab = tokenizer.get_vocab()
    fim = detect_fim(vocab)
    end_id = fdata.end_token(vocab, tokenizer.eos_token_id)
    shape = fdata.ExampleShape()
    per_split: dict[str, list[fdata.Example]] = {name: [] for name in SPLIT_NAMES}
    lines: Counter[str] = Counter()
    files: Counter[str] = Counter()
    for source in corpus.files:
        name = splits[source.path]
        if name == "train" and source.path not in chosen:
            continue
        per_split[name] += fdata.file_examples(source, encoder, fim, end_id, shape,
                                               config.seed)
        lines[name] += source.text.count("\n") + 1
        files[name] += 1
    packed = {name: fdata.pack(examples, config.sequence_tokens, config.seed)
              for name, examples in per_split.items()}
    # Validation and test losses are estimates: a few thousand tokens are plenty.
    for name in ("validation", "test"):
        packed[name] = packed[name][:VALIDATION_SEQUENCES]
    if not packed["train"] and (previous is None or changed):
        raise ValueError(f"{root}: the training files gave no examples")
    stats = DataStats(
        files_seen=len(corpus.files) + sum(corpus.skipped.values()),
        skipped=dict(corpus.skipped),
        skipped_examples=corpus.examples_of_skips,
        splits={name: SplitStats(files[name], lines[name], len(per_split[name]),
                                 sum(len(e.ids) for e in per_split[name]), len(packed[name]))
                for name in SPLIT_NAMES},
        example_kinds=dict(Counter(e.kind for e in per_split["train"])),
        continued_from=previous.version if previous is not None else None,
        changed_files=len(changed),
    )
    return PreparedDataset(splits, hashes, packed["train"], packed["validation"],
                           packed["test"], stats, changed)


# ------------------------------------------------------------------------ saving
def save_dataset(dataset: PreparedDataset, folder: Path) -> None:
    """Write ``dataset`` into the run folder: the sequences first, then the metadata file
    (atomically), so a folder with :data:`DATASET_FILE` holds a complete dataset."""
    import torch
    from safetensors.torch import save_file

    tensors: dict[str, torch.Tensor] = {}
    for name in SPLIT_NAMES:
        sequences = dataset.sequences(name)
        tensors[f"{name}.ids"] = torch.tensor(
            [i for s in sequences for i in s.ids], dtype=torch.int32)
        tensors[f"{name}.labels"] = torch.tensor(
            [label for s in sequences for label in s.labels], dtype=torch.int32)
        tensors[f"{name}.lengths"] = torch.tensor([len(s.ids) for s in sequences],
                                                  dtype=torch.int64)
    save_file(tensors, str(folder / SEQUENCES_FILE))
    meta = {"format": FORMAT, "splits": dataset.splits, "hashes": dataset.hashes,
            "stats": asdict(dataset.stats), "changed": dataset.changed}
    fresh = folder / f"{DATASET_FILE}.tmp"
    fresh.write_text(json.dumps(meta), encoding="utf-8")
    os.replace(fresh, folder / DATASET_FILE)


def has_dataset(folder: Path) -> bool:
    """Whether ``folder`` holds a prepared dataset, in this format or an outdated one."""
    return (folder / DATASET_FILE).is_file() or (folder / OUTDATED_DATASET_FILE).is_file()


def load_dataset(folder: Path) -> PreparedDataset:
    """The dataset :func:`save_dataset` wrote into ``folder``; :class:`OutdatedRunFolder`
    when an older Kodama prepared it."""
    from safetensors.torch import load_file

    meta_file = folder / DATASET_FILE
    if not meta_file.is_file() and (folder / OUTDATED_DATASET_FILE).is_file():
        raise OutdatedRunFolder(folder)
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise OutdatedRunFolder(folder)
    tensors = load_file(str(folder / SEQUENCES_FILE))
    packed: dict[str, list[PackedSequence]] = {}
    for name in SPLIT_NAMES:
        ids, labels = tensors[f"{name}.ids"].tolist(), tensors[f"{name}.labels"].tolist()
        packed[name], start = [], 0
        for length in tensors[f"{name}.lengths"].tolist():
            packed[name].append(PackedSequence(ids[start:start + length],
                                               labels[start:start + length]))
            start += length
    return PreparedDataset(meta["splits"], meta["hashes"], packed["train"],
                           packed["validation"], packed["test"],
                           DataStats.from_json(meta["stats"]), meta["changed"])
