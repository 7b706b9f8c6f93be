"""Filter ``trim``: whitespace the completion should not carry.

Rule: in single mode keep the first line only. Trailing whitespace is removed from every line
but the last; at the end of the completion, trailing blank lines go. When nothing follows the
cursor on its line, trailing spaces of the last line go too; when text follows, at most one
final newline (with the indentation after it) is kept, since it sits between the completion and
that text, and the last line's trailing spaces are kept unless that text starts with a closer or
``,;:.`` (completion ``a  `` at ``foo(█)`` → ``a``; ``a `` at ``x = █+ 1`` keeps its space).
A completion that is only whitespace becomes ``''``.
"""

from __future__ import annotations

from kodama.model.postprocess.common import rest_of_line
from kodama.model.types import CompletionContext

__all__ = ["trim"]

_TIGHT = ")]},;:."
"""Characters that follow code without a space: trailing spaces before them are dropped."""


def trim(ctx: CompletionContext, text: str) -> str:
    """Apply the ``trim`` rule (see the module docstring) to ``text``."""
    if ctx.mode == "single":
        text = text.split("\n", 1)[0]
    if not text.strip():
        return ""
    lines = text.split("\n")
    body = [line.rstrip() for line in lines[:-1]]
    last = lines[-1]
    if not rest_of_line(ctx).strip():
        return "\n".join([*body, last]).rstrip()
    if last.strip():
        if rest_of_line(ctx).lstrip()[0] in _TIGHT:
            last = last.rstrip()
        return "\n".join([*body, last])
    # The completion ends with a newline (+ indentation) before the suffix's text: keep one.
    while body and not body[-1]:
        body.pop()
    return "\n".join([*body, last])
