"""Filter ``syntax_truncate``: end the completion where the document still parses.

Rule: the whole document ``prefix + candidate + suffix`` is parsed with tree-sitter
(:func:`kodama.syntax.analysis.error_rows`). When ``prefix + suffix`` parsed without errors,
a candidate must parse without errors too. When it did not (an empty hole in the middle of a
statement often does not), a candidate must have no more errors than it had, no ERROR node on
the lines the completion writes, and none on a line that had none (the lines after the
completion counted as they were before it); when the hole's own lines (the cursor's and its
neighbours) hold all the ERROR nodes, the completion must leave none (a MISSING ``;`` aside;
a MISSING name or bracket counts as an error: ``from .`` completed with ``_ import ()``).
So an error elsewhere in the file does not block completions here, nor does a MISSING ``;``
the user is about to type, while a completion that leaves the hole broken — ``@`` completed
with ``@route(…)``, a name followed by a second signature, a call closed too early (which
moves the hole's error to the next line) — is dropped. Candidates, the
longest first: the whole completion, then cuts at the end of each line (last to first), then
cuts of the first line at token boundaries. The first candidate that qualifies is returned;
when none does, the completion becomes ``''``. When all the errors of ``prefix + suffix`` lie
after the cursor line (the suffix closes a call the hole opened: ``settings█`` before
``"patience",`` … ``)``), a shorter candidate after which the file parses wins over a longer
one that only leaves those errors as they were (``.load_profile(`` over
``.load_profile("patience")``). Parsing is bounded (files may have thousands of
lines): at most :data:`MAX_PARSES` parses per completion, fewer for a big document so that about
:data:`PARSE_BUDGET_CHARS` characters are parsed in all (never fewer than :data:`MIN_PARSES`);
candidates beyond the budget are not tried. An unknown language (or one without a grammar)
leaves the completion unchanged.

A file left unfinished — brackets still open at its end, each followed only by lines indented
deeper than its own line, as when typing new code at the end of a file — is judged as if those
brackets were closed at its end, for ``prefix + suffix`` and for each candidate (except the
brackets a candidate opens itself: it must close those). Error counts of unfinished files are
misleading otherwise: one ERROR node spanning the open block counts less than the MISSING
closers that a good completion leaves, so a cut in the middle of a construct would win.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator

from kodama.model.postprocess.common import (
    CLOSERS,
    OPENERS,
    bracket_tokens,
    indent_width,
    line_prefix,
    pop_to,
    scanned_language,
)
from kodama.model.types import CompletionContext
from kodama.syntax.analysis import error_rows

__all__ = [
    "MAX_PARSES",
    "MIN_PARSES",
    "PARSE_BUDGET_CHARS",
    "candidates",
    "parse_budget",
    "syntax_truncate",
]

MAX_PARSES = 24
"""Most tree-sitter parses spent on one completion (the baseline parse included)."""
MIN_PARSES = 4
"""Fewest parses allowed, however big the document (the baseline parse included)."""
PARSE_BUDGET_CHARS = 4_000_000
"""Characters parsed in all for one completion, about (tree-sitter: ~10 MB/s on our CPUs)."""

_TOKEN_RE = re.compile(r"\w+|[^\w\s]")


def syntax_truncate(ctx: CompletionContext, text: str) -> str:
    """Apply the ``syntax_truncate`` rule (see the module docstring) to ``text``."""
    if not text.strip() or ctx.language is None:
        return text
    language: str = ctx.language
    before = error_rows(language, ctx.prefix + ctx.suffix)
    if before is None:
        return text
    budget = parse_budget(len(ctx.prefix) + len(text) + len(ctx.suffix)) - 1
    ends = _EndRepair.for_unfinished(ctx, language) if before else None
    if ends is not None:
        budget -= 1
        before = error_rows(language, ctx.prefix + ctx.suffix + ends.tail("")) or []
    first_row = ctx.prefix.count("\n")
    # Errors only after the cursor (``)`` of a call the hole opened): a cut that mends them
    # beats a longer answer that leaves them.
    mendable = bool(before) and all(start > first_row for start, _, _ in before)
    chosen = ""
    for candidate in candidates(text):
        if budget <= 0:
            break
        budget -= 1
        tail = ends.tail(candidate) if ends else ""
        rows = error_rows(language, ctx.prefix + candidate + ctx.suffix + tail)
        if rows is None:
            return text
        if not _error_lines(rows) and (chosen or mendable):
            return candidate
        if not chosen and _acceptable(before, rows, first_row, candidate.count("\n")):
            chosen = candidate
            if not mendable or not _error_lines(rows):
                return chosen
    return chosen


def _error_lines(rows: list[tuple[int, int, bool]]) -> set[int]:
    """The rows covered by ERROR and MISSING nodes (MISSING terminators left out)."""
    return {row for start, end, missing in rows if not missing for row in range(start, end + 1)}


def _acceptable(before: list[tuple[int, int, bool]], rows: list[tuple[int, int, bool]],
                first: int, added: int) -> bool:
    """Whether a candidate qualifies: with error ``rows`` after it, written on rows
    ``first..first + added`` (``added`` = its line breaks), given the hole's errors ``before``.

    No more errors than before, none on the written rows, and none on a row that had none
    before (rows after the completion shifted back by ``added``): a completion may leave the
    file's other errors as they were, never move one to the next line.
    """
    if not before or not rows:
        return not rows
    if len(rows) > len(before):
        return False
    last = first + added
    had = _error_lines(before)
    if had and all(first - 1 <= row <= first + 1 for row in had):
        return not _error_lines(rows)  # the hole was the only error: mend it (`;` aside)
    for row in _error_lines(rows):
        if first <= row <= last:
            return False
        if (row - added if row > last else row) not in had:
            return False
    return True


class _EndRepair:
    """Closers for the brackets left open at the end of ``prefix + candidate + suffix``.

    The prefix before the cursor line is scanned once; each candidate costs a scan of the
    cursor line, the candidate and the suffix only. Brackets opened by the candidate itself
    are left open (a candidate must close its own).
    """

    def __init__(self, ctx: CompletionContext, language: str) -> None:
        self.ctx = ctx
        self.language = language
        self.head = len(ctx.prefix) - len(line_prefix(ctx))
        self.base = _apply(language, ctx.prefix[: self.head], [], 0)

    @classmethod
    def for_unfinished(cls, ctx: CompletionContext, language: str) -> _EndRepair | None:
        """A repair when ``prefix + suffix`` was left unfinished at its end, else None.

        Unfinished: every bracket still open at the end is followed, up to the end, only by
        lines indented deeper than the line that opened it (its block runs on to the end of
        the file). A bracket left open earlier and followed by code at its own level is a typo
        in the middle of the file, not an unfinished end.
        """
        if not scanned_language(language):
            return None
        repair = cls(ctx, language)
        stack = repair.open_at_end("")
        if not stack:
            return None
        document = ctx.prefix + ctx.suffix
        lines = document.split("\n")
        # floor[row]: smallest indentation of the non-blank lines from ``row`` to the end.
        floor = [sys.maxsize] * (len(lines) + 1)
        for row in range(len(lines) - 1, -1, -1):
            line = lines[row]
            floor[row] = min(floor[row + 1], indent_width(line)) if line.strip() else floor[row + 1]
        for _, pos in stack:
            row = document.count("\n", 0, pos)
            if floor[row + 1] <= indent_width(lines[row]):
                return None
        return repair

    def open_at_end(self, candidate: str) -> list[tuple[str, int]]:
        """Brackets (opener, position in the document) open at the end, outermost first."""
        rest = line_prefix(self.ctx) + candidate + self.ctx.suffix
        return _apply(self.language, rest, list(self.base), self.head)

    def tail(self, candidate: str) -> str:
        """The closers to append after ``prefix + candidate + suffix``, innermost first."""
        start, end = len(self.ctx.prefix), len(self.ctx.prefix) + len(candidate)
        return "".join(
            OPENERS[char]
            for char, pos in reversed(self.open_at_end(candidate))
            if not start <= pos < end
        )


def _apply(
    language: str, text: str, stack: list[tuple[str, int]], offset: int
) -> list[tuple[str, int]]:
    """Run the brackets of ``text`` (at ``offset`` in the document) over ``stack``; return it."""
    for token in bracket_tokens(language, text):
        if token.char in OPENERS:
            stack.append((token.char, token.pos + offset))
        elif stack and stack[-1][0] == CLOSERS[token.char]:
            stack.pop()
        else:
            pop_to(stack, CLOSERS[token.char])
    return stack


def parse_budget(document_chars: int) -> int:
    """Parses allowed for one completion in a document of ``document_chars`` characters."""
    return max(MIN_PARSES, min(MAX_PARSES, PARSE_BUDGET_CHARS // max(1, document_chars)))


def candidates(text: str) -> Iterator[str]:
    """Cuts of ``text`` to try, the longest first, each non-blank and yielded once.

    ``text`` itself; then ``text`` up to the end of each of its lines, from the second-last to
    the first (trailing whitespace removed); then the first line cut after each of its tokens
    (identifiers/numbers as a whole, other characters one by one), longest first.
    """
    seen: set[str] = set()

    def fresh(candidate: str) -> bool:
        if not candidate.strip() or candidate in seen:
            return False
        seen.add(candidate)
        return True

    if fresh(text):
        yield text
    lines = text.split("\n")
    for end in range(len(lines) - 1, 0, -1):
        candidate = "\n".join(lines[:end]).rstrip()
        if fresh(candidate):
            yield candidate
    first = lines[0]
    for match in reversed(list(_TOKEN_RE.finditer(first))):
        candidate = first[: match.end()].rstrip()
        if fresh(candidate):
            yield candidate
