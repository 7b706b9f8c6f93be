"""Completion latency of Kodama as an editor sees it, and against llama.cpp on the same prompts.

One command, one table. For chosen code lines of real files (``--files``, ``--lines`` per file):

1. **LSP, waiting** (a server with debounce 0): open the file with the line cut back to its
   indentation and ask for a completion (*first completion after open*, cold KV cache), then
   retype the line one character at a time, asking after every keystroke and waiting for each
   answer (*per keystroke*).
2. **LSP, typing session** (a server with the product's debounce): retype the lines at a human
   pace, a request after every keystroke as VS Code sends them, the previous one cancelled with
   ``$/cancelRequest`` when the next keystroke comes, pauses after words and punctuation;
   latency *per completion shown* (non-empty and arrived before the next keystroke).
3. **In-process reference**: Kodama's prompts for the same document states through Kodama's
   ``Engine`` (one per ``--quantization``) and through llama.cpp (llama-cpp-python on the
   default model's GGUF, same token ids, greedy, same stop rule, its KV cache reused between
   the prompts of a line), interleaved prompt by prompt; cold/warm p50/p95 and the ratio.

    .venv/bin/python benchmarks/latency.py                       # everything, default model
    .venv/bin/python benchmarks/latency.py --quantization none int8 --json out.json
    .venv/bin/python benchmarks/latency.py --skip-lsp --lines 1   # reference only

llama.cpp is a benchmark dependency: ``scripts/install-llamacpp`` builds and installs it;
without it that part is skipped with a message.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(ROOT))

from benchmarks.common import Summary, ms, ratio  # noqa: E402
from kodama.server.config import QUANTIZATION_NAMES  # noqa: E402

DEFAULT_FILES = [
    ROOT / "server" / "config.py",
    ROOT / "model" / "prompt.py",
    ROOT / "server" / "samples" / "cart.js",
    ROOT / "server" / "samples" / "stats.go",
    ROOT / "server" / "samples" / "geometry.rs",
]
INSTANT_MS = 60
"""Answers faster than this cannot come from the model (debounce ≥ 25 ms plus a forward pass):
they are the server's type-ahead (the rest of an earlier suggestion the user is typing)."""
PRODUCT_DEBOUNCE_MS = 120
"""``completion.debounceMs``'s default (kept in step with ``CompletionConfig``)."""


