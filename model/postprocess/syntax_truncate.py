"""Filter ``syntax_truncate``: end the completion where the document still parses.

Rule: the whole document ``prefix + candidate + suffix`` is parsed with tree-sitter
(:func:`kodama.syntax.analysis.count_errors`). When ``prefix + suffix`` parsed without errors,
a candidate must parse without errors too; when it did not (an empty hole in the middle of a
statement often does not), a candidate must not have more errors than it had. Candidates, the
longest first: the whole completion, then cuts at the end of each line (last to first), then
cuts of the first line at token boundaries. The first candidate that qualifies is returned;
when none does, the completion becomes ``''``. At most :data:`MAX_PARSES` parses are made per
completion (files may have thousands of lines); candidates beyond that budget are not tried.
An unknown language (or one without a grammar) leaves the completion unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from kodama.model.types import CompletionContext
from kodama.syntax.analysis import count_errors

__all__ = ["MAX_PARSES", "candidates", "syntax_truncate"]

MAX_PARSES = 24
"""Most tree-sitter parses spent on one completion (the baseline parse included)."""

_TOKEN_RE = re.compile(r"\w+|[^\w\s]")


def syntax_truncate(ctx: CompletionContext, text: str) -> str:
    """Apply the ``syntax_truncate`` rule (see the module docstring) to ``text``."""
    if not text.strip() or ctx.language is None:
        return text
    before = count_errors(ctx.language, ctx.prefix + ctx.suffix)
    if before is None:
        return text
    budget = MAX_PARSES - 1
    for candidate in candidates(text):
        if budget <= 0:
            break
        budget -= 1
        after = count_errors(ctx.language, ctx.prefix + candidate + ctx.suffix)
        if after is None:
            return text
        if after == 0 if before == 0 else after <= before:
            return candidate
    return ""


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
