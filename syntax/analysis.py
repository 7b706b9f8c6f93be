"""Syntax analysis helpers: error counting and completion-mode detection (pure).

Tree-sitter queries are data: ``queries/<purpose>/<language id>.scm`` next to this
module, loaded by :func:`load_query`.  Purposes used here:

* ``blocks`` — ``@block`` captures block/body nodes, ``@opener`` captures the tokens
  (``{``, Python's ``:`` …) that open a body when they end a line;
* ``literals`` — ``@string`` and ``@comment`` nodes.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Literal

import tree_sitter

from . import languages
from .document import SyntaxDocument
from .languages import GrammarUnavailableError
from .positions import LineIndex, sanitize

__all__ = [
    "Mode",
    "completion_mode",
    "count_errors",
    "count_tree_errors",
    "load_query",
    "parses",
]

Mode = Literal["single", "multi"]
"""Completion mode: one line, or a whole block body."""

_TEXT_OPENERS = (":", "{", "(", "[")
_CLOSERS = ("}", ")", "]")
_INDENT_BLOCK_LANGUAGES = frozenset({"python"})
"""Languages whose block nodes end at their last statement, not at a closing token."""


def _parser(language: str) -> tree_sitter.Parser | None:
    """This thread's parser for *language*, or None (unknown language / no grammar)."""
    spec = languages.get(language)
    if spec is None:
        return None
    try:
        return languages.thread_parser(spec)
    except GrammarUnavailableError:
        return None


MISSING_TERMINATORS = frozenset({";"})
"""MISSING nodes that only say a statement is not ended yet (the user may still type them)."""


def tree_error_rows(tree: tree_sitter.Tree) -> list[tuple[int, int, bool]]:
    """(first row, last row, is a MISSING terminator) of every ERROR and MISSING node in
    *tree*, rows counted at ``\n`` (subtrees without errors are skipped). Only a MISSING
    :data:`MISSING_TERMINATORS` node gets True: a MISSING name or bracket (``import ()``) is a
    real hole in the code."""
    rows: list[tuple[int, int, bool]] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            terminator = node.is_missing and node.type in MISSING_TERMINATORS
            rows.append((node.start_point[0], node.end_point[0], terminator))
        if node.has_error:
            stack.extend(node.children)
    return rows


def count_tree_errors(tree: tree_sitter.Tree) -> int:
    """Number of ERROR and MISSING nodes in *tree*."""
    return len(tree_error_rows(tree))


def error_rows(language: str, text: str) -> list[tuple[int, int, bool]] | None:
    """Fresh parse; the rows of every ERROR + MISSING node (see :func:`tree_error_rows`).

    None when the language is unknown or has no grammar.
    """
    parser = _parser(language)
    if parser is None:
        return None
    return tree_error_rows(parser.parse(sanitize(text).encode("utf-8")))


def count_errors(language: str, text: str) -> int | None:
    """Fresh parse; number of ERROR + MISSING nodes.

    None when the language is unknown or has no grammar.
    """
    rows = error_rows(language, text)
    return None if rows is None else len(rows)


def parses(language: str, text: str) -> bool | None:
    """Whether *text* parses without any ERROR/MISSING node; None as for :func:`count_errors`."""
    errors = count_errors(language, text)
    return None if errors is None else errors == 0


# ---------------------------------------------------------------------- queries
QUERY_FALLBACK = {"tsx": "typescript", "typescript": "javascript"}
"""Languages whose grammar extends another's: without a file of their own they use its queries,
following the chain (TSX is TypeScript plus JSX, TypeScript is JavaScript plus types; where a
query needs nodes of its own language, the language has its own file)."""


@functools.cache
def _query_source(purpose: str, language_id: str) -> str | None:
    folder = resources.files(__package__).joinpath("queries", purpose)
    name: str | None = language_id
    while name is not None:
        try:
            return folder.joinpath(f"{name}.scm").read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            name = QUERY_FALLBACK.get(name)
    return None


def load_query(purpose: str, language_id: str) -> tree_sitter.Query | None:
    """The compiled query ``queries/<purpose>/<language_id>.scm`` (source and query cached).

    None when the language is unknown, has no grammar, or has no such query file.
    """
    spec = languages.get(language_id)
    source = _query_source(purpose, language_id)
    if spec is None or source is None:
        return None
    try:
        return spec.query(source)
    except GrammarUnavailableError:
        return None


# -------------------------------------------------------------- completion mode
def _indent(line_text: str) -> int:
    return len(line_text) - len(line_text.lstrip(" \t"))


def _nonblank_line(lines: LineIndex, line: int, step: int) -> int | None:
    """The nearest line after (*step* = 1) or before (-1) *line* that is not blank."""
    line += step
    while 0 <= line < lines.line_count:
        if lines.line_text(line).strip():
            return line
        line += step
    return None


