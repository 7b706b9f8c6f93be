"""Filter ``trailing_comment``: a single-line completion does not end with a comment it invented.

Rule: in single mode, when the model follows the code it writes with a comment on the same line
(``lower()  # Ensure the IDs are lowercase``, ``main()  # pragma: no cover``), the comment and
the spaces before it go: such remarks are the model's guesses, rarely what the user would type,
and they spoil an otherwise exact line. Kept: a completion that is only a comment (the user may
be writing one), a comment that was already there before the cursor, and anything inside a
string (``"#fff"``, ``"http://x"``), found with the language's string and comment syntax. Text
inside a docstring or block comment (an odd count of ``\"\"\"`` / ``'''`` before the cursor in
Python, an unclosed ``/*`` elsewhere) is left alone. Languages the scanner does not know are left
unchanged.
"""

from __future__ import annotations

from kodama.model.postprocess.common import comment_start, line_prefix, scanned_language
from kodama.model.types import CompletionContext

__all__ = ["trailing_comment"]


def _inside_block_text(ctx: CompletionContext) -> bool:
    """Whether the cursor sits in a docstring / block comment (a cheap, conservative test)."""
    if ctx.language == "python":
        return ctx.prefix.count('"""') % 2 == 1 or ctx.prefix.count("'''") % 2 == 1
    return ctx.prefix.rfind("/*") > ctx.prefix.rfind("*/")


def trailing_comment(ctx: CompletionContext, text: str) -> str:
    """Apply the ``trailing_comment`` rule (see the module docstring) to ``text``."""
    if ctx.mode != "single" or "\n" in text or not scanned_language(ctx.language):
        return text
    before = line_prefix(ctx)
    line = before + text
    start = comment_start(ctx.language, line)
    if start is None or start < len(before) or not line[len(before):start].strip():
        return text
    if _inside_block_text(ctx):
        return text
    return line[len(before):start].rstrip()
