"""Documentation a definition already has: the comments right above it, a Python docstring's
value, and their text without quotes or comment markers."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from collections.abc import Sequence

import tree_sitter

from kodama.syntax.docstrings.styles import CommentStyle
from kodama.syntax.tags import _node_text


def comments_above(
    head: tree_sitter.Node,
    comments: frozenset[tree_sitter.Node],
    style: CommentStyle,
    src: bytes,
) -> tuple[tree_sitter.Node, tuple[tree_sitter.Node, ...]]:
    """(first node documentation goes above, the documentation comments right above it)."""
    top = head
    above = top.prev_named_sibling
    while (
        above is not None
        and above in comments
        and _is_directive(above, style)
        and _touches(above, top)
    ):
        top = above
        above = top.prev_named_sibling
    docs: list[tree_sitter.Node] = []
    lowest = top
    while (
        above is not None
        and above in comments
        and _is_doc(above, style)
        and _touches(above, lowest)
        and _starts_line(above, src)
    ):
        docs.append(above)
        lowest = above
        above = lowest.prev_named_sibling
    return top, tuple(reversed(docs))


def _is_directive(comment: tree_sitter.Node, style: CommentStyle) -> bool:
    pattern = style.directive
    return pattern is not None and re.match(pattern, _node_text(comment)) is not None


def _is_doc(comment: tree_sitter.Node, style: CommentStyle) -> bool:
    text = _node_text(comment)
    return text.startswith(style.docs) and not text.startswith(style.not_docs)


def _last_row(node: tree_sitter.Node) -> int:
    """Last row holding text of *node* (a line comment may end after its newline)."""
    row, column = node.end_point
    return row - 1 if column == 0 and row > node.start_point[0] else row


def _touches(upper: tree_sitter.Node, lower: tree_sitter.Node) -> bool:
    """No blank line between *upper* and *lower*."""
    return _last_row(upper) + 1 >= lower.start_point[0]


def _starts_line(node: tree_sitter.Node, src: bytes) -> bool:
    line_start = src.rfind(b"\n", 0, node.start_byte) + 1
    return not src[line_start : node.start_byte].strip()


def python_string_value(string: tree_sitter.Node) -> str | None:
    """The value of a Python string literal, cleaned like ``help()`` shows it; None if it is
    not a plain ``str`` literal (an f-string, bytes)."""
    try:
        value = ast.literal_eval(_node_text(string).replace("\r\n", "\n"))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return inspect.cleandoc(value) if isinstance(value, str) else None


def comments_text(comments: Sequence[str]) -> str:
    """The documentation text of a run of comments, without their markers."""
    lines: list[str] = []
    for comment in comments:
        lines.extend(_uncomment(comment.replace("\r\n", "\n").rstrip("\n")))
    return trim_blank_lines(lines)


def _uncomment(comment: str) -> list[str]:
    if not comment.startswith("/*"):
        return [re.sub(r"^//[/!]? ?", "", comment).rstrip()]
    inner = comment[2:-2] if comment.endswith("*/") and len(comment) >= 4 else comment[2:]
    inner = inner.removeprefix("*").replace("*\\/", "*/")
    first, *rest = inner.split("\n")
    if all(re.match(r"\s*\*", line) for line in rest if line.strip()):
        rest = [re.sub(r"^\s*\* ?", "", line) for line in rest]
    else:
        rest = textwrap.dedent("\n".join(rest)).split("\n")
    return [first.strip(), *(line.rstrip() for line in rest)]


def trim_blank_lines(lines: Sequence[str]) -> str:
    """*lines* without the blank ones at the start and the end, joined."""
    kept = list(lines)
    while kept and not kept[0].strip():
        kept.pop(0)
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join(kept)
