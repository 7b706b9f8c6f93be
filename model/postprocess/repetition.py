"""Filter ``repetition``: drop a completion that only repeats what is already there.

Rule: the completion becomes ``''`` when (a) it equals the start of the text that follows the
cursor, whitespace aside: when text follows on the cursor line, a start of the text from the
cursor on that ends at a word boundary; otherwise the next whole lines, and only when the
completion does not end a cursor line that has text before the cursor and is not only closing
brackets (``}`` above ``}`` is normal); or (b) the lines it
produces (cursor line included, from the prefix's part to the rest of the line) are the same,
indentation included, as the non-blank lines just above the cursor line. Lines made only of
closing brackets (``}``, ``})``) repeat legitimately and never trigger (b).
"""

from __future__ import annotations

from kodama.model.postprocess.common import (
    is_closer_line,
    line_prefix,
    previous_nonblank_lines,
    rest_of_line,
)
from kodama.model.types import CompletionContext

__all__ = ["repetition"]


def repetition(ctx: CompletionContext, text: str) -> str:
    """Apply the ``repetition`` rule (see the module docstring) to ``text``."""
    if not text.strip():
        return ""
    if _equals_following(ctx, text) or _repeats_above(ctx, text):
        return ""
    return text


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _normal(text: str) -> str:
    return " ".join(text.split())


def _equals_following(ctx: CompletionContext, text: str) -> bool:
    """Whether ``text`` is, whitespace aside, the start of the suffix (see the module rule)."""
    wanted = _normal(text)
    if rest_of_line(ctx).strip():
        following = _normal(ctx.suffix[: 4 * len(text) + 256])
        if not following.startswith(wanted):
            return False
        return len(following) == len(wanted) or not (
            _is_word(wanted[-1]) and _is_word(following[len(wanted)])
        )
    first = text.split("\n", 1)[0]
    if line_prefix(ctx).strip() and first.strip():
        return False  # the completion ends the cursor line: it cannot be a following line
    if all(is_closer_line(line) for line in text.split("\n") if line.strip()):
        return False  # closers repeat legitimately (``}`` above ``}``)
    following = ""
    start = ctx.suffix.find("\n") + 1
    while start > 0 and len(following) < len(wanted):
        end = ctx.suffix.find("\n", start)
        line = ctx.suffix[start:] if end < 0 else ctx.suffix[start:end]
        following = _normal(f"{following} {line}")
        start = end + 1
    return following == wanted


def _repeats_above(ctx: CompletionContext, text: str) -> bool:
    """Whether the lines the completion produces equal the lines just above the cursor line."""
    produced = (line_prefix(ctx) + text + rest_of_line(ctx)).split("\n")
    content = [line.rstrip() for line in produced if line.strip()]
    if not content or all(is_closer_line(line) for line in content):
        return False
    above: list[str] = previous_nonblank_lines(ctx.prefix, len(content))
    return above == content
