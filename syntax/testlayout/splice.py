"""Text surgery for merging generated tests: lines, cuts, clean bodies and insertions (pure).

Offsets are ``str`` indices (code points); insertions are :class:`~.common.Edit` values with
``start == end``.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Sequence

from .common import Edit

__all__ = [
    "append",
    "clean_body",
    "combine",
    "cut",
    "indent",
    "insert_after_line",
    "line_after",
    "line_start",
    "strip_fences",
]


def strip_fences(text: str) -> str:
    """*text* without a Markdown code fence around all of it."""
    match = re.fullmatch(r"\s*```[\w+.-]*[ \t]*\n(.*?)\n?```\s*", text, re.S)
    return match[1] if match else text


def line_start(text: str, offset: int) -> int:
    """The offset of the start of the line holding *offset*."""
    return text.rfind("\n", 0, offset) + 1


def line_after(text: str, offset: int) -> int:
    """The offset just past the end of the line holding *offset* (its ``\\n`` included)."""
    end = text.find("\n", offset)
    return len(text) if end == -1 else end + 1


def cut(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """*text* without *spans*; a line left blank by a cut disappears."""
    out: list[str] = []
    cursor = 0
    for start, end in sorted(spans):
        line = line_start(text, start)
        if not text[line:start].strip():
            start = max(line, cursor)
        after = line_after(text, end)
        if not text[end:after].strip() or text[end:after].strip() == ";":
            end = after
        if start < cursor:
            start = cursor
        out.append(text[cursor:start])
        cursor = max(cursor, end)
    out.append(text[cursor:])
    return "".join(out)


def clean_body(text: str) -> str:
    """Dedented, without blank lines at either end and with trailing spaces removed."""
    lines = [line.rstrip() for line in textwrap.dedent(text).split("\n")]
    body = "\n".join(lines).strip("\n")
    return re.sub(r"\n{4,}", "\n\n\n", body)


def append(existing: str, body: str, separator: str) -> Edit:
    """Append *body* after the last non-blank character, *separator* in between."""
    end = len(existing.rstrip())
    return Edit(end, len(existing), (separator + body if body else "") + "\n")


def insert_after_line(existing: str, node_end: int, lines: Sequence[str]) -> Edit | None:
    """Insert *lines* after the line holding offset *node_end*."""
    if not lines:
        return None
    pos = line_after(existing, node_end)
    end = len(existing.rstrip())
    if pos > end or not existing[:pos].endswith("\n"):  # the node is the last thing
        return Edit(end, end, "\n" + "\n".join(lines))
    return Edit(pos, pos, "".join(line + "\n" for line in lines))


def indent(body: str, prefix: str) -> str:
    """*body* with *prefix* before every non-blank line (blank lines emptied)."""
    return "\n".join(prefix + line if line.strip() else "" for line in body.split("\n"))


def combine(splices: Sequence[Edit], nl: str) -> tuple[Edit, ...]:
    """Sort (stable), join inserts at the same offset, convert line endings to *nl*."""
    out: list[Edit] = []
    for edit in sorted(splices, key=lambda e: e.start):
        if not edit.text and edit.start == edit.end:
            continue
        text = edit.text.replace("\n", nl)
        if out and out[-1].end == edit.start and out[-1].start == out[-1].end == edit.start:
            out[-1] = Edit(edit.start, edit.end, out[-1].text + text)
        elif out and edit.start < out[-1].end:
            raise AssertionError("overlapping merge edits")  # pragma: no cover
        else:
            out.append(Edit(edit.start, edit.end, text))
    return tuple(out)
