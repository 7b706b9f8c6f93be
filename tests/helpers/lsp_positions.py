"""Naive reference conversions between LSP positions (UTF-16) and code-point offsets, written
the slow obvious way so the syntax layer's fast ones can be checked against them."""

from __future__ import annotations

import re


def ref_lines(text: str) -> list[tuple[int, int]]:
    """(start, content end) code-point offsets of each LSP line, computed naively."""
    out = []
    start = 0
    for m in re.finditer(r"\r\n|\r|\n", text):
        out.append((start, m.start()))
        start = m.end()
    out.append((start, len(text)))
    return out


def ref_offset(text: str, line: int, character: int) -> int:
    """Code-point offset of an LSP position: clamped to the line, rounded down in a pair."""
    start, end = ref_lines(text)[line]
    units = 0
    for i in range(start, end):
        width = 2 if ord(text[i]) > 0xFFFF else 1
        if units + width > character:
            return i
        units += width
    return end


def ref_position(text: str, offset: int) -> tuple[int, int]:
    """LSP position (UTF-16) of a code-point offset; inside a ``\\r\\n``, the line's end."""
    for line, (start, end) in enumerate(ref_lines(text)):
        if start <= offset <= end:
            return (line, len(text[start:offset].encode("utf-16-le")) // 2)
        if offset < start:
            break
    # inside a "\r\n": the end of the previous line's content
    line = max(i for i, (s, _) in enumerate(ref_lines(text)) if s <= offset)
    start, end = ref_lines(text)[line]
    return (line, len(text[start:end].encode("utf-16-le")) // 2)