def completion_mode(doc: SyntaxDocument, offset: int) -> Mode:
    """Whether a completion at code-point *offset* should be one line or a whole body.

    "multi" needs a blank cursor line (only whitespace before and after the cursor)
    and either the start of a block body (the previous non-blank line ends with a
    token opening one, or the cursor sits in an empty block) or the end of a block
    (the next non-blank line is dedented or closes the block, or there is none).
    Everything else — mid-line, end of a non-empty line, inside a string or
    comment — is "single".  Documents without a tree or without queries use a
    text-only heuristic.
    """
    lines = doc.lines
    text = doc.text
    offset = min(max(offset, 0), len(text))
    line = lines.line_of(offset)
    start = lines.line_start(line)
    end = lines.line_end(line)
    offset = min(offset, end)
    before, after = text[start:offset], text[offset:end]
    if before.strip() or after.strip():
        return "single"
    prev = _nonblank_line(lines, line, -1)
    if prev is None:
        return "single"
    nxt = _nonblank_line(lines, line, 1)
    indent = len(before)
    closes = nxt is None or _closes(lines.line_text(nxt), indent)

    tree = doc.tree
    spec = doc.language
    blocks = load_query("blocks", spec.id) if spec is not None else None
    if tree is None or spec is None or blocks is None:
        return _text_mode(lines, prev, indent, closes)
    return _tree_mode(doc, tree, blocks, offset, prev, closes)


def _closes(next_text: str, indent: int) -> bool:
    return _indent(next_text) < indent or next_text.lstrip().startswith(_CLOSERS)


def _text_mode(lines: LineIndex, prev: int, indent: int, closes: bool) -> Mode:
    prev_text = lines.line_text(prev).rstrip()
    if prev_text.endswith(_TEXT_OPENERS):
        return "multi"
    if indent > 0 and indent <= _indent(prev_text) and closes:
        return "multi"
    return "single"


def _tree_mode(
    doc: SyntaxDocument,
    tree: tree_sitter.Tree,
    blocks: tree_sitter.Query,
    offset: int,
    prev: int,
    closes: bool,
) -> Mode:
    assert doc.language is not None
    lines = doc.lines
    root = tree.root_node
    cursor = lines.byte_offset(offset)
    literals = load_query("literals", doc.language.id)

    # Inside a (multi-line) string or comment.
    literal_nodes: dict[str, list[tree_sitter.Node]] = {}
    if literals is not None:
        literal_nodes = languages.captures(
            literals, root, lines.byte_offset(lines.line_start(prev)), cursor + 1
        )
        for nodes in literal_nodes.values():
            if any(n.start_byte < cursor < n.end_byte for n in nodes):
                return "single"

    # Start of a body: the previous non-blank line ends with an opener token.
    prev_start = lines.byte_offset(lines.line_start(prev))
    prev_end = lines.byte_offset(lines.line_start(prev) + len(lines.line_text(prev).rstrip()))
    comments = literal_nodes.get("comment", [])
    moved = True
    while moved:  # skip trailing comments
        moved = False
        for c in comments:
            if prev_start <= c.start_byte < prev_end <= c.end_byte:
                head = lines.offset_of_byte(c.start_byte)
                prev_end = lines.byte_offset(head - _trailing_ws(doc.text, head))
                moved = True
    captured = languages.captures(blocks, root, prev_start, max(cursor, prev_start) + 1)
    if any(o.end_byte == prev_end for o in captured.get("opener", [])):
        return "multi"

    # Inside a block body (innermost block holding the cursor).
    indent_blocks = doc.language.id in _INDENT_BLOCK_LANGUAGES
    cursor_col = cursor - lines.byte_offset(lines.line_start(lines.line_of(offset)))
    holding = [
        b
        for b in captured.get("block", [])
        if b.start_byte < cursor
        and (
            cursor < b.end_byte
            or (indent_blocks and b.end_byte >= prev_start and b.start_point[1] == cursor_col)
        )
    ]
    if not holding:
        return "single"
    block = max(holding, key=lambda b: (b.start_byte, -b.end_byte))
    inner = root.named_descendant_for_byte_range(cursor, cursor)
    if (
        inner is not None
        and inner != block
        and block.start_byte <= inner.start_byte
        and inner.end_byte <= block.end_byte
    ):
        return "single"  # e.g. inside an argument list or literal within the block
    if cursor < block.end_byte and all("comment" in c.type for c in block.named_children):
        return "multi"  # empty / new block
    return "multi" if closes else "single"


def _trailing_ws(text: str, end: int) -> int:
    """Number of spaces/tabs just before code-point *end* (a small, line-local scan)."""
    count = 0
    while end - count > 0 and text[end - count - 1] in " \t":
        count += 1
    return count
