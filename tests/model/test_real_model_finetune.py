"""``kodama fine-tune`` with the real default model on a small real repository (Kodama's own
syntax layer, without its test-layout package: ~100 KB of Python): a few LoRA steps lower the
validation loss, and the before/after report is real (marked ``real_model``; CI runs it)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kodama.server.commands.cli import main

pytestmark = pytest.mark.real_model

SYNTAX = Path(__file__).resolve().parents[2] / "syntax"


def test_a_few_lora_steps_lower_the_validation_loss_and_report_before_after(
    default_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KODAMA_CACHE_DIR", str(tmp_path / "cache"))  # runs stay in the test
    root = tmp_path / "repo"
    shutil.copytree(SYNTAX, root / "syntax",
                    ignore=shutil.ignore_patterns("__pycache__", "testlayout"))
    reports = tmp_path / "reports"
    code = main(["fine-tune", str(root), "--model", str(default_model_dir), "--max-steps", "3",
                 "--eval-every", "3", "--holes", "4", "--gradient-accumulation", "2",
                 "--sequence-tokens", "384", "--no-install", "--report-dir", str(reports),
                 "--log-level", "warning"])
    assert code == 0
    report = json.loads((reports / "report.json").read_text())
    training = report["training"]
    assert training["steps"] == 3
    assert training["best_validation_loss"] < training["initial_validation_loss"]
    results = report["results"]
    assert results["holes"] == 4
    for name in ("base", "tuned"):
        assert results[name]["holes"] == 4
        assert 0.0 <= results[name]["exact_match"] <= 1.0
        assert results[name]["test_loss"] > 0
    assert report["installed"] is False
    assert "not installed (--no-install)" in report["decision"]
