"""How a completion is scored at a hole, and the scores aggregated over many holes.

Exact match and edit similarity of the normalised texts, whether the file still parses, and
per-kind summaries (rates, latency percentiles) of a run's results.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kodama.model.evaluation.holes import Hole, HoleKind
from kodama.syntax.analysis import parses


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions of one character each)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def normalize(text: str, kind: HoleKind) -> str:
    """The text compared by the scores: trimmed; multi-line also without trailing spaces per
    line and without blank lines at either end."""
    if kind != "multi":
        return text.strip()
    return "\n".join(line.rstrip() for line in text.strip().split("\n"))


def exact_match(expected: str, actual: str, kind: HoleKind) -> bool:
    """Equality after :func:`normalize` (whitespace-trimmed; line by line for multi-line)."""
    return normalize(expected, kind) == normalize(actual, kind)


def edit_similarity(expected: str, actual: str, kind: HoleKind = "single") -> float:
    """``1 - levenshtein / max(len)`` of the normalised texts (1.0 for two empty texts)."""
    a, b = normalize(expected, kind), normalize(actual, kind)
    longest = max(len(a), len(b))
    return 1.0 if longest == 0 else 1.0 - levenshtein(a, b) / longest


@dataclass(frozen=True)
class HoleResult:
    """One hole's completion and scores."""

    path: str
    kind: HoleKind
    line: int
    expected: str
    completion: str
    exact: bool
    edit_similarity: float
    parses: bool | None
    """Whether ``prefix + completion + suffix`` parses; None when the completion is empty or
    the original file did not parse (not counted in the parse rate)."""
    empty: bool
    latency_ms: float
    prompt_tokens: int = 0
    new_tokens: int = 0
    stop_reason: str = ""
    snippets: int = 0
    """Repository-context snippets given to the model."""


def score(hole: Hole, completion: str, latency_ms: float, **extra: Any) -> HoleResult:
    """Score ``completion`` at ``hole`` (``extra``: token counts, stop reason, snippets)."""
    empty = not completion.strip()
    still_parses: bool | None = None
    if not empty and hole.original_parses:
        still_parses = parses(hole.language, hole.prefix + completion + hole.suffix)
    return HoleResult(
        path=hole.path, kind=hole.kind, line=hole.line, expected=hole.middle,
        completion=completion, exact=exact_match(hole.middle, completion, hole.kind),
        edit_similarity=edit_similarity(hole.middle, completion, hole.kind),
        parses=still_parses, empty=empty, latency_ms=latency_ms, **extra,
    )



@dataclass(frozen=True)
class RunResult:
    """The results of one configuration on a hole set."""

    config: dict[str, Any]
    results: tuple[HoleResult, ...]
    dropped_snippets: int = 0
    """Snippets the provider offered from other held-out files (dropped: they would leak)."""



def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``; NaN when empty."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[rank]


@dataclass(frozen=True)
class Summary:
    """Aggregates over a group of hole results."""

    holes: int
    exact_match: float
    edit_similarity: float
    parse_rate: float | None
    """Share of non-empty completions (in files that parsed) after which the file parses."""
    parse_checked: int
    empty_rate: float
    latency_p50_ms: float
    latency_p95_ms: float
    exact_count: int = 0


def summarize(results: Sequence[HoleResult]) -> Summary:
    """Aggregate ``results`` (rates in [0, 1], latencies in ms)."""
    n = len(results)
    checked = [r.parses for r in results if r.parses is not None]
    latencies = [r.latency_ms for r in results]
    exact = sum(r.exact for r in results)
    return Summary(
        holes=n,
        exact_match=exact / n if n else 0.0,
        edit_similarity=sum(r.edit_similarity for r in results) / n if n else 0.0,
        parse_rate=sum(checked) / len(checked) if checked else None,
        parse_checked=len(checked),
        empty_rate=sum(r.empty for r in results) / n if n else 0.0,
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
        exact_count=exact,
    )


def summaries(run: RunResult) -> dict[str, Summary]:
    """Per kind (``single``, ``mid``, ``multi``) and ``all``."""
    groups: dict[str, Summary] = {}
    for kind in ("single", "mid", "multi"):
        subset = [r for r in run.results if r.kind == kind]
        if subset:
            groups[kind] = summarize(subset)
    groups["all"] = summarize(run.results)
    return groups



def paired_exact(base: RunResult, other: RunResult, kind: str = "all") -> tuple[int, int]:
    """Holes exactly matched by ``other`` but not ``base`` (wins), and the reverse (losses)."""
    wins = losses = 0
    for a, b in zip(base.results, other.results, strict=True):
        if kind != "all" and a.kind != kind:
            continue
        wins += b.exact and not a.exact
        losses += a.exact and not b.exact
    return wins, losses

