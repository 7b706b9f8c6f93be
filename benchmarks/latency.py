"""Completion latency of the real server, measured through LSP like an editor sees it.

For each chosen line of each file: open the file with that line cut back to its indentation
(the "first completion after open", cold KV cache for the document), then retype the line one
character at a time, asking for an inline completion after every keystroke and waiting for the
answer (the "per keystroke" latency, where the cache of the unchanged prefix is reused).
Prints a table (p50/p95 in ms) and the server's memory; ``--json`` writes the raw figures.

    .venv/bin/python benchmarks/latency.py                  # default model, default files
    .venv/bin/python benchmarks/latency.py --model smollm2-135m --lines 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

from kodama.server.client import EditorSession, utf16_len
from kodama.server.config import KodamaConfig, merge

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILES = [
    ROOT / "server" / "config.py",
    ROOT / "model" / "prompt.py",
    ROOT / "server" / "samples" / "cart.js",
    ROOT / "server" / "samples" / "stats.go",
    ROOT / "server" / "samples" / "geometry.rs",
]
LANGUAGE_IDS = {".py": "python", ".js": "javascript", ".go": "go", ".rs": "rust",
                ".ts": "typescript", ".java": "java", ".c": "c", ".cpp": "cpp"}
COMMENTS = ("#", "//", "/*", "*", '"""')


def pick_lines(text: str, count: int) -> list[int]:
    """``count`` code lines spread evenly over the file (not blank, not comments, ≥ 8 chars)."""
    lines = text.split("\n")
    candidates = [i for i, line in enumerate(lines)
                  if len(line.strip()) >= 8 and not line.strip().startswith(COMMENTS)
                  and "█" not in line]
    if len(candidates) <= count:
        return candidates
    step = len(candidates) / count
    return [candidates[int(step * k + step / 2)] for k in range(count)]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


async def measure(args: argparse.Namespace) -> dict[str, object]:
    """Run the scripted typing session and collect the figures."""
    errors: list[str] = []
    config = merge(KodamaConfig(), {"model": {"name": args.model, "dtype": args.dtype}}, errors)
    session = EditorSession(config, options={"completion": {"debounceMs": args.debounce}})
    started = time.perf_counter()
    await session.start()
    state, message = await session.wait_ready()
    ready_s = time.perf_counter() - started
    if state != "ready":
        raise SystemExit(f"model not ready: {message}")
    first: list[float] = []
    keystroke: list[float] = []
    shown = 0
    for path in args.files:
        text = Path(path).read_text("utf-8").replace("█", "")
        language = LANGUAGE_IDS.get(Path(path).suffix, "plaintext")
        for row in pick_lines(text, args.lines):
            lines = text.split("\n")
            target = lines[row]
            indent = target[: len(target) - len(target.lstrip())]
            lines[row] = indent
            uri = Path(path).resolve().as_uri() + f"#line{row}"
            session.open(uri, "\n".join(lines), language)
            column = utf16_len(indent)
            completion, ms = await session.inline(uri, row, column)
            first.append(ms)
            shown += bool(completion)
            for ch in target[len(indent):][: args.keystrokes]:
                session.insert(uri, row, column, ch)
                column += utf16_len(ch)
                completion, ms = await session.inline(uri, row, column)
                keystroke.append(ms)
                shown += bool(completion)
            session.close(uri)
    memory = session.memory_kb()
    await session.stop()
    return {
        "model": args.model, "dtype": args.dtype, "debounce_ms": args.debounce,
        "server_ready_s": round(ready_s, 2), "first_after_open_ms": first,
        "keystroke_ms": keystroke, "completions_shown": shown,
        "requests": len(first) + len(keystroke),
        "rss_mb": round(memory.get("VmRSS", 0) / 1024), "peak_rss_mb":
            round(memory.get("VmHWM", 0) / 1024),
    }


def table(result: dict[str, object]) -> str:
    """The figures as a Markdown table."""
    rows = ["| measure | n | p50 ms | p95 ms | mean ms |", "|---|---|---|---|---|"]
    for name, key in (("first completion after open", "first_after_open_ms"),
                      ("per keystroke (typing)", "keystroke_ms")):
        values = result[key]
        assert isinstance(values, list)
        rows.append(f"| {name} | {len(values)} | {percentile(values, 50):.0f} | "
                    f"{percentile(values, 95):.0f} | {statistics.fmean(values):.0f} |"
                    if values else f"| {name} | 0 | – | – | – |")
    rows.append("")
    rows.append(f"model {result['model']} ({result['dtype']}), debounce {result['debounce_ms']} "
                f"ms; server ready after {result['server_ready_s']} s; "
                f"{result['completions_shown']}/{result['requests']} requests got a completion; "
                f"server memory {result['rss_mb']} MB, peak {result['peak_rss_mb']} MB")
    return "\n".join(rows)


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default")
    parser.add_argument("--dtype", default="auto", choices=["auto", "bfloat16", "float32"])
    parser.add_argument("--files", nargs="+", type=Path, default=DEFAULT_FILES)
    parser.add_argument("--lines", type=int, default=2, help="lines retyped per file")
    parser.add_argument("--keystrokes", type=int, default=6, help="keystrokes per line")
    parser.add_argument("--debounce", type=int, default=0,
                        help="server debounce (ms; 0 measures the pipeline alone)")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()
    result = asyncio.run(measure(args))
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
