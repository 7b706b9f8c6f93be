"""``kodama eval PATH``: completion quality on held-out files of a repository.

Picks holes with :mod:`kodama.model.evaluation` (deterministic for a seed), runs every
requested configuration (numeric format × context) on the same holes, prints a Markdown table on
stdout and writes JSON / Markdown files on request. Progress goes to stderr. The completion
settings are the server's (``context.tokens`` included, unless ``--context-tokens`` says
otherwise).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from kodama.model.completion import CompletionSettings
from kodama.model.evaluation import (
    Completer,
    ContextProvider,
    HoleSet,
    NoContext,
    ProviderFactory,
    RunResult,
    complete_raw,
    evaluate,
    held_out_free,
    markdown_table,
    pick_holes,
    report_json,
    repository_provider,
    runs_from_json,
    served,
    walk_repository,
)
from kodama.server.commands.progress import HoleProgress, TerminalProgress
from kodama.server.config import QUANTIZATION_NAMES, KodamaConfig
from kodama.server.setup import settings_from

CONTEXTS = ("raw", "file", "repo")
DTYPES = ("auto", "bfloat16", "float32")


def _choices(allowed: tuple[str, ...]) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        values = [v.strip() for v in text.split(",") if v.strip()]
        bad = [v for v in values if v not in allowed]
        if not values or bad:
            raise argparse.ArgumentTypeError(
                f"expected one or more of {', '.join(allowed)} (comma-separated), got {text!r}"
            )
        return list(dict.fromkeys(values))

    return parse


def _held_out(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a count or a fraction, got {text!r}") from None
    if value <= 0 or (value >= 1 and value != int(value)):
        raise argparse.ArgumentTypeError(
            f"expected a whole count (≥ 1) or a fraction (< 1), got {text!r}"
        )
    return value


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``kodama eval`` on the CLI's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "eval", help="measure completion quality on held-out files of a repository",
        description="Cut holes in held-out files of the repository at PATH (single lines cut "
                    "at a token, whole small block bodies), ask for a completion at each and "
                    "score exact match, edit similarity, whether the file still parses, and "
                    "latency. The same PATH and --seed always give the same holes (the JSON "
                    "holds their hash), so configurations can be compared: list several "
                    "--context / --quantization / --dtype values to run them all on the same "
                    "holes, or pass a previous --json output as --baseline.",
    )
    parser.add_argument("path", metavar="PATH", help="root folder of the repository")
    parser.add_argument(
        "--model", metavar="NAME|PATH|HUB_ID",
        help="preset name (default: the embedded Qwen2.5-Coder-0.5B), a local model folder or "
             ".gguf file (e.g. a fine-tuned model), or a Hugging Face hub id",
    )
    parser.add_argument("--adapter", metavar="auto|PATH",
                        help="apply a fine-tuned adapter (auto: the one installed for PATH). "
                             "Its training may have seen these held-out files: kodama "
                             "fine-tune's own report measures on files it never trained on")
    parser.add_argument("--dtype", dest="eval_dtypes", type=_choices(DTYPES), metavar="LIST",
                        help="number format(s) of the weights: auto, bfloat16, float32 "
                             "(comma-separated to compare; default: the configured one)")
    parser.add_argument("--quantization", dest="eval_quantizations",
                        type=_choices(QUANTIZATION_NAMES), metavar="LIST",
                        help="weight quantisation(s): none, int8, int4 (comma-separated to "
                             "compare; default: the configured one)")
    parser.add_argument("--context", type=_choices(CONTEXTS), default=["file"], metavar="LIST",
                        help="raw: the bare model (a plain fill-in-the-middle prompt of 768 "
                             "prefix / 256 suffix tokens, unquantised bf16, no context, no "
                             "post-processing: the baseline to read the others against); file: "
                             "Kodama's path with the held-out file only; repo: plus snippets from "
                             "the rest of the repository (indexed without the held-out files), "
                             "what the server does; raw,repo: both (default: file)")
    parser.add_argument("--context-tokens", type=int, metavar="N",
                        help="token budget of repository snippets in the prompt (default: the "
                             "context.tokens setting, 384)")
    parser.add_argument("--holes", type=int, default=60, metavar="N",
                        help="number of holes, 2/3 single-line and 1/3 multi-line (default 60)")
    parser.add_argument("--multi-fraction", type=float, default=1 / 3, metavar="F",
                        help="share of multi-line holes (default 1/3)")
    parser.add_argument("--mid-fraction", type=float, default=0.0, metavar="F",
                        help="share of holes cut after the first one to three tokens of a line, "
                             "where people pause while typing (default 0)")
    parser.add_argument("--held-out-files", type=_held_out, default=10.0, metavar="N|F",
                        help="held-out files: a count, or a fraction below 1 (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the hole choice (default 0)")
    parser.add_argument("--json", dest="json_out", type=Path, metavar="OUT",
                        help="write summaries and per-hole results as JSON")
    parser.add_argument("--markdown", dest="markdown_out", type=Path, metavar="OUT",
                        help="write the table as Markdown")
    parser.add_argument("--baseline", type=Path, metavar="JSON",
                        help="a previous --json output on the same holes: its runs come first "
                             "in the table and the Δ exact column compares with them")
    parser.add_argument("--threads", type=int, metavar="N", help="CPU threads for inference")
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"],
                        help="log detail on stderr (default: info)")
    return parser


# ------------------------------------------------------------------------------ run
def run(args: argparse.Namespace, config: KodamaConfig,
        provider_factory: ProviderFactory | None = None) -> int:
    """Run ``kodama eval`` with parsed ``args``; 0 on success.

    ``provider_factory`` builds the ``repo`` context (default :func:`repository_provider`);
    it always receives the held-out-free copy of the repository.
    """
    root = Path(args.path).resolve()
    if not root.is_dir():
        raise ValueError(f"{args.path} is not a folder: kodama eval needs a repository root")
    if args.holes < 1:
        raise ValueError("--holes must be at least 1")
    baseline_runs: list[RunResult] = []
    baseline_hash = None
    if args.baseline is not None:
        baseline_hash, baseline_runs = runs_from_json(
            json.loads(args.baseline.read_text(encoding="utf-8"))
        )

    files = walk_repository(root)
    hole_set = pick_holes(root, holes=args.holes, multi_fraction=args.multi_fraction,
                          mid_fraction=args.mid_fraction, held_out=args.held_out_files,
                          seed=args.seed, files=files)
    print(f"kodama eval: {len(hole_set.holes)} holes (hash {hole_set.hash}) in "
          f"{len(hole_set.held_out)} held-out of {len(files)} source files, seed {args.seed}",
          file=sys.stderr)
    if baseline_hash is not None and baseline_hash != hole_set.hash:
        raise ValueError(
            f"--baseline {args.baseline} was measured on other holes (hash {baseline_hash}, "
            f"these are {hole_set.hash}): use the same repository, --seed, --holes, "
            f"--multi-fraction, --mid-fraction and --held-out-files"
        )

    settings = settings_from(config.completion, config.context)
    if args.context_tokens is not None:
        settings = dataclasses.replace(
            settings, budget=dataclasses.replace(settings.budget,
                                                 context_tokens=args.context_tokens))
    adapter = None
    if args.adapter:  # only when asked: config's ``auto`` is for serving
        from kodama.model.finetune.store import chosen_adapter

        adapter, _ = chosen_adapter(args.adapter, root)
        if adapter is None:
            raise ValueError(f"--adapter {args.adapter}: no adapter is installed for {root}")
    runs: list[RunResult] = []
    dtypes: list[str] = args.eval_dtypes or [config.model.dtype]
    quantizations: list[str] = args.eval_quantizations or [
        str(getattr(config.model, "quantization", "none"))]
    with ExitStack() as stack:
        paths: dict[str, tuple[ContextProvider, Completer]] = {}
        for context in args.context:
            if context == "repo":
                provider = stack.enter_context(held_out_free(
                    root, files, hole_set, provider_factory or repository_provider))
                paths[context] = (provider, served)
            elif context == "file":
                paths[context] = (NoContext(), served)
        plan: list[tuple[str, str, dict[str, tuple[ContextProvider, Completer]]]] = []
        if "raw" in args.context:  # the bare model: unquantised bf16, whatever else is asked
            plan.append(("bfloat16", "none", {"raw": (NoContext(), complete_raw)}))
        if paths:
            plan += [(dtype, quantization, paths) for dtype in dtypes
                     for quantization in quantizations]
        for dtype, quantization, chosen in plan:
            bare = "raw" in chosen  # the baseline never gets the adapter
            for finished in _run_model(config, dtype, quantization, hole_set, settings,
                                       chosen, None if bare else adapter):
                runs.append(finished)
                _write(args, hole_set, [*baseline_runs, *runs])  # partial results

    print(_write(args, hole_set, [*baseline_runs, *runs]))
    return 0


def _write(args: argparse.Namespace, hole_set: HoleSet, runs: list[RunResult]) -> str:
    """Write the requested output files; return the table."""
    table = markdown_table(hole_set, runs)
    if args.markdown_out is not None:
        args.markdown_out.write_text(table, encoding="utf-8")
    if args.json_out is not None:
        data = report_json(hole_set, runs)
        args.json_out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n",
                                 encoding="utf-8")
    return table


def _run_model(config: KodamaConfig, dtype: str, quantization: str, hole_set: HoleSet,
               settings: CompletionSettings,
               paths: dict[str, tuple[ContextProvider, Completer]],
               adapter: Path | None = None) -> Iterator[RunResult]:
    """Load the model in one numeric format and run every context on the holes (yields each
    run as it finishes)."""
    from kodama.model.engine import Engine  # imports torch
    from kodama.model.loader import load_model

    loading = TerminalProgress()
    loaded = load_model(config.model.name, dtype=dtype,  # type: ignore[arg-type]
                        progress=loading.report, threads=config.model.threads, adapter=adapter,
                        quantization=quantization)  # type: ignore[arg-type]
    loading.close()
    try:
        engine = Engine(loaded, quantization=quantization)  # type: ignore[arg-type]
    except (ValueError, TypeError, NotImplementedError) as exc:
        raise ValueError(f"--quantization {quantization}: {exc}") from exc
    for context, (provider, completer) in paths.items():
        run_config = {
            "model": loaded.name, "dtype": loaded.dtype, "quantization": quantization,
            "context": context, "context_tokens": settings.budget.context_tokens,
            "prefix_tokens": settings.budget.prefix_tokens,
            "suffix_tokens": settings.budget.suffix_tokens,
            "threads": config.model.threads,
        }
        label = f"{loaded.dtype}/{quantization}/{context}"
        yield evaluate(hole_set, engine, settings, provider, completer=completer,
                       config=run_config, progress=HoleProgress(label))
    del engine, loaded
    gc.collect()
