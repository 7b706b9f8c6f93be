"""The ``>>>`` examples of a generated Python docstring, run before the docstring is offered: a
wrong example is fixed or removed.

The examples run as doctests, with the module's globals, in the same sandbox as generated tests
(:mod:`~kodama.model.tasks.sandbox`: a scratch copy of the repository with the file as the
editor has it, the project's interpreter, no network, a time limit). Then, per example:

- it passed: kept;
- it printed something other than what it shows (no exception): *fixed*, its expected output
  replaced by what the code really gives, when that is short and stable (no object address);
  else removed;
- it raised an exception it does not show, or a different one: removed.

The examples run again after each change (a removed example may have defined what a later one
uses), at most :data:`ROUNDS` times; examples still failing then are all removed, and so are
examples that could not be run at all (the module does not import in the project's
interpreter): an example nobody checked is not offered. Pure parts (finding examples, rewriting
the text) are functions of text; :func:`checked` runs the process.
"""

from __future__ import annotations

import doctest
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kodama.model.config import TestRunConfig
from kodama.model.tasks.sandbox import Event, Sandbox, project_python
from kodama.syntax.walk import walk

ROUNDS = 3
"""Runs of the examples at most (each after fixing or removing the failing ones)."""

MAX_FIX_LINES = 6
MAX_FIX_CHARS = 300
"""Longest output written into an example in place of a wrong one."""

_ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]+")
_SECTION = re.compile(r"^\s*(?:Examples?|Usage)\s*:?\s*$")


@dataclass(frozen=True)
class Span:
    """Where one example sits in the documentation: lines ``start`` to ``end`` (exclusive)."""

    start: int
    end: int
    indent: int
    want: str


def examples(documentation: str) -> list[Span]:
    """The ``>>>`` examples of ``documentation``, in order."""
    found = doctest.DocTestParser().get_examples(documentation)
    return [Span(start=e.lineno, end=e.lineno + e.source.count("\n") + e.want.count("\n"),
                 indent=e.indent, want=e.want) for e in found]


def _fixable(got: str) -> bool:
    lines = got.rstrip("\n").splitlines()
    return (len(lines) <= MAX_FIX_LINES and len(got) <= MAX_FIX_CHARS
            and not _ADDRESS.search(got) and not got.startswith("Traceback"))


def rewrite(documentation: str, verdicts: dict[int, Event]) -> tuple[str, list[str]]:
    """``documentation`` with each failing example (by number: its ``verdicts`` event) fixed
    or removed, an emptied ``Examples:`` section removed too; and one note per change."""
    spans = examples(documentation)
    lines = documentation.split("\n")
    notes: list[str] = []
    for number in sorted(verdicts, reverse=True):
        if number >= len(spans):
            continue
        span, verdict = spans[number], verdicts[number]
        source_end = span.end - span.want.count("\n")
        call = lines[span.start].strip()[4:]
        got = str(verdict.get("got", ""))
        if verdict.get("outcome") == "failed" and _fixable(got):
            shown = got.rstrip("\n").split("\n") if got.strip() else []
            lines[source_end:span.end] = [" " * span.indent + line for line in shown]
            notes.append(f"fixed `{call}` (it gives {got.strip()!r}, not {span.want.strip()!r})")
        else:
            del lines[span.start:span.end]
            why = verdict.get("message") or f"it gives {got.strip()!r}"
            notes.append(f"removed `{call}` ({why})")
    return _without_empty_sections("\n".join(lines)), list(reversed(notes))


def without_examples(documentation: str) -> str:
    """``documentation`` with every ``>>>`` example (and its emptied section) removed."""
    spans = examples(documentation)
    lines = documentation.split("\n")
    for span in reversed(spans):
        del lines[span.start:span.end]
    return _without_empty_sections("\n".join(lines))


def _without_empty_sections(text: str) -> str:
    """Remove ``Examples:`` headers with nothing under them, and runs of blank lines."""
    lines = text.split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        if _SECTION.match(line):
            rest = lines[i + 1:]
            body = next((r for r in rest if r.strip()), "")
            indent = len(line) - len(line.lstrip())
            if not body or len(body) - len(body.lstrip()) <= indent:
                continue
        if not line.strip() and kept and not kept[-1].strip():
            continue
        kept.append(line)
    return "\n".join(kept).strip("\n") + ("\n" if text.endswith("\n") else "")


@dataclass(frozen=True)
class CheckedExamples:
    """The documentation after its examples ran."""

    documentation: str
    message: str
    """One line for the user ('' when the documentation has no examples)."""


def _run_examples(sandbox: Sandbox, python: str, rel: str, name: str, documentation: str,
                  settings: TestRunConfig,
                  cancelled: Callable[[], bool]) -> tuple[dict[int, Event], str]:
    """Verdicts by example number, or why the examples could not run."""
    request = sandbox.write(".kodama/examples.json", json.dumps(
        {"file": rel, "name": name, "documentation": documentation}))
    count = len(examples(documentation))
    finished = sandbox.run([python, str(sandbox.path / ".kodama" / "_kodama_examples.py"),
                            str(request)], timeout_s=settings.timeout_s * 2,
                           cancelled=cancelled)
    imports = [e for e in finished.events if e.get("event") == "import error"]
    if imports:
        return {}, f"the module does not import: {imports[0].get('message', '')}"[:300]
    verdicts = {int(e["number"]): e for e in finished.events if e.get("event") == "example"}
    if finished.timed_out:
        verdicts.update({n: {"outcome": "error", "message": "ran past the time limit"}
                         for n in range(count) if n not in verdicts})
    elif len(verdicts) < count:
        tail = " ".join(finished.output.strip().splitlines()[-2:])[:300]
        return {}, f"the examples did not run: {tail or 'no output'}"
    return {n: v for n, v in verdicts.items() if v.get("outcome") != "passed"}, ""


def checked(root: Path, path: Path, text: str, name: str, documentation: str,
            settings: TestRunConfig,
            cancelled: Callable[[], bool] = lambda: False) -> CheckedExamples:
    """``documentation`` (of ``name`` in ``path``, whose text is ``text``) with its examples
    run in a scratch copy of the repository at ``root``: fixed, removed, or all removed when
    they cannot be checked."""
    count = len(examples(documentation))
    if not count:
        return CheckedExamples(documentation, "")
    rel = path.relative_to(root).as_posix()
    files = [entry.path for entry in walk(root) if entry.path != rel]
    python = project_python(root, settings.python)
    notes: list[str] = []
    try:
        with Sandbox(root, files, network=settings.network) as sandbox:
            sandbox.write(rel, text)
            for _ in range(ROUNDS):
                verdicts, problem = _run_examples(sandbox, python, rel, name, documentation,
                                                  settings, cancelled)
                if problem or cancelled():
                    why = problem or "cancelled"
                    return CheckedExamples(without_examples(documentation),
                                           f"examples removed, they could not be checked ({why})")
                if not verdicts:
                    break
                documentation, changes = rewrite(documentation, verdicts)
                notes += changes
            else:
                return CheckedExamples(without_examples(documentation),
                                       "examples removed: they still failed after "
                                       f"{ROUNDS} runs ({'; '.join(notes[:3])})")
    except OSError as exc:
        return CheckedExamples(without_examples(documentation),
                               f"examples removed, they could not be checked ({exc})")
    left = len(examples(documentation))
    if not notes:
        return CheckedExamples(documentation, f"{count} examples checked, all pass")
    return CheckedExamples(documentation, f"{count} examples checked, {left} kept: "
                                          + "; ".join(notes[:4]))
