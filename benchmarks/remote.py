"""Completion latency through the remote backend against the local one: same machine, same
model, same editor traffic.

A llama.cpp server (``llama-cpp-python[server]``, ``scripts/install-llamacpp``) serves the
default model's GGUF on 127.0.0.1; two ``kodama serve`` processes in turn answer the same
LSP measures as ``benchmarks/latency.py``: one generating locally (the product default, int8),
one sending its prompts to the llama.cpp server (``remote.url``). Both build the same prompts;
only where the tokens come from differs. One table, ratios remote / local.

    .venv/bin/python benchmarks/remote.py                   # default model, 2 lines per file
    .venv/bin/python benchmarks/remote.py --lines 1 --json out.json

On one 2-core machine the llama.cpp server and ``kodama serve`` share the cores (the remote
figures include that contention and the HTTP hop); on a team's GPU box the generation itself
is what gets faster.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(ROOT))

from benchmarks.common import Summary, ms, ratio  # noqa: E402
from benchmarks.latency import DEFAULT_FILES, PRODUCT_DEBOUNCE_MS, log  # noqa: E402

CACHE = Path(os.environ.get("KODAMA_BENCH_CACHE", Path.home() / ".cache" / "kodama-bench"))


def default_gguf() -> Path:
    """The default model's GGUF, assembled and verified once into the benchmark cache."""
    from kodama.model.presets import DEFAULT_PRESET, PRESETS
    from kodama.model.weights import assemble_gguf

    preset = PRESETS[DEFAULT_PRESET]
    path = CACHE / "gguf" / preset.gguf_filename
    return path if path.is_file() else assemble_gguf(preset, path.parent)


def start_llama(gguf: Path, port: int, threads: int) -> subprocess.Popen[bytes]:
    """llama.cpp's OpenAI-compatible server, ready."""
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias",
         "kodama-default", "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096",
         "--n_threads", str(threads)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the llama.cpp server did not start (scripts/install-llamacpp?)")


def rss_mb(pid: int) -> int:
    """Resident memory of a process, MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return 0


async def measure(args: argparse.Namespace, remote: str | None) -> dict[str, Any]:
    """The waiting and typing measures through one ``kodama serve``."""
    from benchmarks.session import measure_typing, measure_waiting, start_server, targets

    lines = targets(args.files, args.lines)
    out: dict[str, Any] = {}
    session, ready_s, _ = await start_server(args.model, "auto", 0, None, quantization=None,
                                             root=ROOT, remote=remote)
    try:
        out["ready_s"] = round(ready_s, 2)
        out["waiting"] = await measure_waiting(session, lines, args.keystrokes)
    finally:
        await session.stop()
    session, _, _ = await start_server(args.model, "auto", PRODUCT_DEBOUNCE_MS, None,
                                       quantization=None, root=ROOT, remote=remote)
    try:
        out["typing"] = await measure_typing(session, lines, args.keystrokes,
                                             interval_ms=(80.0, 120.0), pause_ms=600.0,
                                             end_wait_ms=3000.0, seed=0)
    finally:
        await session.stop()
    return out


def table(result: dict[str, Any]) -> str:
    """Markdown: each measure, local vs remote, and the ratio of their medians."""
    local, remote = result["local"], result["remote"]
    rows = [("first completion after open (waiting)",
             lambda r: r["waiting"]["first_after_open_ms"]),
            ("per keystroke (waiting)", lambda r: r["waiting"]["keystroke_ms"]),
            ("typing session: per completion shown", lambda r: r["typing"]["shown_ms"])]
    out = ["| measure | local p50 | local p95 | remote p50 | remote p95 | ratio p50 | "
           "ratio p95 |", "|---|---|---|---|---|---|---|"]
    for name, pick in rows:
        a, b = Summary.of(pick(local)), Summary.of(pick(remote))
        out.append(f"| {name} | {ms(a.p50)} | {ms(a.p95)} | {ms(b.p50)} | {ms(b.p95)} | "
                   f"{ratio(b.p50, a.p50)} | {ratio(b.p95, a.p95)} |")
    out += ["", "Ratio = remote / local (below 1: the remote backend is faster).",
            f"Completions: local {local['waiting']['completions']}/"
            f"{local['waiting']['requests']}, remote {remote['waiting']['completions']}/"
            f"{remote['waiting']['requests']} requests answered with text (waiting); typing "
            f"session shown: local {len(local['typing']['shown_ms'])}, remote "
            f"{len(remote['typing']['shown_ms'])} of {local['typing']['sent']} requests.",
            f"Memory: `kodama serve` local {local['waiting']['peak_rss_mb']} MB peak, remote "
            f"{remote['waiting']['peak_rss_mb']} MB peak; llama.cpp server "
            f"{result['llama_rss_mb']} MB resident. Ready after start: local "
            f"{local['ready_s']} s, remote {remote['ready_s']} s.",
            f"Model {result['model']}; llama.cpp with {result['llama_threads']} threads; load "
            f"average before {result['load_before']}, after {result['load_after']}."]
    return "\n".join(out)


def main() -> int:
    """Parse the arguments, run both backends, print the table."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default", help="Kodama's model (tokenizer source)")
    parser.add_argument("--gguf", type=Path, help="GGUF for llama.cpp (default: the default "
                                                  "model's, assembled from its packages)")
    parser.add_argument("--files", nargs="+", type=Path, default=DEFAULT_FILES)
    parser.add_argument("--lines", type=int, default=2, help="lines retyped per file")
    parser.add_argument("--keystrokes", type=int, default=8, help="keystrokes per line")
    parser.add_argument("--llama-threads", type=int, default=2)
    parser.add_argument("--port", type=int, default=8712)
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()
    subprocess.run(["bash", str(ROOT / "scripts" / "install-llamacpp")], check=True,
                   stdout=subprocess.DEVNULL)
    gguf = args.gguf or default_gguf()
    result: dict[str, Any] = {"model": args.model, "llama_threads": args.llama_threads,
                              "load_before": round(os.getloadavg()[0], 2)}
    llama = start_llama(gguf, args.port, args.llama_threads)
    try:
        log("local backend...")
        result["local"] = asyncio.run(measure(args, None))
        log("remote backend (llama.cpp server)...")
        result["remote"] = asyncio.run(measure(args, f"http://127.0.0.1:{args.port}/v1"))
        result["llama_rss_mb"] = rss_mb(llama.pid)
    finally:
        llama.kill()
    result["load_after"] = round(os.getloadavg()[0], 2)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    print(table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
