"""The completion holes a fine-tune is measured on, kept as data: the hole set and the base
model's answers in the run folder (so a resumed run does not measure again), and the hole set
inside each installed adapter (so the next run can check what that adapter knew).

:func:`previous_holes` gives the holes of the run that made an installed adapter whose files
did not change since (a changed file's holes are moot).
"""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path
from typing import Any

from kodama.model.evaluation import Hole, HoleResult, HoleSet, RunResult, pick_holes
from kodama.model.finetune.data import Corpus

HOLES_FILE = "holes.json.gz"
"""The hole set, in a run folder and in each installed adapter."""
BASE_FILE = "base.json"
"""The base model's answers to the holes, in a run folder."""


def hole_key(hole: Hole) -> str:
    """A hole's identity across runs (two holes can start on one line)."""
    return f"{hole.path}:{hole.kind}:{len(hole.prefix)}:{len(hole.middle)}"


def held_out_holes(corpus: Corpus, test_files: list[str], count: int, seed: int) -> HoleSet:
    """``count`` holes drawn from ``test_files`` of the corpus (all of them held out)."""
    files = [s for s in corpus.files if s.path in set(test_files)]
    return pick_holes(corpus.root, holes=count, held_out=max(1, len(files)), seed=seed,
                      files=files)


def holes_to_json(hole_set: HoleSet) -> dict[str, Any]:
    """``hole_set`` as JSON-ready data."""
    return {"root": hole_set.root, "seed": hole_set.seed, "held_out": list(hole_set.held_out),
            "files_seen": hole_set.files_seen,
            "holes": [dataclasses.asdict(h) for h in hole_set.holes]}


def holes_from_json(data: dict[str, Any]) -> HoleSet:
    """The hole set of :func:`holes_to_json`'s data."""
    return HoleSet(root=data["root"], seed=data["seed"], held_out=tuple(data["held_out"]),
                   holes=tuple(Hole(**h) for h in data["holes"]), files_seen=data["files_seen"])


def save_holes(hole_set: HoleSet, file: Path) -> None:
    """Write ``hole_set`` as gzipped JSON."""
    file.write_bytes(gzip.compress(json.dumps(holes_to_json(hole_set)).encode()))


def load_holes(file: Path) -> HoleSet:
    """The hole set :func:`save_holes` wrote."""
    return holes_from_json(json.loads(gzip.decompress(file.read_bytes())))


def run_to_json(run: RunResult) -> dict[str, Any]:
    """A run's configuration and per-hole results as JSON-ready data."""
    return {"config": run.config, "results": [dataclasses.asdict(r) for r in run.results]}


def run_from_json(data: dict[str, Any]) -> RunResult:
    """The run of :func:`run_to_json`'s data."""
    return RunResult(config=data["config"],
                     results=tuple(HoleResult(**r) for r in data["results"]))


def still_valid(corpus: Corpus, hole_set: HoleSet) -> HoleSet:
    """The previous run's holes whose file is unchanged (a changed file's holes are moot)."""
    current = {s.path: s.text for s in corpus.files}
    kept = tuple(h for h in hole_set.holes
                 if current.get(h.path) == h.prefix + h.middle + h.suffix)
    return dataclasses.replace(hole_set, holes=kept)


def previous_holes(adapter_folder: Path, corpus: Corpus) -> HoleSet | None:
    """The holes of the run that made the adapter in ``adapter_folder`` whose files are
    unchanged (None: it kept no holes, or none is still valid)."""
    file = adapter_folder / HOLES_FILE
    if not file.is_file():
        return None
    kept = still_valid(corpus, load_holes(file))
    return kept if kept.holes else None
