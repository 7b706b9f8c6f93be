"""The phase benchmark on the tiny model: every phase is measured, and the decode step's
breakdown finds the linear kernels by name (a renamed torch operation would hide them)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from benchmarks.phases import measure, table

ENGINE = Path(__file__).resolve().parents[2] / "model" / "engine.py"


@pytest.mark.parametrize("quantization", ["none", "int8"])
def test_every_phase_is_measured_and_the_kernels_are_found(
    tiny_model_dir: Path, quantization: str
) -> None:
    args = argparse.Namespace(prompt_tokens=64, rows=[1, 16], repeat=3, threads=1)
    result = measure(str(tiny_model_dir), quantization, ENGINE.read_text(), args)
    assert list(result) == [
        "cold prefill, 64 tokens", "one decode step (1 row)", "tail prefill, 16 rows",
        "draft check (1 + 4 rows)", "decode step, profiled", "  linear kernels", "  attention",
        "  other torch ops", "  Python and framework"]
    assert all(value >= 0 for value in result.values())
    assert result["  linear kernels"] > 0 and result["  other torch ops"] > 0
    parts = sum(value for name, value in result.items() if name.startswith("  "))
    assert parts == pytest.approx(result["decode step, profiled"])
    assert f"| one decode step (1 row) | {result['one decode step (1 row)']:.1f} |" in table(
        {quantization: result})
