"""``kodama explain|docstring|tests FILE:LINE[:COL]``: what the editor would get for the
definition at a position.

The same task layer as the LSP features (``kodama.model.tasks``), with the repository context
of the file's project read through the same :class:`~kodama.server.setup.RepositoryView`
(indexed as the server indexes its workspace, cached on disk), generating in-process.
``docstring`` and ``tests`` print a unified diff of the change; ``--apply`` writes it.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
from typing import Any

from kodama.server.commands.common import engine_for, model_flags, open_source, parse_location
from kodama.server.commands.progress import TerminalProgress, TokenCount
from kodama.server.config import KodamaConfig
from kodama.server.setup import RepositoryView, convention_of

COMMANDS = {
    "explain": "print an explanation of the function, method or class at FILE:LINE",
    "docstring": "print (or --apply) the docstring Kodama writes for the definition at FILE:LINE",
    "tests": "print (or --apply) the tests Kodama writes for the definition at FILE:LINE",
}
"""The commands of this module and their one-line help."""


def add_parsers(sub: Any) -> None:
    """Add the three commands to the ``kodama`` parser."""
    for name, summary in COMMANDS.items():
        parser = sub.add_parser(
            name, help=summary,
            description=summary[0].upper() + summary[1:] + ". LINE (and the optional COL) are "
            "1-based; any position inside the definition works. The model runs in-process, "
            "with the repository's definitions as context, exactly as in the editor.")
        parser.add_argument("location", metavar="FILE:LINE[:COL]")
        if name != "explain":
            parser.add_argument("--apply", action="store_true",
                                help="write the change to disk instead of printing a diff")
        if name == "tests":
            parser.add_argument(
                "--no-run", action="store_true",
                help="offer the generated tests without running them (by default Python tests "
                "are run twice in a scratch copy of the repository and only those that pass "
                "are kept; see tasks.tests in the configuration)")
        model_flags(parser)


def _diff(path: Path, before: str, after: str) -> str:
    return "".join(difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True),
        fromfile=f"a/{path}", tofile=f"b/{path}"))


def _write_or_diff(args: argparse.Namespace, path: Path, shown: Path, before: str,
                   after: str) -> None:
    """Write ``after`` to ``path`` with ``--apply``, else print the diff (``shown`` names it)."""
    if args.apply:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(after, encoding="utf-8")
        print(f"wrote {path}", file=sys.stderr)
    else:
        print(_diff(shown, before, after), end="")


def _examples_checked(config: KodamaConfig, root: Path, path: Path, text: str, name: str,
                      documentation: str) -> str:
    """The documentation with its ``>>>`` examples run (fixed or removed); what happened is
    said on standard error."""
    from kodama.model.tasks import doctests

    if not config.tasks.tests.run:
        print("examples removed, unchecked (tasks.tests.run is off)", file=sys.stderr)
        return doctests.without_examples(documentation)
    line = TerminalProgress()
    line.show(f"running the examples of {name}")
    checked = doctests.checked(root.resolve(), path.resolve(), text, name, documentation,
                               config.tasks.tests)
    line.clear()
    print(checked.message, file=sys.stderr)
    return checked.documentation


def run(args: argparse.Namespace, config: KodamaConfig) -> int:
    """Run one of the commands (``args.command``)."""
    from kodama.model.errors import TaskError
    from kodama.model.tasks import docstring, doctests, explain, testcheck, testgen
    from kodama.model.tasks.generate import ChatRequest, run_chat
    from kodama.model.tasks.subject import subject_at

    path, line, col = parse_location(args.location, column=False)
    doc, offset = open_source(path, line, col)
    if doc.language is None:
        raise ValueError(f"{path}: Kodama does not know this language")
    if subject_at(doc.language.id, doc.text, offset, path=path.name) is None:  # before indexing
        raise TaskError(f"{path}:{line}: not inside a function, method or class")
    view = RepositoryView.of_file(path, config.context)
    if view.index is not None:
        print(f"indexing {view.root} …", file=sys.stderr)
        view.index.build()
    subject = view.definition_at(doc, offset)
    assert subject is not None
    engine, _, _ = engine_for(config, path)

    def ask(request: ChatRequest, task: str) -> str:
        writer = TerminalProgress()
        generation = run_chat(engine, request, watch=TokenCount(f"{task} {subject.name}", writer))
        writer.close(f" ({generation.tokens} tokens, {generation.decode_ms / 1000:.1f} s)")
        return generation.text

    if args.command == "explain":
        print(explain.finish(subject, ask(explain.request(subject), "explain")))
        return 0
    if args.command == "docstring":
        convention: str = config.tasks.docstring_style
        if convention == "auto":
            convention = "google" if view.index is None else convention_of(view.index)
        answer = docstring.full_answer(subject, lambda request: ask(request, "docstring"))
        documentation = docstring.body(subject, answer, convention)
        if doc.language.id == "python" and doctests.examples(documentation):
            documentation = _examples_checked(config, view.root or path.parent, path, doc.text,
                                              subject.name, documentation)
        edit = docstring.place(subject, documentation, convention)
        after = doc.text[:edit.start] + edit.new_text + doc.text[edit.end:]
        _write_or_diff(args, path, path, doc.text, after)
        return 0
    assert view.root is not None
    request = testgen.prepare(subject, view.root, path.resolve(), open_text=lambda _p: None)
    code = testgen.tests_code(request, ask(testgen.chat(request), "tests"))
    run_tests = config.tasks.tests.run and not args.no_run and testcheck.runs(request)
    if run_tests:
        runs = TerminalProgress()
        checked = testcheck.checked(request, code, config.tasks.tests, progress=runs.show,
                                  ask=lambda chat: ask(chat, "repairing tests"))
        runs.clear()
        print(checked.message, file=sys.stderr)
        result = checked.result
    else:
        result = testgen.merged(request, code)
        if config.tasks.tests.run and not args.no_run and testcheck.not_run(request):
            print(testcheck.not_run(request), file=sys.stderr)
    shown = (result.path.relative_to(view.root) if result.path.is_relative_to(view.root)
             else result.path)
    _write_or_diff(args, result.path, shown, result.before, result.text)
    return 0
