"""``kodama complete FILE:LINE:COL``: print the completion the language server would offer there.

The request is the server's own: the file's project is indexed as the server indexes its
workspace (``context.*`` settings), and the completion context, the settings and the pipeline
are the very functions the LSP completion features call (:mod:`kodama.server.setup`,
:func:`kodama.model.completion.complete`). The model runs in-process.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from kodama.model.completion import complete
from kodama.server.commands.common import engine_for, model_flags, open_source, parse_location
from kodama.server.config import KodamaConfig
from kodama.server.setup import RepositoryView, settings_from


def add_parser(subparsers: Any) -> None:
    """Register ``kodama complete`` on the CLI's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "complete", help="print the completion offered at FILE:LINE:COL",
        description="Print the completion the server would offer at a position, with the "
                    "repository context of the file's project. LINE and COL are 1-based, as "
                    "editors show them; COL counts characters.",
    )
    parser.add_argument("location", metavar="FILE:LINE:COL")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    model_flags(parser)


def run(args: argparse.Namespace, config: KodamaConfig) -> int:
    """Load the model in-process and print one completion."""
    path, line, col = parse_location(args.location)
    doc, offset = open_source(path, line, col)
    view = RepositoryView.of_file(path, config.context)
    if view.index is not None:
        print(f"indexing {view.root} …", file=sys.stderr)
        view.index.build()

    engine, name, dtype = engine_for(config, path)
    started = time.perf_counter()
    context = view.completion_context(doc, offset)
    result = complete(context, engine, settings_from(config.completion, config.context),
                      cache_key=doc.uri)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if args.json:
        gen = result.generation
        print(json.dumps({
            "file": str(path), "line": line, "column": col, "completion": result.text,
            "mode": result.mode, "raw": result.raw, "model": name, "dtype": dtype,
            "latency_ms": round(elapsed_ms, 1), "prompt_tokens": gen.prompt_tokens,
            "new_tokens": gen.tokens, "stop_reason": gen.reason,
            "snippets": [{"path": s.path, "kind": s.kind} for s in context.snippets],
        }, ensure_ascii=False))
    else:
        print(result.text)
        print(f"[{result.mode}-line, {elapsed_ms:.0f} ms, {name}]", file=sys.stderr)
    return 0
