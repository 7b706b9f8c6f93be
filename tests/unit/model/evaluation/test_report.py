"""kodama.model.evaluation.report: JSON round trip, baselines and the Markdown table."""

from __future__ import annotations

from pathlib import Path

from kodama.model.completion import CompletionSettings
from kodama.model.evaluation import (
    HoleSet,
    NoContext,
    RunResult,
    evaluate,
    markdown_table,
    pick_holes,
    report_json,
    runs_from_json,
    score,
)

from .fakes import OracleEngine, make_hole


def test_reports_round_trip_and_compare_runs_on_the_same_holes(repo: Path) -> None:
    hole_set = pick_holes(repo, holes=6, held_out=2, seed=0)
    perfect = evaluate(hole_set, OracleEngine(hole_set.holes), CompletionSettings(), NoContext(),
                       config={"context": "repo"})
    silent = evaluate(hole_set, OracleEngine(()), CompletionSettings(), NoContext(),
                      config={"context": "file"})
    data = report_json(hole_set, [silent, perfect])
    assert data["hole_set"]["hash"] == hole_set.hash
    assert data["runs"][1]["summary"]["all"]["exact_match"] == 1.0
    assert data["runs"][0]["summary"]["all"]["empty_rate"] == 1.0
    digest, runs = runs_from_json(data)
    assert digest == hole_set.hash
    assert runs[1].results == perfect.results and runs[0].config == {"context": "file"}
    table = markdown_table(hole_set, runs)
    assert hole_set.hash in table
    rows = [line for line in table.splitlines() if line.startswith("| context=repo | all")]
    assert rows and rows[0].endswith(f"| +{len(hole_set.holes)}/-0 |")


def test_markdown_has_a_row_per_kind(repo: Path) -> None:
    hole_set = HoleSet("r", 0, ("a.py",), (make_hole("x = f(", "a, b)", "\n"),), 1)
    run = RunResult({"context": "file"}, (score(hole_set.holes[0], "a, b)", 3.0),))
    table = markdown_table(hole_set, [run])
    assert "| context=file | single | 1 | 100.0% (1) | 1.000 | 100.0% (1) | 0.0% | 3 | 3 |" in table
    assert "| context=file | all |" in table
