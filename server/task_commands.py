"""``kodama explain|docstring|tests FILE:LINE[:COL]``: print what the editor would get.

The same task layer as the LSP features (``kodama.model.tasks``), with the repository context
of the file's project (indexed like the server does, cached on disk), generating in-process.
``docstring`` and ``tests`` print a unified diff of the change; ``--apply`` writes it.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kodama.server.config import KodamaConfig

TASKS = {
    "explain": "print an explanation of the function, method or class at FILE:LINE",
    "docstring": "print (or --apply) the docstring Kodama writes for the definition at FILE:LINE",
    "tests": "print (or --apply) the tests Kodama writes for the definition at FILE:LINE",
}


def add_parsers(sub: Any, model_flags: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the three task subcommands to the ``kodama`` parser."""
    for name, summary in TASKS.items():
        parser = sub.add_parser(
            name, help=summary,
            description=summary[0].upper() + summary[1:] + ". LINE (and the optional COL) are "
            "1-based; any position inside the definition works. The model runs in-process, "
            "with the repository's definitions as context, exactly as in the editor.")
        parser.add_argument("location", metavar="FILE:LINE[:COL]")
        if name != "explain":
            parser.add_argument("--apply", action="store_true",
                                help="write the change to disk instead of printing a diff")
        model_flags(parser)


def _diff(path: Path, before: str, after: str) -> str:
    return "".join(difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True),
        fromfile=f"a/{path}", tofile=f"b/{path}"))


def _progress(label: str) -> Callable[[str], int | None]:
    """A stop rule that never stops but shows a live token count on stderr."""
    count = 0

    def tick(_text: str) -> int | None:
        nonlocal count
        count += 1
        if sys.stderr.isatty():
            sys.stderr.write(f"\r\x1b[K{label}: {count} tokens")
            sys.stderr.flush()
        return None

    return tick


def run(args: argparse.Namespace, config: KodamaConfig) -> int:
    """Run one task subcommand."""
    from kodama.model.context.index import WorkspaceIndex
    from kodama.model.context.provider import RepositoryContext
    from kodama.model.errors import TaskError
    from kodama.model.tasks import docstring, explain, testgen
    from kodama.model.tasks.subject import subject_at
    from kodama.server.cli import open_source, parse_location
    from kodama.server.tasks import convention_of, project_root

    path, line, col = parse_location(args.location, column=False)
    doc, offset = open_source(path, line, col)
    text, spec = doc.text, doc.language
    if spec is None:
        raise ValueError(f"{path}: Kodama does not know this language")
    root = project_root(path)
    rel = path.resolve().relative_to(root).as_posix()
    bare = subject_at(spec.id, text, offset, path=rel)
    if bare is None:
        raise TaskError(f"{path}:{line}: not inside a function, method or class")
    index = WorkspaceIndex(root, max_files=config.context.max_files)
    print(f"indexing {root} …", file=sys.stderr)
    index.build()
    subject = dataclasses.replace(
        bare, context=RepositoryContext(index).snippets(rel, text, bare.middle))

    from kodama.model.tasks.generate import ChatRequest, run_chat
    from kodama.server.cli import engine_for

    engine, _, _ = engine_for(config, path)

    def ask(request: ChatRequest, task: str) -> str:
        generation = run_chat(engine, request, watch=_progress(f"{task} {subject.name}"))
        print(f" ({generation.tokens} tokens, {generation.decode_ms / 1000:.1f} s)",
              file=sys.stderr)
        return generation.text

    if args.command == "explain":
        print(explain.finish(subject, ask(explain.request(subject), "explain")))
        return 0
    if args.command == "docstring":
        convention: str = config.tasks.docstring_style
        if convention == "auto":
            convention = convention_of(index)
        answer = docstring.full_answer(subject, lambda request: ask(request, "docstring"))
        edit = docstring.finish(subject, answer, convention)
        after = text[:edit.start] + edit.new_text + text[edit.end:]
        if args.apply:
            path.write_text(after, encoding="utf-8")
            print(f"wrote {path}", file=sys.stderr)
        else:
            print(_diff(path, text, after), end="")
        return 0
    request = testgen.prepare(subject, root, path.resolve(), open_text=lambda _p: None)
    result = testgen.finish(request, ask(testgen.chat(request), "tests"))
    if args.apply:
        result.path.parent.mkdir(parents=True, exist_ok=True)
        result.path.write_text(result.text, encoding="utf-8")
        print(f"wrote {result.path}", file=sys.stderr)
    else:
        shown = result.path.relative_to(root) if result.path.is_relative_to(root) else result.path
        print(_diff(shown, result.before, result.text), end="")
    return 0
