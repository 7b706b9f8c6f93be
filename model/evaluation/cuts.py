"""Where holes can be cut in one source file, found with tree-sitter.

* single-line cut: a code line (not blank, not a comment, not inside a string or docstring)
  cut at a token boundary (the start of a leaf node after the line's first token, not inside a
  string or comment) up to the end of the line; the part cut off must contain a letter or digit;
* multi-line cut: the whole body (2–8 lines) of a block (function, loop, ``if`` … body); the
  document keeps its header and an empty, indented first body line with the cursor, exactly the
  position :func:`kodama.syntax.analysis.completion_mode` calls ``multi``.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field

import tree_sitter

from kodama.model.evaluation.files import SourceFile
from kodama.syntax import languages
from kodama.syntax.analysis import completion_mode, load_query
from kodama.syntax.document import SyntaxDocument
from kodama.syntax.languages import LanguageSpec

MULTI_MIN_LINES = 2
"""Fewest non-blank lines in a multi-line hole."""
MULTI_MAX_LINES = 8
"""Most lines (blank ones included) in a multi-line hole."""
MAX_HOLE_LINE_CHARS = 200
"""Lines longer than this are not used as single-line holes."""


@dataclass(frozen=True)
class Cut:
    """A hole position: the original text from ``start`` to ``end`` is cut out."""

    line: int
    """0-based line of the cursor."""
    start: int
    """Cursor offset (code points) in the original text."""
    end: int
    """End of the middle (code points) in the original text."""


@dataclass
class FileCandidates:
    """Where holes can be cut in one file."""

    source: SourceFile
    single: list[list[Cut]] = field(default_factory=list)
    """Per eligible line, its possible cuts (left to right)."""
    multi: list[Cut] = field(default_factory=list)
    parses: bool = True


def _literals(spec: LanguageSpec, tree: tree_sitter.Tree, doc: SyntaxDocument) -> _Literals:
    query = load_query("literals", spec.id)
    if query is None:
        return _Literals(doc.text, [])
    captured = languages.captures(query, tree.root_node)
    ranges = [(doc.lines.offset_of_byte(n.start_byte), doc.lines.offset_of_byte(n.end_byte))
              for nodes in captured.values() for n in nodes]
    ranges.sort()
    return _Literals(doc.text, ranges)


class _Literals:
    """Which code points lie in a string or comment (masks: constant-time lookups)."""

    def __init__(self, text: str, ranges: Sequence[tuple[int, int]]) -> None:
        self.ranges = ranges
        self.starts = [start for start, _ in ranges]
        self.covered = bytearray(len(text) + 1)
        """1 where ``start <= pos < end`` of some literal."""
        self.strict = bytearray(len(text) + 1)
        """1 where ``start < pos < end`` of some literal."""
        for start, end in ranges:
            self.covered[start:end] = b"\x01" * (end - start)
            if end - start > 1:
                self.strict[start + 1: end] = b"\x01" * (end - start - 1)

    def inside(self, pos: int, *, strict: bool) -> bool:
        """Whether ``pos`` is in a literal (strictly: not at its first character)."""
        return bool((self.strict if strict else self.covered)[pos])


def _leaf_starts(node: tree_sitter.Node, out: list[int]) -> None:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.child_count == 0:
            if current.end_byte > current.start_byte:
                out.append(current.start_byte)
        else:
            stack.extend(current.children)


def _has_word(text: str) -> bool:
    return any(ch.isalnum() or ch == "_" for ch in text)


def _comment_line(spec: LanguageSpec, stripped: str) -> bool:
    """A line that starts a comment (lines inside block comments are literals already)."""
    return stripped.startswith((spec.line_comment, "/*"))


def _trailing_comment(spec: LanguageSpec, text: str, literals: _Literals,
                      first: int, end: int) -> bool:
    """Whether the code line ``text[first:end]`` ends with a comment (after some code)."""
    index = bisect.bisect_right(literals.starts, end - 1) - 1
    while index >= 0:
        start, stop = literals.ranges[index]
        if start <= first:
            return False
        if stop >= end and text.startswith((spec.line_comment, "/*"), start):
            return True
        index -= 1
    return False


def _single_cuts(source: SourceFile, doc: SyntaxDocument, spec: LanguageSpec,
                 tree: tree_sitter.Tree, literals: _Literals) -> list[list[Cut]]:
    lines = doc.lines
    starts: list[int] = []
    _leaf_starts(tree.root_node, starts)
    by_line: dict[int, list[int]] = {}
    for byte in starts:
        offset = lines.offset_of_byte(byte)
        by_line.setdefault(lines.line_of(offset), []).append(offset)
    result: list[list[Cut]] = []
    for line in sorted(by_line):
        text = lines.line_text(line)
        stripped = text.strip()
        if not stripped or len(text) > MAX_HOLE_LINE_CHARS or _comment_line(spec, stripped):
            continue
        begin = lines.line_start(line)
        first = begin + len(text) - len(text.lstrip())
        end = begin + len(text.rstrip())
        if literals.inside(first, strict=False):
            continue  # a docstring / comment / string continuation line
        if literals.covered[end - 1] and _trailing_comment(spec, source.text, literals,
                                                                    first, end):
            continue  # a trailing comment: not code the model should be asked to guess
        cuts = sorted({
            o for o in by_line[line]
            if first < o < end and not literals.inside(o, strict=True)
            and _has_word(source.text[o:end])
        })
        if cuts:
            result.append([Cut(line, o, end) for o in cuts])
    return result


def _block_body(spec: LanguageSpec, doc: SyntaxDocument,
                node: tree_sitter.Node) -> tuple[int, int] | None:
    """First and last line of a block's body, when the body stands on lines of its own."""
    lines = doc.lines
    if spec.id == "python":
        first = node.start_point[0]
        last = node.end_point[0] if node.end_point[1] > 0 else node.end_point[0] - 1
        head = lines.line_text(first)[: len(lines.line_text(first)) - len(
            lines.line_text(first).lstrip())]
        start_col = lines.offset_of_byte(node.start_byte) - lines.line_start(first)
        if start_col != len(head) or first == 0:
            return None
        return first, last
    opens = [c for c in node.children if c.type == "{"]
    closes = [c for c in node.children if c.type == "}"]
    if not opens or not closes:
        return None
    open_node, close_node = opens[0], closes[-1]
    open_line, close_line = open_node.start_point[0], close_node.start_point[0]
    open_end = lines.offset_of_byte(open_node.end_byte)
    if doc.text[open_end: lines.line_end(open_line)].strip():
        return None  # code after "{" on its line
    close_at = lines.offset_of_byte(close_node.start_byte)
    if doc.text[lines.line_start(close_line): close_at].strip():
        return None  # code before "}" on its line
    first, last = open_line + 1, close_line - 1
    while first <= last and not lines.line_text(first).strip():
        first += 1
    while last >= first and not lines.line_text(last).strip():
        last -= 1
    return (first, last) if first <= last else None


