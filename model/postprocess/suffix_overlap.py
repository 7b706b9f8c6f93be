"""Filter ``suffix_overlap``: remove the end of the completion that the suffix already holds.

Rule: the completion ``X + O`` becomes ``X`` when ``O`` duplicates the start of the suffix,
either on the cursor line (``O`` is a start of the rest of that line, e.g. ``x)`` at
``print(█)`` → ``x``; an overlap that begins with a letter or digit must not split a word) or
as whole lines (``O``'s non-blank lines equal the suffix's first non-blank lines, indentation
included; only when nothing else follows the cursor on its line). ``O`` is never removed when
one of its closing brackets closes a bracket opened in ``X`` (``f(x)`` at ``print(█)`` stays).
The largest removable ``O`` wins.
"""

from __future__ import annotations

from kodama.model.postprocess.common import (
    CLOSERS,
    bracket_tokens,
    line_prefix,
    rest_of_line,
)
from kodama.model.types import CompletionContext

__all__ = ["suffix_overlap"]

_MAX_SUFFIX_LINES = 64
"""Suffix lines compared at most (a completion is never longer than this in practice)."""


def suffix_overlap(ctx: CompletionContext, text: str) -> str:
    """Apply the ``suffix_overlap`` rule (see the module docstring) to ``text``."""
    if not text:
        return text
    line_cuts = set(_line_cuts(ctx, text))
    for cut in sorted(line_cuts.union(_same_line_cuts(ctx, text))):
        if _removable(ctx, text[:cut], text[cut:]):
            # Whole lines go with the line break before them; on the cursor line, only the
            # duplicated characters go (a closer on its own line stays on its own line).
            return text[:cut].rstrip() if cut in line_cuts else text[:cut]
    return text


def _line_cuts(ctx: CompletionContext, text: str) -> list[int]:
    """Cuts at line starts where the rest of the completion repeats the suffix's first lines."""
    if rest_of_line(ctx).strip():
        return []
    after = ctx.suffix.find("\n")
    if after < 0:
        return []
    wanted = [
        line.rstrip()
        for line in ctx.suffix[after + 1 :].split("\n", _MAX_SUFFIX_LINES)[:_MAX_SUFFIX_LINES]
        if line.strip()
    ]
    lines = text.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    full_first = line_prefix(ctx) + lines[0]
    cuts: list[int] = []
    for j in range(len(lines)):
        if j == 0 and line_prefix(ctx).strip():
            continue
        tail = [full_first if i == 0 else lines[i] for i in range(j, len(lines))]
        tail = [line.rstrip() for line in tail if line.strip()]
        if tail and tail == wanted[: len(tail)]:
            cuts.append(starts[j])
    return cuts


def _same_line_cuts(ctx: CompletionContext, text: str) -> list[int]:
    """Cuts where the completion's end is a start of the rest of the cursor line."""
    rest = rest_of_line(ctx)
    last = text[text.rfind("\n") + 1 :]
    cuts: list[int] = []
    for start in {rest, rest.lstrip()}:
        for k in range(1, min(len(start), len(last)) + 1):
            overlap = start[:k]
            if not overlap.strip() or not last.endswith(overlap):
                continue
            cut = len(text) - k
            if overlap[0].isalnum() or overlap[0] == "_":
                before = text[cut - 1] if cut > 0 else line_prefix(ctx)[-1:]
                if before.isalnum() or before == "_":
                    continue
            cuts.append(cut)
    return cuts


def _removable(ctx: CompletionContext, kept: str, removed: str) -> bool:
    """Whether no closing bracket of ``removed`` closes a bracket opened in ``kept``."""
    head = line_prefix(ctx)
    start, split = len(head), len(head) + len(kept)
    stack: list[tuple[str, int]] = []
    for token in bracket_tokens(ctx.language, head + kept + removed):
        if token.char not in CLOSERS:
            stack.append((token.char, token.pos))
            continue
        if token.pos >= split and stack and start <= stack[-1][1] < split:
            return False
        if stack and stack[-1][0] == CLOSERS[token.char]:
            stack.pop()
    return True
