"""One file's entry in the workspace index: definitions, imports and BM25 chunks of its text.

Definitions come from ``kodama.syntax.tags``; chunks are windows of
:data:`CHUNK_MIN_LINES`–:data:`CHUNK_MAX_LINES` lines split at definitions, each with its BM25
term counts. Pure: no torch, no pygls.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import tree_sitter

from kodama.model.context.bm25 import tokenize
from kodama.syntax import languages, tags
from kodama.syntax.languages import GrammarUnavailableError, LanguageSpec
from kodama.syntax.tags import Definition, Import

CHUNK_MIN_LINES = 12
"""Fewest lines of a chunk (but the last of a file)."""
CHUNK_MAX_LINES = 25
"""Most lines of a chunk."""
MAX_LINE_CHARS = 2000
"""A line longer than this marks a minified or generated file (not indexed)."""


@dataclass(frozen=True)
class Chunk:
    """A window of lines of a file, with its BM25 term counts."""

    start_line: int
    end_line: int
    """Exclusive."""
    terms: dict[str, int] = field(compare=False, repr=False)


@dataclass(frozen=True)
class FileEntry:
    """What the index knows about one file."""

    path: str
    """Repository-relative, ``/`` separators."""
    digest: str
    """SHA-1 of the UTF-8 content."""
    size: int
    mtime_ns: int
    language: str | None
    definitions: tuple[Definition, ...]
    imports: tuple[Import, ...]
    chunks: tuple[Chunk, ...]


def digest_of(data: bytes) -> str:
    """Content hash used to invalidate cached entries."""
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def chunk_ranges(
    line_count: int,
    boundaries: Iterable[int],
    blank: Iterable[int] = (),
    min_lines: int = CHUNK_MIN_LINES,
    max_lines: int = CHUNK_MAX_LINES,
) -> list[tuple[int, int]]:
    """Split ``line_count`` lines into windows of ``min_lines``..``max_lines`` lines.

    A window ends before the first ``boundaries`` line (a definition's start) past its minimum
    size, else after the last ``blank`` line in reach, else at the maximum size.
    """
    strong = sorted(set(boundaries))
    weak = sorted(set(blank))
    ranges: list[tuple[int, int]] = []
    start = 0
    while start < line_count:
        if line_count - start <= max_lines:
            ranges.append((start, line_count))
            break
        low, high = start + min_lines, start + max_lines
        end = next((b for b in strong if low <= b <= high), None)
        if end is None:
            blanks = [b + 1 for b in weak if low <= b + 1 <= high]
            end = blanks[-1] if blanks else high
        ranges.append((start, end))
        start = end
    return ranges


def analyze(
    path: str,
    text: str,
    spec: LanguageSpec | None,
    *,
    tree: tree_sitter.Tree | None = None,
    digest: str | None = None,
    size: int | None = None,
    mtime_ns: int = 0,
) -> FileEntry:
    """Index one file's text: definitions and imports (with a grammar), BM25 chunks."""
    data = text.encode("utf-8", "surrogatepass")
    if tree is None and spec is not None:
        try:
            tree = languages.thread_parser(spec).parse(data)
        except GrammarUnavailableError:
            tree = None
    defs: list[Definition] = []
    imports: list[Import] = []
    boundaries: set[int] = set()
    if tree is not None and spec is not None:
        defs = tags.definitions(spec, tree, text)
        imports = tags.imported_names(spec, tree, text)
        boundaries = {d.start_line for d in defs}
        boundaries.update(child.start_point[0] for child in tree.root_node.named_children)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    blank = [i for i, line in enumerate(lines) if not line.strip()]
    chunks: list[Chunk] = []
    for start, end in chunk_ranges(len(lines), boundaries, blank):
        terms = Counter(tokenize("\n".join(lines[start:end])))
        if terms:
            chunks.append(Chunk(start, end, dict(terms)))
    return FileEntry(
        path=path,
        digest=digest or digest_of(data),
        size=len(data) if size is None else size,
        mtime_ns=mtime_ns,
        language=spec.id if spec is not None else None,
        definitions=tuple(defs),
        imports=tuple(imports),
        chunks=tuple(chunks),
    )


def visible_definitions(definitions: Iterable[Definition]) -> list[Definition]:
    """Definitions other files can refer to: not those nested inside a function's body."""
    out: list[Definition] = []
    open_functions: list[int] = []  # end lines of the enclosing functions
    for d in sorted(definitions, key=lambda d: (d.start_line, -d.end_line)):
        while open_functions and open_functions[-1] < d.start_line:
            open_functions.pop()
        if not open_functions:
            out.append(d)
        if d.kind in ("function", "method") and d.end_line > d.start_line:
            open_functions.append(d.end_line)
    return out


def looks_generated(text: str) -> bool:
    """Minified or generated: very long lines."""
    if len(text) < 4096:
        return False
    longest = max((len(line) for line in text.split("\n")), default=0)
    return longest > MAX_LINE_CHARS
