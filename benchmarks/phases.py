"""Where a completion's time goes, phase by phase, in the serving engine (one command, one table).

The default model is loaded as ``kodama serve`` loads it (``--quantization``, default int8), then
a real source file is fed through the model the way the engine feeds it:

- **cold prefill** of ``--prompt-tokens`` tokens (in the engine's chunks);
- **tail prefill** of N rows after that reused prompt (what a keystroke costs before the first
  new token: the changed tail plus the suffix), for N in ``--rows``;
- **one decode step** (one row) and a **draft check** (1 + 4 rows, prompt-lookup decoding);
- inside one decode step, from torch's profiler: the time in the linear layers' kernels, in
  attention, in every other torch operation, and the rest (Python and the framework: the
  per-token overhead a compiled step would remove).

Each figure is the median of ``--repeat`` runs, in one process, so the rows compare with each
other; compare machines only through their own runs.

    .venv/bin/python -m benchmarks.phases
    .venv/bin/python -m benchmarks.phases --quantization none int8 --rows 1 16 64
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(ROOT))

from benchmarks.common import log  # noqa: E402

LINEAR_OPS = ("_weight_int8pack_mm", "_weight_int4pack_mm_for_cpu", "aten::linear", "aten::addmm",
              "aten::mm")
"""Profiler operations that are the linear layers' matrix products."""

ATTENTION_OPS = ("scaled_dot_product_attention", "_scaled_dot_product")
"""Profiler operations that are attention."""


def _median_ms(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _step_breakdown(step: Callable[[], object], repeat: int) -> dict[str, float]:
    """Per decode step: wall time, and the profiler's self time by kind of operation (ms)."""
    from torch.profiler import ProfilerActivity, profile

    step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        start = time.perf_counter()
        for _ in range(repeat):
            step()
        wall = (time.perf_counter() - start) * 1000 / repeat
    kinds = {"linear kernels": 0.0, "attention": 0.0, "other torch ops": 0.0}
    for event in prof.key_averages():
        ms = event.self_cpu_time_total / 1000 / repeat
        if any(op in event.key for op in LINEAR_OPS):
            kinds["linear kernels"] += ms
        elif any(op in event.key for op in ATTENTION_OPS):
            kinds["attention"] += ms
        else:
            kinds["other torch ops"] += ms
    kinds["Python and framework"] = max(0.0, wall - sum(kinds.values()))
    return {"decode step, profiled": wall, **{f"  {k}": v for k, v in kinds.items()}}


def measure(model_spec: str, quantization: str, text: str, args: argparse.Namespace) -> dict[
        str, float]:
    """The phase timings of one configuration (ms)."""
    import torch
    from transformers import DynamicCache

    from kodama.model.engine import PREFILL_CHUNK, Engine
    from kodama.model.loader import load_model

    loaded = load_model(model_spec, quantization=quantization,  # type: ignore[arg-type]
                        threads=args.threads)
    engine = Engine(loaded, quantization=quantization)  # type: ignore[arg-type]
    model = engine.model
    ids = engine.encode(text)
    need = args.prompt_tokens + max(args.rows) + 8
    if len(ids) < need:
        raise SystemExit(f"the file has {len(ids)} tokens, fewer than the {need} needed")
    base = ids[:args.prompt_tokens]
    cache: Any = DynamicCache()

    def forward(chunk: list[int]) -> Any:
        return model(input_ids=torch.tensor([chunk]), cache=cache, use_cache=True,
                     logits_to_keep=1)

    def cold() -> None:
        nonlocal cache
        cache = DynamicCache()
        for start in range(0, len(base), PREFILL_CHUNK):
            forward(base[start:start + PREFILL_CHUNK])

    def after_prompt(rows: int) -> Callable[[], object]:
        def run() -> None:
            forward(ids[len(base):len(base) + rows])
            cache.crop(-rows)
        return run

    result: dict[str, float] = {}
    with torch.inference_mode():
        result[f"cold prefill, {len(base)} tokens"] = _median_ms(cold, max(1, args.repeat // 3))
        cold()
        for rows in args.rows:
            label = "one decode step (1 row)" if rows == 1 else f"tail prefill, {rows} rows"
            result[label] = _median_ms(after_prompt(rows), args.repeat)
        result["draft check (1 + 4 rows)"] = _median_ms(after_prompt(5), args.repeat)
        result.update(_step_breakdown(after_prompt(1), args.repeat))
    return result


def table(results: dict[str, dict[str, float]]) -> str:
    """The Markdown table: one row per phase, one column per configuration."""
    names = list(results)
    phases = list(dict.fromkeys(p for r in results.values() for p in r))
    lines = ["| phase (ms, median) | " + " | ".join(names) + " |",
             "|---|" + "---:|" * len(names)]
    for phase in phases:
        cells = [f"{results[n][phase]:.1f}" if phase in results[n] else "–" for n in names]
        lines.append(f"| {phase} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default")
    parser.add_argument("--quantization", nargs="+", default=["int8"],
                        choices=["none", "int8", "int4"])
    parser.add_argument("--file", type=Path, default=ROOT / "model" / "engine.py",
                        help="source file whose tokens are fed (long enough for the prompt)")
    parser.add_argument("--prompt-tokens", type=int, default=1000)
    parser.add_argument("--rows", nargs="+", type=int, default=[1, 4, 16, 32, 64, 128])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import os

    import torch

    text = args.file.read_text(encoding="utf-8")
    results = {}
    for quantization in args.quantization:
        log(f"loading the model ({quantization})...")
        results[quantization] = measure(args.model, quantization, text, args)
    print(table(results))
    print(f"\ntorch {torch.__version__}, CPU capability {torch.backends.cpu.get_cpu_capability()}, "
          f"{args.threads} threads; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
