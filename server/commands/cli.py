"""The ``kodama`` command line: the parser of every command, the configuration, and dispatch.

Commands: serve, complete, demo, eval, explain, docstring, tests, fine-tune, adapters, version.
stdout belongs to the LSP channel when serving: logs always go to stderr.

Ctrl-C at any moment of a command exits 130 without a traceback: this module imports only the
standard library at the top, and :func:`main` watches for the interrupt before it imports the
commands (which import the rest of Kodama).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType, TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kodama.server.config import KodamaConfig

EXIT_INTERRUPTED = 130
"""The exit status after Ctrl-C (128 + SIGINT), as shells report it."""

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


def config_epilog() -> str:
    """Every setting with its default, and the environment variables (``serve --help``)."""
    from kodama.server.config import ENV_VARS, describe

    return "settings (also via initializationOptions, camelCase accepted):\n" + "\n".join(
        f"  {key:<34} default {default}" for key, default, _ in describe()
    ) + "\n\nenvironment: " + ", ".join([*ENV_VARS, "KODAMA_CACHE_DIR"]) + "\n"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and the README)."""
    from kodama.server.commands import complete, definitions, finetune
    from kodama.server.commands import eval as eval_command
    from kodama.server.commands.common import model_flags
    from kodama.server.version import VERSION

    parser = argparse.ArgumentParser(
        prog="kodama", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"kodama {VERSION}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serving = sub.add_parser(
        "serve", help="run the language server (stdio by default)",
        description="Run the Kodama language server. Editors start this command and talk LSP "
                    "over its stdin/stdout.",
        epilog=config_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serving.add_argument("--stdio", action="store_true",
                         help="talk LSP over stdin/stdout (default)")
    serving.add_argument("--tcp", metavar="HOST:PORT", help="listen on a TCP socket instead")
    serving.add_argument("--no-model", action="store_true",
                         help="do not load a model (syntax features only; for debugging editors)")
    model_flags(serving)

    complete.add_parser(sub)
    demo = sub.add_parser(
        "demo", help="start the real server and show completions on sample files",
        description="Start `kodama serve` as an editor would, open sample Python, JavaScript, "
                    "Go and Rust files over LSP, ask for inline completions and print what an "
                    "editor would show.",
    )
    model_flags(demo)

    eval_command.add_parser(sub)
    definitions.add_parsers(sub)
    finetune.add_parsers(sub, model_flags)

    sub.add_parser("version", help="print the version")
    return parser


def config_from_args(args: argparse.Namespace, errors: list[str]) -> KodamaConfig:
    """Defaults → environment → command-line flags."""
    from kodama.server.commands import finetune
    from kodama.server.config import KodamaConfig, from_env, merge, nest

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
        **finetune.fine_tune_values(args),
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


def _run(args: argparse.Namespace, config: KodamaConfig) -> int:
    """Run the command ``args`` names."""
    from kodama.server import serve
    from kodama.server.commands import complete, definitions, finetune
    from kodama.server.commands import eval as eval_command

    if args.command == "serve":
        serve(config, load_model=not args.no_model, tcp=args.tcp)
        return 0
    if args.command == "complete":
        return complete.run(args, config)
    if args.command == "demo":
        from kodama.server.commands.demo import run_demo

        return run_demo(config)
    if args.command == "eval":
        return eval_command.run(args, config)
    if args.command in definitions.COMMANDS:
        return definitions.run(args, config)
    if args.command == "fine-tune":
        return finetune.run(args, config)
    if args.command == "adapters":
        return finetune.run_adapters(args)
    raise AssertionError(f"unknown command {args.command!r}")  # the parser knows them all


def _dispatch(argv: Sequence[str] | None) -> int:
    """Parse, configure and run; errors written for the user become exit statuses."""
    from kodama.server.version import VERSION

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
        return _run(args, config)
    except (OSError, ValueError) as exc:
        print(f"kodama: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from kodama.model.errors import KodamaError

        if isinstance(exc, KodamaError):
            print(f"kodama: {exc}", file=sys.stderr)
            return 1
        raise


class _CtrlC:
    """Notes Ctrl-C (SIGINT) while a command runs and raises KeyboardInterrupt, as Python's own
    handler does; whatever the interrupt then turns into (a library that wraps it in its own
    error, a server loop that swallows it), the command exits 130. Ctrl-C pressed again while
    the command winds up (a fine-tune saving its checkpoint) is ignored. A process started with
    SIGINT ignored keeps ignoring it."""

    def __init__(self) -> None:
        self.seen = False
        self._previous: signal.Handlers | object | None = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if not self.seen:
            self.seen = True
            raise KeyboardInterrupt

    def __enter__(self) -> _CtrlC:
        if threading.current_thread() is threading.main_thread() \
                and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)  # type: ignore[arg-type]


def _leave_interrupted(as_program: bool) -> int:
    """Exit status 130. Run as the program, the process ends here: it waits neither for
    threads still at work (a model loading, a generation) nor lets Python turn an interrupt
    it saw (even one caught, as here) into a death by SIGINT at exit."""
    if as_program:
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(EXIT_INTERRUPTED)
    return EXIT_INTERRUPTED


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kodama`` console script (``argv``: the arguments, by default the
    command line's). Ctrl-C exits 130 without a traceback."""
    with _CtrlC() as ctrl_c:
        try:
            code = _dispatch(argv)
        except BaseException:
            if not ctrl_c.seen:
                raise
            code = EXIT_INTERRUPTED
        if ctrl_c.seen:
            return _leave_interrupted(argv is None)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