def log(message: str) -> None:
    """Progress on stderr (the table goes to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def measure_lsp(args: argparse.Namespace, lines: list[Any]) -> dict[str, Any]:
    """Both LSP measures, each with its own server."""
    from benchmarks.session import measure_typing, measure_waiting, start_server

    out: dict[str, Any] = {}
    server = {"quantization": args.server_quantization, "root": args.root}
    log("starting the server for the waiting measure (debounce 0)...")
    session, ready_s, quantization = await start_server(
        args.model, args.dtype, 0, args.server_threads, **server)
    out["server_quantization"] = quantization
    try:
        out["server_ready_s"] = round(ready_s, 2)
        log(f"server ready in {ready_s:.1f} s ({quantization}); first completion after open / "
            "per keystroke...")
        out["waiting"] = await measure_waiting(session, lines, args.keystrokes)
    finally:
        await session.stop()
    log(f"starting the server for the typing session (debounce {args.typing_debounce} ms)...")
    session, ready_s, _ = await start_server(
        args.model, args.dtype, args.typing_debounce, args.server_threads, **server)
    try:
        log(f"server ready in {ready_s:.1f} s; typing session...")
        out["typing"] = await measure_typing(
            session, lines, args.keystrokes, interval_ms=(args.interval[0], args.interval[1]),
            pause_ms=args.pause, end_wait_ms=args.end_wait, seed=args.seed)
    finally:
        await session.stop()
    return out


def _row(name: str, values: list[float]) -> str:
    s = Summary.of(values)
    return f"| {name} | {s.n} | {ms(s.p50)} | {ms(s.p95)} | {ms(s.mean)} |"


GROUPS = (("cold, single-line", True, "single"), ("warm, single-line", False, "single"),
          ("cold, multi-line", True, "multi"), ("warm, multi-line", False, "multi"))
"""Rows of the reference table: (name, first prompt of a line?, completion mode)."""


def _group(runs: list[dict[str, Any]], cold: bool, mode: str) -> list[float]:
    return [r["ms"] for r in runs if (r["typed"] == 0) == cold and r["mode"] == mode]


def table(result: dict[str, Any]) -> str:
    """The whole result as Markdown."""
    out: list[str] = []
    lsp = result.get("lsp")
    if lsp:
        waiting, typing = lsp["waiting"], lsp["typing"]
        out += ["| LSP measure (real server) | n | p50 ms | p95 ms | mean ms |",
                "|---|---|---|---|---|",
                _row("first completion after open (waiting)", waiting["first_after_open_ms"]),
                _row("per keystroke (waiting)", waiting["keystroke_ms"]),
                _row(f"typing session: per completion shown (debounce "
                     f"{result['typing_debounce_ms']} ms)", typing["shown_ms"]),
                _row("typing session: per single-line completion shown",
                     [t for t, text in zip(typing["shown_ms"], typing["shown_text"], strict=True)
                      if "\n" not in text]),
                "",
                f"Waiting: {waiting['completions']}/{waiting['requests']} requests got a "
                f"completion; server (quantization {lsp['server_quantization']}) ready "
                f"{lsp['server_ready_s']} s after start; memory "
                f"{waiting['rss_mb']} MB resident, peak {waiting['peak_rss_mb']} MB.",
                f"Typing session ({result['interval_ms'][0]:.0f}–{result['interval_ms'][1]:.0f} "
                f"ms between keystrokes, {result['pause_ms']:.0f} ms pauses): "
                f"{typing['sent']} requests sent, {typing['cancelled']} cancelled, "
                f"{len(typing['shown_ms'])} shown (of which "
                f"{sum(t < INSTANT_MS for t in typing['shown_ms'])} within {INSTANT_MS} ms: "
                f"type-ahead), {typing['empty']} empty, "
                f"{typing['errors']} errors; memory {typing['rss_mb']} MB resident, "
                f"peak {typing['peak_rss_mb']} MB.", ""]
    ref = result.get("reference")
    if ref:
        llama_runs = ref["llama"]["runs"] if "llama" in ref else []
        out += ["| same prompts, in-process (2 threads) | n | p50 ms | p95 ms | "
                "ratio p50 vs llama.cpp | ratio p95 |", "|---|---|---|---|---|---|"]
        groups = [g for g in GROUPS
                  if any(_group(e.get("runs", []), g[1], g[2]) for e in ref["engines"].values())]
        for name, engine in ref["engines"].items():
            label = f"Kodama ({ref.get('dtype', '')}, quantization {name})"
            if "error" in engine:
                out.append(f"| {label} | – | – | – | {engine['error']} | |")
                continue
            for kind, cold, mode in groups:
                s = Summary.of(_group(engine["runs"], cold, mode))
                base = Summary.of(_group(llama_runs, cold, mode))
                out.append(f"| {label}, {kind} | {s.n} | {ms(s.p50)} | {ms(s.p95)} | "
                           f"{ratio(s.p50, base.p50)} | {ratio(s.p95, base.p95)} |")
        if llama_runs:
            for kind, cold, mode in groups:
                s = Summary.of(_group(llama_runs, cold, mode))
                out.append(f"| llama.cpp (Q4_K_M GGUF), {kind} | {s.n} | {ms(s.p50)} | "
                           f"{ms(s.p95)} | 1 | 1 |")
        out.append("")
        notes = [str(ref.get("llama_cpp", ""))]
        tokens = ref.get("prompt_tokens") or []
        if tokens:
            snippets = ref.get("snippets") or [0]
            notes.append(f"prompts {min(tokens)}–{max(tokens)} tokens with "
                         f"{min(snippets)}–{max(snippets)} repository snippets")
        check = ref.get("tokenizer_check")
        if check:
            notes.append(f"tokenizer check: llama.cpp's ids equal Hugging Face's for "
                         f"{check['identical']}/{check['texts']} prompt texts as plain text, "
                         f"{check.get('identical_special', '?')}/{check['texts']} with special "
                         "tokens parsed in the text")
        agreement = ref.get("agreement")
        if agreement:
            notes.append("same completion text as llama.cpp: " + ", ".join(
                f"{name} {same}/{total}" for name, (same, total) in agreement.items()))
        out.append("; ".join(n for n in notes if n) + ".")
        out.append("")
    out.append(f"Model {result['model']} ({result['dtype']}); load average before "
               f"{result['load_before']}, after {result.get('load_after', '?')}.")
    return "\n".join(out)


def agreement(ref: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """Per engine: how many prompts gave exactly llama.cpp's completion text."""
    if "llama" not in ref:
        return {}
    theirs = [r["text"] for r in ref["llama"]["runs"]]
    out: dict[str, tuple[int, int]] = {}
    for name, engine in ref["engines"].items():
        if "runs" in engine:
            ours = [r["text"] for r in engine["runs"]]
            out[name] = (sum(a == b for a, b in zip(ours, theirs, strict=True)), len(ours))
    return out


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default")
    parser.add_argument("--dtype", default="auto", choices=["auto", "bfloat16", "float32"])
    parser.add_argument("--files", nargs="+", type=Path, default=DEFAULT_FILES)
    parser.add_argument("--lines", type=int, default=2, help="lines retyped per file")
    parser.add_argument("--keystrokes", type=int, default=12,
                        help="characters retyped per line (-1: the whole line)")
    parser.add_argument("--interval", nargs=2, type=float, default=[80.0, 120.0],
                        metavar=("MIN", "MAX"), help="ms between keystrokes (uniform)")
    parser.add_argument("--pause", type=float, default=600.0,
                        help="ms the typist pauses after a word or punctuation mark")
    parser.add_argument("--end-wait", type=float, default=3000.0,
                        help="ms the typist waits for a completion at the end of a line")
    parser.add_argument("--typing-debounce", type=int, default=PRODUCT_DEBOUNCE_MS,
                        help="server debounce for the typing session (ms)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the typing pace")
    parser.add_argument("--server-threads", type=int, default=None,
                        help="the server's inference threads (default: the server's own)")
    parser.add_argument("--server-quantization", choices=QUANTIZATION_NAMES, default=None,
                        help="the server's model.quantization (default: the server's own)")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="workspace root (indexed for repository context)")
    parser.add_argument("--threads", type=int, default=2,
                        help="threads of the in-process engines (Kodama and llama.cpp)")
    parser.add_argument("--quantization", nargs="+", default=["none"],
                        help="Kodama engine configurations for the reference (e.g. none int8)")
    parser.add_argument("--skip-lsp", action="store_true", help="only the in-process reference")
    parser.add_argument("--skip-reference", action="store_true", help="only the LSP measures")
    parser.add_argument("--no-llama", action="store_true", help="reference without llama.cpp")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()

    from benchmarks.session import targets

    lines = targets([Path(f) for f in args.files], args.lines)
    result: dict[str, Any] = {
        "model": args.model, "dtype": args.dtype, "lines": len(lines),
        "keystrokes": args.keystrokes, "typing_debounce_ms": args.typing_debounce,
        "interval_ms": args.interval, "pause_ms": args.pause,
        "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    log(f"{len(lines)} lines from {len(args.files)} files; load average {result['load_before']}")
    if not args.skip_lsp:
        result["lsp"] = asyncio.run(measure_lsp(args, lines))
    if not args.skip_reference:
        from benchmarks.reference import measure_reference

        ref = measure_reference(args, lines, log)
        ref["agreement"] = agreement(ref)
        result["reference"] = ref
    result["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
