"""The holes of an evaluation: held-out files and positions in them, drawn from a seed only.

Same repository + same seed + same counts ⇒ the same holes; :func:`hole_set_hash` identifies
the set so that two runs can be matched.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from kodama.model.evaluation.cuts import Cut, find_candidates
from kodama.model.evaluation.files import SourceFile, walk_repository
from kodama.model.types import Mode

HoleKind = Literal["single", "mid", "multi"]
"""A hole in one line cut at any of its tokens (``single``), a line cut after its first one to
:data:`MID_MAX_TOKENS` tokens (``mid``: where people pause while typing a line), or a whole
block body (``multi``)."""

MID_MAX_TOKENS = 3
"""A ``mid`` hole keeps at most this many tokens of its line before the cursor."""


@dataclass(frozen=True)
class Hole:
    """A position to complete: the document is ``prefix + suffix`` and the answer ``middle``."""

    path: str
    language: str
    kind: HoleKind
    prefix: str
    middle: str
    """The original text that was cut out (what a perfect completion inserts)."""
    suffix: str
    line: int
    """0-based line of the cursor."""
    original_parses: bool
    """Whether the original file (with its middle) parses without errors."""

    @property
    def offset(self) -> int:
        """Code-point offset of the cursor in the holed document."""
        return len(self.prefix)

    @property
    def mode(self) -> Mode:
        """The completion mode asked for: ``multi`` for a block body, else ``single``."""
        return "multi" if self.kind == "multi" else "single"



def _hole(source: SourceFile, kind: HoleKind, cut: Cut, original_parses: bool) -> Hole:
    return Hole(
        path=source.path, language=source.language, kind=kind,
        prefix=source.text[: cut.start], middle=source.text[cut.start: cut.end],
        suffix=source.text[cut.end:], line=cut.line, original_parses=original_parses,
    )


def held_out_count(requested: float, available: int) -> int:
    """How many files ``--held-out-files`` asks for: a count (≥ 1) or a fraction (< 1)."""
    if requested <= 0:
        raise ValueError(f"held-out files must be positive, not {requested}")
    count = round(requested * available) if requested < 1 else int(requested)
    return max(1, min(count, available))


@dataclass(frozen=True)
class HoleSet:
    """The holes of one evaluation and where they come from."""

    root: str
    seed: int
    held_out: tuple[str, ...]
    """Held-out files (repository-relative), in the order they were drawn."""
    holes: tuple[Hole, ...]
    files_seen: int
    """Source files the walk found."""

    @property
    def hash(self) -> str:
        """Identity of the hole set (see :func:`hole_set_hash`)."""
        return hole_set_hash(self.holes)


def hole_set_hash(holes: Sequence[Hole]) -> str:
    """SHA-256 over every hole's path, kind, prefix, middle and suffix (first 16 hex digits).

    Two runs with the same hash were scored on exactly the same holes.
    """
    digest = hashlib.sha256()
    for hole in holes:
        digest.update(json.dumps([hole.path, hole.kind, hole.prefix, hole.middle, hole.suffix],
                                 ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()[:16]


def _round_robin(rng: random.Random, pools: list[list[Any]], count: int) -> list[Any]:
    """Take one item per pool in turn (each pool already shuffled) until ``count`` items."""
    taken: list[Any] = []
    index = [0] * len(pools)
    while len(taken) < count and any(i < len(p) for i, p in zip(index, pools, strict=True)):
        for k, pool in enumerate(pools):
            if len(taken) >= count:
                break
            if index[k] < len(pool):
                taken.append(pool[index[k]])
                index[k] += 1
    return taken


def pick_holes(
    root: Path,
    *,
    holes: int = 60,
    multi_fraction: float = 1 / 3,
    mid_fraction: float = 0.0,
    held_out: float = 10,
    seed: int = 0,
    files: Sequence[SourceFile] | None = None,
) -> HoleSet:
    """Choose held-out files and ``holes`` holes in them: about ``multi_fraction`` multi-line,
    ``mid_fraction`` cut after the first tokens of a line (``mid``), the rest ``single``.

    Everything is drawn from ``random.Random(seed)`` over sorted inputs: the same repository,
    seed and counts always give the same :class:`HoleSet` (and without ``mid`` holes the same
    set as before they existed). Only files with single-line hole positions are held out. Holes
    are spread over the held-out files in turn (one per file per round); a line gives at most
    one hole. ``held_out`` is a number of files (≥ 1) or a fraction of them (< 1).
    """
    sources = list(files) if files is not None else walk_repository(root)
    rng = random.Random(seed)
    eligible = [s for s in sources if find_candidates(s, multi=False).single]
    if not eligible:
        raise ValueError(f"no source file with hole positions under {root}")
    if not 0 <= multi_fraction + mid_fraction <= 1:
        raise ValueError("the multi-line and mid-line shares must add up to at most 1")
    chosen = [find_candidates(s)
              for s in rng.sample(eligible, held_out_count(held_out, len(eligible)))]
    n_multi = round(holes * multi_fraction)
    n_mid = min(holes - n_multi, round(holes * mid_fraction))
    n_single = holes - n_multi - n_mid

    line_orders: list[list[list[Cut]]] = []
    single_pools: list[list[Hole]] = []
    multi_pools: list[list[Hole]] = []
    for cand in chosen:
        lines = list(cand.single)
        rng.shuffle(lines)
        line_orders.append(lines)
        single_pools.append([_hole(cand.source, "single", rng.choice(cuts), cand.parses)
                             for cuts in lines])
        blocks = list(cand.multi)
        rng.shuffle(blocks)
        multi_pools.append([_hole(cand.source, "multi", cut, cand.parses) for cut in blocks])
    mid: list[Hole] = []
    if n_mid:
        # A generator of its own, lines from the far end of each file's order: the other holes
        # stay those of the same set without mid holes, as far as lines allow.
        mid_rng = random.Random(f"{seed}:mid")
        mid_pools = [[_hole(c.source, "mid", mid_rng.choice(cuts[:MID_MAX_TOKENS]), c.parses)
                      for cuts in lines[::-1]]
                     for c, lines in zip(chosen, line_orders, strict=True)]
        mid = _round_robin(mid_rng, mid_pools, n_mid)
        taken = {(h.path, h.line) for h in mid}
        single_pools = [[h for h in pool if (h.path, h.line) not in taken]
                        for pool in single_pools]
    picked = (_round_robin(rng, single_pools, n_single) + mid
              + _round_robin(rng, multi_pools, n_multi))
    return HoleSet(
        root=str(root), seed=seed, held_out=tuple(c.source.path for c in chosen),
        holes=tuple(picked), files_seen=len(sources),
    )