def _multi_cuts(source: SourceFile, doc: SyntaxDocument, spec: LanguageSpec,
                tree: tree_sitter.Tree, literals: _Literals,
                max_lines: int = MULTI_MAX_LINES) -> list[Cut]:
    query = load_query("blocks", spec.id)
    if query is None:
        return []
    lines = doc.lines
    cuts: dict[int, Cut] = {}
    for node in languages.captures(query, tree.root_node).get("block", []):
        body = _block_body(spec, doc, node)
        if body is None:
            continue
        first, last = body
        code_lines = sum(1 for i in range(first, last + 1) if lines.line_text(i).strip())
        if code_lines < MULTI_MIN_LINES or last - first + 1 > max_lines:
            continue
        text = lines.line_text(first)
        if _comment_line(spec, text.strip()):
            continue
        start = lines.line_start(first) + len(text) - len(text.lstrip())
        end = lines.line_end(last)
        if literals.inside(start, strict=True) or any(
            len(lines.line_text(i)) > MAX_HOLE_LINE_CHARS for i in range(first, last + 1)
        ):
            continue
        holed = SyntaxDocument("eval:hole", source.text[:start] + source.text[end:], spec)
        if completion_mode(holed, start) != "multi":
            continue
        cuts.setdefault(start, Cut(first, start, end))
    return [cuts[k] for k in sorted(cuts)]


def find_candidates(source: SourceFile, *, multi: bool = True,
                    max_block_lines: int = MULTI_MAX_LINES) -> FileCandidates:
    """Every single-line and (with ``multi``) multi-line hole position of ``source``, in a
    deterministic order. Multi-line positions cost a parse each: skip them when only looking
    for eligible files. Block bodies are at most ``max_block_lines`` lines (fine-tuning asks
    for longer ones than the evaluation)."""
    spec = languages.get(source.language)
    found = FileCandidates(source)
    if spec is None:
        return found
    doc = SyntaxDocument("eval:" + source.path, source.text, spec)
    tree = doc.tree
    if tree is None:
        return found
    found.parses = not tree.root_node.has_error
    literals = _literals(spec, tree, doc)
    found.single = _single_cuts(source, doc, spec, tree, literals)
    if multi:
        found.multi = _multi_cuts(source, doc, spec, tree, literals, max_block_lines)
    return found

