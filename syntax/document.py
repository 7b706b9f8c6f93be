"""An open document: its text, LSP position index and incrementally maintained syntax tree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import tree_sitter

from . import languages
from .languages import GrammarUnavailableError, LanguageSpec
from .positions import LineIndex, PositionError, advance_point, sanitize, utf8_len

__all__ = ["MAX_PARSE_BYTES", "SyntaxDocument", "TextChange", "TreeEdit", "tree_edit"]

MAX_PARSE_BYTES = 2_000_000
"""Documents larger than this (in UTF-8 bytes) are kept as text only, without a tree."""

Position = tuple[int, int]


@dataclass(frozen=True)
class TextChange:
    """An LSP content change.

    ``range`` is ``((start_line, start_char), (end_line, end_char))`` in UTF-16 units,
    or None to replace the whole text.
    """

    range: tuple[Position, Position] | None
    text: str


@dataclass(frozen=True)
class TreeEdit:
    """A tree-sitter edit, in the units ``Tree.edit`` wants (UTF-8 bytes and points)."""

    start_byte: int
    old_end_byte: int
    new_end_byte: int
    start_point: Position
    old_end_point: Position
    new_end_point: Position


def tree_edit(lines: LineIndex, start: int, end: int, inserted: str) -> TreeEdit:
    """The tree edit replacing code points ``[start, end)`` of ``lines.text`` with *inserted*."""
    start_byte = lines.byte_offset(start)
    start_point = lines.point(start)
    return TreeEdit(
        start_byte=start_byte,
        old_end_byte=lines.byte_offset(end),
        new_end_byte=start_byte + utf8_len(inserted),
        start_point=start_point,
        old_end_point=lines.point(end),
        new_end_point=advance_point(start_point, inserted),
    )


class SyntaxDocument:
    """A text document with its LSP line index and (when parseable) a tree-sitter tree.

    There is no tree (``tree is None``) when the language is unknown or has no
    grammar, when the text contains NUL characters, or when it is larger than
    :data:`MAX_PARSE_BYTES`; the text is still kept and editable.
    """

    def __init__(
        self, uri: str, text: str, language: LanguageSpec | None, version: int = 0
    ) -> None:
        """Open *text* (sanitized) and parse it when possible."""
        self.uri = uri
        self.version = version
        self.language = language
        self._text = sanitize(text)
        self._lines = LineIndex(self._text)
        self.tree: tree_sitter.Tree | None = None
        self._reparse(None)

    @property
    def text(self) -> str:
        """The current text."""
        return self._text

    @property
    def lines(self) -> LineIndex:
        """The line index of the current text."""
        return self._lines

    # ----------------------------------------------------------------- parsing
    def _parser(self) -> tree_sitter.Parser | None:
        if self.language is None:
            return None
        try:
            return languages.thread_parser(self.language)
        except GrammarUnavailableError:
            return None

    def _parseable(self) -> bool:
        return "\x00" not in self._text and self._lines.byte_length <= MAX_PARSE_BYTES

    def _reparse(self, old_tree: tree_sitter.Tree | None) -> None:
        parser = self._parser()
        if parser is None or not self._parseable():
            self.tree = None
            return
        source = self._text.encode("utf-8")
        self.tree = parser.parse(source) if old_tree is None else parser.parse(source, old_tree)

    # ----------------------------------------------------------------- editing
    def apply_changes(self, changes: Sequence[TextChange], version: int) -> None:
        """Apply LSP content changes in order, then re-parse once, incrementally.

        Raises :class:`PositionError` for an invalid range; the document is then left
        unchanged (text, version and tree).
        """
        text = self._text
        lines = self._lines
        edits: list[TreeEdit] = []
        full_replace = False
        for change in changes:
            inserted = sanitize(change.text)
            if change.range is None:
                text = inserted
                full_replace = True
                edits.clear()
            else:
                (sl, sc), (el, ec) = change.range
                start = lines.offset(sl, sc)
                end = lines.offset(el, ec)
                if end < start:
                    raise PositionError(f"range end ({el}, {ec}) is before its start ({sl}, {sc})")
                if not full_replace and self.tree is not None:
                    edits.append(tree_edit(lines, start, end, inserted))
                text = text[:start] + inserted + text[end:]
            lines = LineIndex(text)
        self._text = text
        self._lines = lines
        self.version = version
        # Edit a copy: a tree handed out earlier stays a consistent snapshot of its text.
        old_tree = None if full_replace or self.tree is None else self.tree.copy()
        if old_tree is not None:
            for e in edits:
                old_tree.edit(
                    e.start_byte,
                    e.old_end_byte,
                    e.new_end_byte,
                    e.start_point,
                    e.old_end_point,
                    e.new_end_point,
                )
        self._reparse(old_tree)

    # --------------------------------------------------------------- positions
    def offset_at(self, line: int, character: int) -> int:
        """Code-point offset of an LSP position (see :meth:`LineIndex.offset`)."""
        return self._lines.offset(line, character)

    def position_at(self, offset: int) -> tuple[int, int]:
        """LSP position of a code-point offset (see :meth:`LineIndex.position`)."""
        return self._lines.position(offset)

    def parses(self) -> bool | None:
        """Whether the current tree has no ERROR/MISSING node; None without a tree."""
        if self.tree is None:
            return None
        return not self.tree.root_node.has_error
