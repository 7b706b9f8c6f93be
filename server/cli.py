"""The ``kodama`` command line: serve, complete, demo, eval, explain, docstring, tests, version.

stdout belongs to the LSP channel when serving: logs always go to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kodama.server import eval_command, finetune_command, task_commands
from kodama.server.config import (
    ENV_VARS,
    QUANTIZATION_NAMES,
    KodamaConfig,
    describe,
    from_env,
    merge,
    nest,
)
from kodama.server.version import VERSION

if TYPE_CHECKING:
    from kodama.model.engine import Engine
    from kodama.model.remote import RemoteEngine
    from kodama.syntax.document import SyntaxDocument

DESCRIPTION = """\
Kodama: a local, private AI pair programmer behind the Language Server Protocol.
Your code never leaves this machine.

Start here:
  kodama demo                       watch the real server complete sample files
  kodama complete app.py:12:9       print the completion offered at line 12, column 9
  kodama explain app.py:30          explain the function at line 30
  kodama docstring app.py:30        show the docstring Kodama would add (--apply writes it)
  kodama tests app.py:30            show the tests Kodama would write (--apply writes them)
  kodama serve                      the language server for your editor (stdio)
  kodama fine-tune .                train on this repository; installed only if better
"""

CONFIG_EPILOG = "settings (also via initializationOptions, camelCase accepted):\n" + "\n".join(
    f"  {key:<34} default {default}" for key, default, _ in describe()
) + """

