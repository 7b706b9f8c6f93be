"""Pure parts of the completion-quality panel (``benchmarks/quality.py``): pairing, statistics,
tables.

Reads the JSON that ``kodama eval --json`` writes (``report_json``): per run, its ``config``
(``context`` is ``raw`` or ``repo``…) and its per-hole ``results`` (``kind``, ``exact``,
``edit_similarity``, ``parses``, ``empty``, ``latency_ms``), every run in the same hole order.
Pairs the baseline's and the served path's answers hole by hole, and sums them up per
repository and pooled over repositories: exact match with a paired, stratified bootstrap
interval of the difference, wins and losses, edit similarity, empty answers, files still
parseable, served latency. No torch, no model: unit-tested in
``tests/unit/bench/test_bench_quality.py``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from kodama.model.evaluation import percentile

RAW = "raw"
"""The ``kodama eval`` context of the bare model (plain FIM prompt, no repository context)."""
SERVED = "repo"
"""The ``kodama eval`` context of the served path (repository snippets, stop rules, filters)."""
KINDS = ("single", "mid", "multi")
"""Hole kinds, in table order."""
IDENTITY = ("path", "line", "kind", "expected")
"""Fields of a result that identify its hole: equal in both runs of a pair."""


class HoleMismatch(ValueError):
    """The two runs of a pair were not measured on the same holes."""


@dataclass(frozen=True)
class Paired:
    """One repository's holes, answered by the baseline (``raw``) and the served path, in the
    same hole order."""

    name: str
    raw: tuple[Mapping[str, Any], ...]
    served: tuple[Mapping[str, Any], ...]

    def __len__(self) -> int:
        return len(self.raw)

    def of_kind(self, kind: str) -> Paired:
        """Only the holes of ``kind``."""
        keep = [i for i, r in enumerate(self.raw) if r["kind"] == kind]
        return Paired(self.name, tuple(self.raw[i] for i in keep),
                      tuple(self.served[i] for i in keep))

    def differences(self) -> list[int]:
        """Per hole: 1 when only the served answer is exact, -1 when only the raw one, else 0."""
        return [int(bool(s["exact"])) - int(bool(r["exact"]))
                for r, s in zip(self.raw, self.served, strict=True)]


def pair(name: str, raw: tuple[str, Sequence[Mapping[str, Any]]],
         served: tuple[str, Sequence[Mapping[str, Any]]]) -> Paired:
    """The pair of two runs given as (hole-set hash, results).

    Raises :class:`HoleMismatch` when they were not measured on the same holes: other hashes,
    other numbers of holes, or a hole that differs (path, line, kind or expected text).
    """
    (raw_hash, raw_results), (served_hash, served_results) = raw, served
    if raw_hash != served_hash:
        raise HoleMismatch(f"{name}: the baseline ran on hole set {raw_hash} and the served "
                           f"path on {served_hash}: not the same holes")
    if len(raw_results) != len(served_results):
        raise HoleMismatch(f"{name}: the baseline has {len(raw_results)} results and the served "
                           f"path {len(served_results)}: not the same holes")
    for number, (a, b) in enumerate(zip(raw_results, served_results, strict=True), 1):
        differ = [f for f in IDENTITY if a.get(f) != b.get(f)]
        if differ:
            raise HoleMismatch(f"{name}: hole {number} differs between the runs "
                               f"({', '.join(differ)}: {a.get('path')}:{a.get('line')} vs "
                               f"{b.get('path')}:{b.get('line')}): not the same holes")
    return Paired(name, tuple(raw_results), tuple(served_results))


def runs_by_context(report: Mapping[str, Any]) -> dict[str, list[Mapping[str, Any]]]:
    """The runs of a ``kodama eval --json`` document by their ``config["context"]``."""
    found: dict[str, list[Mapping[str, Any]]] = {}
    for run in report.get("runs", ()):
        found.setdefault(str(run.get("config", {}).get("context", "")), []).append(run)
    return found


def paired_from_report(name: str, report: Mapping[str, Any], *, baseline: str = RAW,
                       served: str = SERVED) -> Paired:
    """The ``baseline`` and ``served`` context runs of one ``kodama eval --json`` document,
    paired (the first run of each context). ValueError when one is missing."""
    runs = runs_by_context(report)
    missing = [c for c in (baseline, served) if c not in runs]
    if missing:
        raise ValueError(f"{name}: no {' or '.join(missing)} run in the report (it has "
                         f"{', '.join(sorted(runs)) or 'none'}): an unfinished kodama eval?")
    digest = str(report.get("hole_set", {}).get("hash", ""))
    return pair(name, (digest, runs[baseline][0]["results"]),
                (digest, runs[served][0]["results"]))


# ---------------------------------------------------------------------------- statistics
def bootstrap_interval(groups: Sequence[Sequence[float]], *, resamples: int = 2000,
                       seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the pooled mean of per-hole values.

    Stratified: each resample draws, with replacement, as many values from each group (a
    repository) as it has, so the groups keep their sizes. Empty groups are left out; NaNs
    when all are empty.
    """
    groups = [list(g) for g in groups if len(g)]
    total = sum(len(g) for g in groups)
    if not total:
        return math.nan, math.nan
    rng = random.Random(seed)
    means = sorted(sum(sum(rng.choices(g, k=len(g))) for g in groups) / total
                   for _ in range(resamples))
    tail = (1 - level) / 2 * 100
    return percentile(means, tail), percentile(means, 100 - tail)


