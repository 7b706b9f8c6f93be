"""Position conversions between LSP (UTF-16), Python str (code points) and tree-sitter (UTF-8).

This module is the ONE place that converts between the three units:

* **code-point offsets** — indices into a Python ``str``;
* **UTF-16 positions** — LSP ``(line, character)`` pairs, lines ending at ``\\n``,
  ``\\r\\n`` or ``\\r``;
* **UTF-8 byte offsets / tree-sitter points** — ``(row, byte column)`` where, as
  tree-sitter counts them, rows end at ``\\n`` only.

:class:`LineIndex` pre-computes line starts and the locations of astral-plane
characters (two UTF-16 code units), so that LSP conversions cost O(log n) plus the
length of the line only when it is needed; UTF-8 conversions use checkpoints every
:data:`_CHUNK` code points.  Building an index is O(n).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import accumulate

__all__ = [
    "LineIndex",
    "PositionError",
    "advance_point",
    "sanitize",
    "utf8_len",
    "utf16_len",
]

_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")
_LINE_END_RE = re.compile("\r\n|\r|\n")
_CHUNK = 1024
"""Code points between two UTF-8 checkpoints of a :class:`LineIndex`."""


class PositionError(ValueError):
    """An LSP position (or range) that does not exist in the document."""


def sanitize(text: str) -> str:
    """Replace lone UTF-16 surrogates (e.g. ``'\\ud800'`` from JSON) with U+FFFD.

    Both the code-point length and the UTF-16 length are unchanged (a surrogate and
    U+FFFD are one code point and one UTF-16 unit each).  Text without surrogates is
    returned as is.
    """
    if text.isascii() or _SURROGATE_RE.search(text) is None:
        return text
    return _SURROGATE_RE.sub("\ufffd", text)


def utf16_len(s: str) -> int:
    """Length of *s* in UTF-16 code units (astral characters count two)."""
    if s.isascii():
        return len(s)
    return len(s) + len(_ASTRAL_RE.findall(s))


def utf8_len(s: str) -> int:
    """Length of *s* in UTF-8 bytes (a lone surrogate counts three, like U+FFFD)."""
    if s.isascii():
        return len(s)
    return len(s.encode("utf-8", "surrogatepass"))


def advance_point(point: tuple[int, int], inserted: str) -> tuple[int, int]:
    """The tree-sitter point reached after writing *inserted* at *point* (row, byte column)."""
    newlines = inserted.count("\n")
    if newlines == 0:
        return (point[0], point[1] + utf8_len(inserted))
    return (point[0] + newlines, utf8_len(inserted[inserted.rindex("\n") + 1 :]))


def _line_starts(text: str) -> list[int]:
    """Code-point offsets where each LSP line starts."""
    if "\r" not in text:
        # C-speed path: running sum of (line length + 1) over the '\n'-split parts.
        lengths = map((1).__add__, map(len, text.split("\n")))
        starts = list(accumulate(lengths, initial=0))
        starts.pop()
        return starts
    starts = [0]
    starts.extend(m.end() for m in _LINE_END_RE.finditer(text))
    return starts


class LineIndex:
    """Index over a text converting between LSP positions, code-point and UTF-8 offsets.

    ``line_count`` counts every line, including the empty line after a final line
    terminator: ``"a\\n"`` has two lines, ``""`` has one.  Valid LSP lines are
    ``0 .. line_count - 1``.
    """

    __slots__ = (
        "_astral_cp",
        "_astral_u16",
        "_byte_checkpoints",
        "_nl_starts",
        "_starts",
        "_text",
    )

    def __init__(self, text: str) -> None:
        """Index *text* (O(n))."""
        self._text = text
        self._starts: list[int] = _line_starts(text)
        if text.isascii():
            self._astral_cp: list[int] = []
        else:
            self._astral_cp = [m.start() for m in _ASTRAL_RE.finditer(text)]
        # UTF-16 offset (from the text start) of each astral character.
        self._astral_u16: list[int] = [cp + i for i, cp in enumerate(self._astral_cp)]
        self._byte_checkpoints: list[int] | None = None
        self._nl_starts: list[int] | None = None

    # ------------------------------------------------------------------ basics
    @property
    def text(self) -> str:
        """The indexed text."""
        return self._text

    @property
    def line_count(self) -> int:
        """Number of lines (a final line terminator starts one more, empty, line)."""
        return len(self._starts)

    def line_start(self, line: int) -> int:
        """Code-point offset where *line* starts (PositionError when it does not exist)."""
        self._check_line(line)
        return self._starts[line]

    def line_end(self, line: int) -> int:
        """Code-point offset where *line*'s content ends (before its line terminator)."""
        self._check_line(line)
        return self._content_end(line)

    def line_text(self, line: int) -> str:
        """The content of *line*, without its line terminator."""
        self._check_line(line)
        return self._text[self._starts[line] : self._content_end(line)]

    def line_of(self, offset: int) -> int:
        """The LSP line containing code-point *offset* (clamped to the text)."""
        offset = min(max(offset, 0), len(self._text))
        return bisect_right(self._starts, offset) - 1

    def _check_line(self, line: int) -> None:
        if line < 0 or line >= len(self._starts):
            raise PositionError(
                f"line {line} out of range: the document has lines 0..{len(self._starts) - 1}"
            )

    def _content_end(self, line: int) -> int:
        if line + 1 >= len(self._starts):
            return len(self._text)
        nxt = self._starts[line + 1]
        if nxt >= 2 and self._text[nxt - 2 : nxt] == "\r\n":
            return nxt - 2
        return nxt - 1

    # ------------------------------------------------------- LSP <-> code points
    def offset(self, line: int, character: int) -> int:
        """Convert an LSP position (UTF-16 units) to a code-point offset.

        A character beyond the line's end clamps to the end of the line's content; a
        character inside a surrogate pair rounds down to the astral character.
        Negative values and lines past the last one raise :class:`PositionError`.
        """
        if character < 0:
            raise PositionError(f"negative character {character} at line {line}")
        self._check_line(line)
        start = self._starts[line]
        end = self._content_end(line)
        astral = self._astral_cp
        if not astral:
            return min(start + character, end)
        first = bisect_left(astral, start)
        in_line = bisect_left(astral, end, first) - first
        if character >= (end - start) + in_line:
            return end
        target = start + first + character  # global UTF-16 offset
        h = self._astral_u16
        before = bisect_right(h, target - 2)  # astral characters wholly before target
        if before < len(h) and h[before] < target:  # inside a surrogate pair
            return astral[before]
        return target - before

    def position(self, offset: int) -> tuple[int, int]:
        """Convert a code-point offset to an LSP ``(line, character)`` (clamped to the text).

        An offset inside a ``\\r\\n`` terminator maps to the end of the line's content.
        """
        offset = min(max(offset, 0), len(self._text))
        line = bisect_right(self._starts, offset) - 1
        start = self._starts[line]
        offset = min(offset, self._content_end(line))
        astral = self._astral_cp
        if not astral:
            return (line, offset - start)
        count = bisect_left(astral, offset) - bisect_left(astral, start)
        return (line, offset - start + count)

    def utf16_offset(self, offset: int) -> int:
        """UTF-16 offset (from the text start) of code-point *offset* (clamped)."""
        offset = min(max(offset, 0), len(self._text))
        return offset + bisect_left(self._astral_cp, offset)

    # ----------------------------------------------------- code points <-> UTF-8
    def _checkpoints(self) -> list[int]:
        cps = self._byte_checkpoints
        if cps is None:
            text = self._text
            if text.isascii():
                cps = []
            else:
                cps = [0]
                total = 0
                for i in range(0, len(text), _CHUNK):
                    total += utf8_len(text[i : i + _CHUNK])
                    cps.append(total)
            self._byte_checkpoints = cps
        return cps

    def byte_offset(self, offset: int) -> int:
        """UTF-8 byte offset of code-point *offset* (clamped to the text)."""
        offset = min(max(offset, 0), len(self._text))
        cps = self._checkpoints()
        if not cps:
            return offset
        chunk = offset // _CHUNK
        base = chunk * _CHUNK
        return cps[chunk] + utf8_len(self._text[base:offset])

    def offset_of_byte(self, byte: int) -> int:
        """Code-point offset of UTF-8 *byte* offset (clamped; inside a character rounds down)."""
        cps = self._checkpoints()
        if not cps:
            return min(max(byte, 0), len(self._text))
        if byte >= cps[-1]:
            return len(self._text)
        byte = max(byte, 0)
        chunk = bisect_right(cps, byte) - 1
        base = chunk * _CHUNK
        rest = byte - cps[chunk]
        if rest == 0:
            return base
        data = self._text[base : base + _CHUNK].encode("utf-8", "surrogatepass")[:rest]
        return base + len(data.decode("utf-8", "ignore"))

    @property
    def byte_length(self) -> int:
        """Length of the text in UTF-8 bytes."""
        return self.byte_offset(len(self._text))

    # ------------------------------------------------ tree-sitter points (rows at \n)
    def _newline_starts(self) -> list[int]:
        nl = self._nl_starts
        if nl is None:
            text = self._text
            if text.count("\r") == text.count("\r\n"):
                nl = self._starts  # no lone '\r': LSP lines == tree-sitter rows
            else:
                nl = _line_starts(text.replace("\r", " "))  # same length, rows at '\n' only
            self._nl_starts = nl
        return nl

    def point(self, offset: int) -> tuple[int, int]:
        """Tree-sitter point ``(row, byte column)`` of code-point *offset* (clamped).

        Rows are counted at ``\\n`` only, as tree-sitter does.
        """
        offset = min(max(offset, 0), len(self._text))
        nl = self._newline_starts()
        row = bisect_right(nl, offset) - 1
        return (row, self.byte_offset(offset) - self.byte_offset(nl[row]))

    def byte_point(self, byte: int) -> tuple[int, int]:
        """Tree-sitter point of UTF-8 *byte* offset (clamped)."""
        return self.point(self.offset_of_byte(byte))

    def offset_of_point(self, point: Sequence[int]) -> int:
        """Code-point offset of a tree-sitter point ``(row, byte column)`` (clamped)."""
        nl = self._newline_starts()
        row = min(max(point[0], 0), len(nl) - 1)
        byte = self.byte_offset(nl[row]) + max(point[1], 0)
        end = nl[row + 1] - 1 if row + 1 < len(nl) else len(self._text)
        return min(self.offset_of_byte(byte), end)