environment: """ + ", ".join([*ENV_VARS, "KODAMA_CACHE_DIR"]) + "\n"


def _model_flags(parser: argparse.ArgumentParser, *, remote: bool = True) -> None:
    parser.add_argument(
        "--model", metavar="NAME|PATH|HUB_ID",
        help="preset name (default: the embedded Qwen2.5-Coder-0.5B), a local model folder or "
             ".gguf file, or a Hugging Face hub id",
    )
    parser.add_argument("--dtype", choices=["auto", "bfloat16", "float32"],
                        help="number format of the weights (default: auto)")
    parser.add_argument("--threads", type=int, metavar="N", help="CPU threads for inference")
    parser.add_argument("--quantization", choices=QUANTIZATION_NAMES,
                        help="weight-only quantisation for decoding (default: int8)")
    parser.add_argument("--adapter", metavar="auto|none|PATH",
                        help="fine-tuned adapter: auto (the one installed for the repository), "
                             "none, or a folder (default: auto)")
    if remote:
        _remote_flags(parser)
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"],
                        help="log detail on stderr (default: info)")


def _remote_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--remote", metavar="URL",
                        help="generate on a shared OpenAI-compatible server (vLLM, llama.cpp, "
                             "TGI, Ollama) at URL, e.g. http://gpu-box:8000/v1; the API key is "
                             "read from $KODAMA_API_KEY (see remote.* settings)")
    parser.add_argument("--remote-model", metavar="NAME",
                        help="model (or vLLM LoRA adapter) name to request from the remote "
                             "server (default: the first it lists)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and the README)."""
    parser = argparse.ArgumentParser(
        prog="kodama", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"kodama {VERSION}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser(
        "serve", help="run the language server (stdio by default)",
        description="Run the Kodama language server. Editors start this command and talk LSP "
                    "over its stdin/stdout.",
        epilog=CONFIG_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (default)")
    serve.add_argument("--tcp", metavar="HOST:PORT", help="listen on a TCP socket instead")
    serve.add_argument("--no-model", action="store_true",
                       help="do not load a model (syntax features only; for debugging editors)")
    _model_flags(serve)

    complete = sub.add_parser(
        "complete", help="print the completion offered at FILE:LINE:COL",
        description="Print the completion the server would offer at a position. LINE and COL "
                    "are 1-based, as editors show them; COL counts characters.",
    )
    complete.add_argument("location", metavar="FILE:LINE:COL")
    complete.add_argument("--json", action="store_true", help="machine-readable output")
    _model_flags(complete)

    demo = sub.add_parser(
        "demo", help="start the real server and show completions on sample files",
        description="Start `kodama serve` as an editor would, open sample Python, JavaScript, "
                    "Go and Rust files over LSP, ask for inline completions and print what an "
                    "editor would show.",
    )
    _model_flags(demo)

    eval_command.add_parser(sub)
    task_commands.add_parsers(sub, _model_flags)
    finetune_command.add_parsers(sub, _model_flags)

    sub.add_parser("version", help="print the version")
    return parser


def config_from_args(args: argparse.Namespace, errors: list[str]) -> KodamaConfig:
    """Defaults → environment → command-line flags."""
    config = from_env(KodamaConfig(), errors)
    flat = {
        "model.name": getattr(args, "model", None),
        "model.dtype": getattr(args, "dtype", None),
        "model.threads": getattr(args, "threads", None),
        "model.quantization": getattr(args, "quantization", None),
        "model.adapter": getattr(args, "adapter", None),
        "remote.url": getattr(args, "remote", None),
        "remote.model": getattr(args, "remote_model", None),
        "log_level": getattr(args, "log_level", None),
        **finetune_command.fine_tune_values(args),
    }
    merged: KodamaConfig = merge(config, nest({k: v for k, v in flat.items() if v is not None}),
                                 errors)
    return merged


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("kodama").setLevel(level.upper())


def parse_location(text: str, *, column: bool = True) -> tuple[Path, int, int]:
    """``FILE:LINE:COL`` (1-based) → (path, line, column); with ``column=False`` the column is
    optional (``FILE:LINE`` means column 1). ValueError with a clear message."""
    parts = text.rsplit(":", 2)
    numbers: list[int] = []
    while len(parts) > 1 and parts[-1].isdigit() and len(numbers) < 2:
        numbers.insert(0, int(parts.pop()))
    if len(numbers) < (2 if column else 1):
        shape = "FILE:LINE:COL" if column else "FILE:LINE or FILE:LINE:COL"
        raise ValueError(f"expected {shape} with 1-based numbers, got {text!r}")
    return Path(":".join(parts)), numbers[0], numbers[1] if len(numbers) > 1 else 1


def open_source(path: Path, line: int, col: int) -> tuple[SyntaxDocument, int]:
    """The file as a document and the code-point offset of 1-based ``line``/``col`` (a column
    past the end of the line means its end); ValueError with a clear message for a binary
    file or a line outside it."""
    from kodama.syntax.document import SyntaxDocument
    from kodama.syntax.languages import detect

    data = path.read_bytes()
    if b"\0" in data:
        raise ValueError(f"{path} looks binary (it contains NUL bytes)")
    text = data.decode("utf-8", errors="replace")
    doc = SyntaxDocument(path.resolve().as_uri(), text, detect(str(path)), 0)
    if line < 1 or line > doc.lines.line_count:
        raise ValueError(f"{path} has {doc.lines.line_count} lines; line {line} is outside it")
    if col < 1:
        raise ValueError("COL is 1-based: the first character of a line is column 1")
    line_start = doc.offset_at(line - 1, 0)
    line_end = doc.offset_at(line - 1, 1 << 30)  # clamps to the end of the line
    return doc, min(line_start + col - 1, line_end)


def cmd_serve(args: argparse.Namespace, config: KodamaConfig) -> int:
    """Run the language server until the client exits."""
    from kodama.server.app import create_server

    server = create_server(config, load_model=not args.no_model)
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        server.start_io()
    return 0


def engine_for(config: KodamaConfig, path: Path) -> tuple[Engine | RemoteEngine, str, str]:
    """The backend for a one-shot command on ``path``: the remote server when ``remote.url``
    is set (connected, or RemoteError), else the local model with the repository's adapter;
    with its display name and number format."""
    if config.remote.url:
        from kodama.server.model_host import remote_engine

        remote = remote_engine(config.remote, config.model, _stderr_progress)
        described = remote.connect()
        return remote, f"remote {described}", "remote"
    from kodama.model.engine import Engine  # imports torch: only once the input is known good
    from kodama.model.loader import load_model

    loaded = load_model(config.model.name, dtype=config.model.dtype,
                        progress=_stderr_progress, threads=config.model.threads,
                        adapter=adapter_for(config, path))
    print(file=sys.stderr)
    return Engine(loaded, quantization=config.model.quantization), loaded.name, loaded.dtype


def cmd_complete(args: argparse.Namespace, config: KodamaConfig) -> int:
    """Load the model in-process and print one completion."""
    from kodama.model.completion import complete_at
    from kodama.server.suggest import settings_from

    path, line, col = parse_location(args.location)
    doc, offset = open_source(path, line, col)

    engine, name, dtype = engine_for(config, path)
    started = time.perf_counter()
    result = complete_at(doc, offset, engine, settings_from(config.completion))
    elapsed_ms = (time.perf_counter() - started) * 1000
    if args.json:
        gen = result.generation
        print(json.dumps({
            "file": str(path), "line": line, "column": col, "completion": result.text,
            "mode": result.mode, "raw": result.raw, "model": name, "dtype": dtype,
            "latency_ms": round(elapsed_ms, 1), "prompt_tokens": gen.prompt_tokens,
            "new_tokens": gen.tokens, "stop_reason": gen.reason,
        }, ensure_ascii=False))
    else:
        print(result.text)
        print(f"[{result.mode}-line, {elapsed_ms:.0f} ms, {name}]", file=sys.stderr)
    return 0


def adapter_for(config: KodamaConfig, path: Path) -> Path | None:
    """The adapter folder ``model.adapter`` asks for when working on the file ``path`` (with
    ``auto``: the one installed for its project root, as the server would use)."""
    from kodama.model.finetune.store import chosen_adapter
    from kodama.server.tasks import project_root

    folder, _ = chosen_adapter(config.model.adapter, project_root(path))
    return folder


def _stderr_progress(message: str, fraction: float | None) -> None:
    pct = "" if fraction is None else f" {fraction * 100:3.0f}%"
    sys.stderr.write(f"\r\x1b[K{message}{pct}" if sys.stderr.isatty() else f"{message}{pct}\n")
    sys.stderr.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kodama`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "version":
        print(f"kodama {VERSION}")
        return 0
    errors: list[str] = []
    config = config_from_args(args, errors)
    _setup_logging(config.log_level)
    for error in errors:
        print(f"kodama: configuration: {error}", file=sys.stderr)
    try:
        if args.command == "serve":
            return cmd_serve(args, config)
        if args.command == "complete":
            return cmd_complete(args, config)
        if args.command == "demo":
            from kodama.server.demo import run_demo

            return run_demo(config)
        if args.command == "eval":
            return eval_command.run(args, config)
        if args.command in task_commands.TASKS:
            return task_commands.run(args, config)
        if args.command == "fine-tune":
            return finetune_command.run(args, config)
        if args.command == "adapters":
            return finetune_command.run_adapters(args)
    except KeyboardInterrupt:
        return 130
    except (OSError, ValueError) as exc:
        print(f"kodama: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from kodama.model.errors import KodamaError

        if isinstance(exc, KodamaError):
            print(f"kodama: {exc}", file=sys.stderr)
            return 1
        raise
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