@dataclass(frozen=True)
class Figures:
    """Baseline (raw) against served over a group of holes. Shares are in [0, 1]."""

    holes: int
    raw_exact: int
    served_exact: int
    delta_points: float
    """Served minus raw exact-match rate, in percentage points."""
    delta_low: float
    delta_high: float
    """The 95 % paired bootstrap interval of ``delta_points``."""
    wins: int
    """Holes the served answer matches exactly and the raw one does not."""
    losses: int
    raw_edit_similarity: float
    served_edit_similarity: float
    raw_empty: int
    served_empty: int
    raw_parses: int
    raw_parse_checked: int
    """Non-empty raw answers whose parse was checked; ``raw_parses`` of them parsed."""
    served_parses: int
    served_parse_checked: int
    served_p50_ms: float
    served_p95_ms: float

    def as_json(self) -> dict[str, Any]:
        """JSON-ready, rates included (NaN as None)."""
        data: dict[str, Any] = {k: (None if isinstance(v, float) and math.isnan(v) else v)
                                for k, v in asdict(self).items()}
        n = self.holes or math.nan
        for who in ("raw", "served"):
            checked = data[f"{who}_parse_checked"]
            data[f"{who}_exact_rate"] = _finite(data[f"{who}_exact"] / n)
            data[f"{who}_empty_rate"] = _finite(data[f"{who}_empty"] / n)
            data[f"{who}_parse_rate"] = data[f"{who}_parses"] / checked if checked else None
        return data


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else value


def _parse_counts(results: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
    checked = [r["parses"] for r in results if r.get("parses") is not None and not r["empty"]]
    return sum(bool(p) for p in checked), len(checked)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def figures(groups: Sequence[Paired], *, resamples: int = 2000, seed: int = 0) -> Figures:
    """The figures of the holes of ``groups`` pooled (one group: a repository's own); the
    interval resamples holes within each group."""
    raw = [r for g in groups for r in g.raw]
    served = [s for g in groups for s in g.served]
    diffs = [d for g in groups for d in g.differences()]
    low, high = bootstrap_interval([g.differences() for g in groups], resamples=resamples,
                                   seed=seed)
    raw_ok, raw_checked = _parse_counts(raw)
    served_ok, served_checked = _parse_counts(served)
    latencies = [float(s["latency_ms"]) for s in served]
    return Figures(
        holes=len(raw), raw_exact=sum(bool(r["exact"]) for r in raw),
        served_exact=sum(bool(s["exact"]) for s in served),
        delta_points=100 * _mean(diffs), delta_low=100 * low, delta_high=100 * high,
        wins=diffs.count(1), losses=diffs.count(-1),
        raw_edit_similarity=_mean([float(r["edit_similarity"]) for r in raw]),
        served_edit_similarity=_mean([float(s["edit_similarity"]) for s in served]),
        raw_empty=sum(bool(r["empty"]) for r in raw),
        served_empty=sum(bool(s["empty"]) for s in served),
        raw_parses=raw_ok, raw_parse_checked=raw_checked,
        served_parses=served_ok, served_parse_checked=served_checked,
        served_p50_ms=percentile(latencies, 50), served_p95_ms=percentile(latencies, 95),
    )


def by_kind(groups: Sequence[Paired], *, resamples: int = 2000,
            seed: int = 0) -> dict[str, Figures]:
    """Pooled figures per hole kind (:data:`KINDS` order, then any other), kinds with holes."""
    present = {str(r["kind"]) for g in groups for r in g.raw}
    kinds = [k for k in KINDS if k in present] + sorted(present - set(KINDS))
    return {kind: figures([g.of_kind(kind) for g in groups], resamples=resamples, seed=seed)
            for kind in kinds}


# -------------------------------------------------------------------------------- tables
COLUMNS = ("repository", "holes", "exact raw", "exact served", "Δ exact, points [95 % CI]",
           "wins / losses", "edit sim raw → served", "empty raw → served", "parses raw",
           "parses served", "served p50 / p95 ms")


def _rate(count: int, total: int) -> str:
    return f"{100 * count / total:.1f} % ({count})" if total else "–"


def _share(count: int, total: int) -> str:
    return f"{100 * count / total:.0f} %" if total else "–"


def _points(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:+.1f}"


def _ms(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.0f}"


def _sim(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.3f}"


def table_row(label: str, f: Figures) -> str:
    """One Markdown row (columns :data:`COLUMNS`)."""
    cells = [
        label, str(f.holes), _rate(f.raw_exact, f.holes), _rate(f.served_exact, f.holes),
        f"{_points(f.delta_points)} [{_points(f.delta_low)}, {_points(f.delta_high)}]",
        f"+{f.wins} / -{f.losses}",
        f"{_sim(f.raw_edit_similarity)} → {_sim(f.served_edit_similarity)}",
        f"{_share(f.raw_empty, f.holes)} → {_share(f.served_empty, f.holes)}",
        f"{_share(f.raw_parses, f.raw_parse_checked)} ({f.raw_parses}/{f.raw_parse_checked})",
        f"{_share(f.served_parses, f.served_parse_checked)} "
        f"({f.served_parses}/{f.served_parse_checked})",
        f"{_ms(f.served_p50_ms)} / {_ms(f.served_p95_ms)}",
    ]
    return "| " + " | ".join(cells) + " |"


def markdown_table(rows: Sequence[tuple[str, Figures]], first: str = "repository") -> str:
    """A Markdown table of (label, figures) rows; ``first`` names the label column."""
    header = (first, *COLUMNS[1:])
    return "\n".join(["| " + " | ".join(header) + " |",
                      "|---|" + "---:|" * (len(header) - 1),
                      *(table_row(label, f) for label, f in rows)])
