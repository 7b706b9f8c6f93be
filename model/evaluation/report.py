"""The results as text: a Markdown table, and a JSON document that can be read back.

:func:`runs_from_json` reads a :func:`report_json` document back (a baseline to compare with).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from kodama.model.evaluation.holes import HoleSet
from kodama.model.evaluation.scoring import HoleResult, RunResult, paired_exact, summaries


def config_label(config: dict[str, Any]) -> str:
    """A short name for a configuration (``context=repo quantization=int8`` …)."""
    keys = ("model", "dtype", "quantization", "context")
    return " ".join(f"{k}={config[k]}" for k in keys if k in config) or "run"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def markdown_table(hole_set: HoleSet, runs: Sequence[RunResult]) -> str:
    """The results as a Markdown table: one row per configuration and hole kind.

    With several runs, ``Δ exact`` compares each run's exact matches with the first run's on
    the same holes (``+wins/-losses``).
    """
    header = (f"Holes {hole_set.hash} — {len(hole_set.holes)} holes in "
              f"{len(hole_set.held_out)} held-out of {hole_set.files_seen} files, "
              f"seed {hole_set.seed}, {hole_set.root}\n\n")
    rows = ["| config | kind | holes | exact | edit sim | parses | empty | p50 ms | p95 ms "
            "| Δ exact |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    base = runs[0] if runs else None
    for run in runs:
        for kind, s in summaries(run).items():
            delta = ""
            if base is not None and run is not base:
                wins, losses = paired_exact(base, run, kind)
                delta = f"+{wins}/-{losses}"
            parse = _pct(s.parse_rate) + (f" ({s.parse_checked})" if s.parse_checked else "")
            rows.append(
                f"| {config_label(run.config)} | {kind} | {s.holes} | "
                f"{_pct(s.exact_match)} ({s.exact_count}) | {s.edit_similarity:.3f} | {parse} | "
                f"{_pct(s.empty_rate)} | {s.latency_p50_ms:.0f} | {s.latency_p95_ms:.0f} | "
                f"{delta} |"
            )
    return header + "\n".join(rows) + "\n"



def report_json(hole_set: HoleSet, runs: Sequence[RunResult]) -> dict[str, Any]:
    """Everything as JSON-ready data: the hole set (with its hash) and each run's summaries
    and per-hole results."""
    return {
        "version": 1,
        "repository": hole_set.root,
        "seed": hole_set.seed,
        "hole_set": {
            "hash": hole_set.hash,
            "holes": len(hole_set.holes),
            "single": sum(h.kind == "single" for h in hole_set.holes),
            "mid": sum(h.kind == "mid" for h in hole_set.holes),
            "multi": sum(h.kind == "multi" for h in hole_set.holes),
            "held_out_files": list(hole_set.held_out),
            "files_seen": hole_set.files_seen,
        },
        "runs": [
            {
                "config": run.config,
                "label": config_label(run.config),
                "dropped_snippets": run.dropped_snippets,
                "summary": {k: asdict(v) for k, v in summaries(run).items()},
                "results": [asdict(r) for r in run.results],
            }
            for run in runs
        ],
    }


def runs_from_json(data: dict[str, Any]) -> tuple[str, list[RunResult]]:
    """The hole-set hash and runs of a :func:`report_json` document (for ``--baseline``)."""
    runs = [
        RunResult(config=dict(run["config"]),
                  results=tuple(HoleResult(**r) for r in run["results"]),
                  dropped_snippets=int(run.get("dropped_snippets", 0)))
        for run in data["runs"]
    ]
    return str(data["hole_set"]["hash"]), runs
