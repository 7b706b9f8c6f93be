"""Repository context for a completion: the snippets from other files that help most.

``RepositoryContext(index).snippets(path, text, offset)`` returns, most relevant first:

1. ``definition`` — definitions found in OTHER files of the symbols used within ``radius`` lines
   of the cursor and of the names the file imports (signature and a short body; a class as an
   outline of its members), several from one file merged into one snippet;
2. ``retrieved`` — BM25 search of the index with the code around the cursor;
3. ``recent`` — the region last edited in other open documents.

The current file is never a snippet (it is in the prompt already). Each snippet is at most
``max_lines`` lines and there are at most ``max_snippets``; prompt building then keeps what its
token budget holds.

Stability: the engine reuses the KV cache of the unchanged start of the prompt, and snippets
come first in it, so while the user types in one place the same snippets come back. Results
are cached per file and recomputed only when the cursor moves to another definition (or far
away), another file changes in the index, or the other open documents change.

Pure: no torch, no pygls.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import tree_sitter

from kodama.model.context.bm25 import STOPWORDS, tokenize
from kodama.model.context.index import WorkspaceIndex
from kodama.model.types import Snippet
from kodama.syntax import languages, tags
from kodama.syntax.languages import GrammarUnavailableError, LanguageSpec
from kodama.syntax.tags import Definition

__all__ = ["OpenDocument", "RepositoryContext"]

_CONTAINER_KINDS = frozenset({"class", "struct", "interface", "enum"})
_KIND_RANK = {"class": 0, "struct": 0, "interface": 0, "enum": 0, "type": 1, "function": 1,
              "macro": 2, "method": 2, "constant": 3}
_REF_SCORE = {"call": 3.0, "member": 2.8, "type": 2.5, "identifier": 2.0}


@dataclass(frozen=True)
class OpenDocument:
    """Another document open in the editor."""

    path: str
    """Repository-relative path."""
    text: str
    edited_line: int | None = None
    """Line (0-based) of its latest edit; None if it was not edited since it was opened."""
    edited_at: float = 0.0
    """When it was last edited (any monotonic clock); newer first."""


@dataclass(frozen=True)
class _Piece:
    path: str
    start: int
    end: int
    """Exclusive."""
    lines: tuple[str, ...]
    score: float
    kind: str


@dataclass
class _Cached:
    line: int
    scope: tuple[str, int] | None
    generation: int
    others: tuple[tuple[str, int | None], ...]
    snippets: tuple[Snippet, ...]


class RepositoryContext:
    """Snippets from the repository for a cursor position (see the module docstring)."""

    def __init__(
        self,
        index: WorkspaceIndex,
        *,
        max_snippets: int = 8,
        max_lines: int = 30,
        radius: int = 30,
        max_definitions: int = 6,
        max_retrieved: int = 3,
        max_recent: int = 2,
    ) -> None:
        """Context from ``index``; the limits bound how much is returned."""
        self.index = index
        self.max_snippets = max_snippets
        self.max_lines = max_lines
        self.radius = radius
        self.max_definitions = max_definitions
        self.max_retrieved = max_retrieved
        self.max_recent = max_recent
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ API
    def snippets(
        self,
        path: str,
        text: str,
        offset: int,
        open_docs: Sequence[OpenDocument] | None = None,
        *,
        tree: tree_sitter.Tree | None = None,
        language: LanguageSpec | None = None,
    ) -> tuple[Snippet, ...]:
        """Snippets for a completion at code-point ``offset`` of ``text`` (the current content
        of repository-relative ``path``), most relevant first.

        ``tree`` (the document's tree for ``text``) saves a parse; ``language`` overrides the
        detection from ``path``.
        """
        spec = language if language is not None else languages.detect(path)
        offset = min(max(offset, 0), len(text))
        line = text.count("\n", 0, offset)
        if tree is None and spec is not None:
            tree = _parse(spec, text)
        scope = self._scope(spec, tree, text, line)
        others = self._recent(path, open_docs)
        others_key = tuple((d.path, d.edited_line) for d in others)
        with self._lock:
            cached = self._cache.get(path)
            if cached is not None and self._reusable(cached, path, line, scope, others_key):
                return cached.snippets
        generation = self.index.generation
        result = self._compute(path, text, line, spec, tree, others)
        with self._lock:
            self._cache[path] = _Cached(line, scope, generation, others_key, result)
        return result

    def forget(self, path: str) -> None:
        """Drop the cached result of ``path`` (e.g. the document was closed)."""
        with self._lock:
            self._cache.pop(path, None)

    # ------------------------------------------------------------ stability
    @staticmethod
    def _scope(
        spec: LanguageSpec | None, tree: tree_sitter.Tree | None, text: str, line: int
    ) -> tuple[str, int] | None:
        """The innermost definition around ``line``: (name, number of enclosing ones)."""
        if spec is None or tree is None:
            return None
        holding = tags.enclosing_definitions(spec, tree, text, line)
        return (holding[-1].name, len(holding)) if holding else None

    def _reusable(
        self,
        cached: _Cached,
        path: str,
        line: int,
        scope: tuple[str, int] | None,
        others: tuple[tuple[str, int | None], ...],
    ) -> bool:
        if cached.others != others or self.index.changed_since(cached.generation, path):
            return False
        distance = abs(line - cached.line)
        if scope is not None and cached.scope is not None:
            return scope == cached.scope and distance <= 2 * self.radius
        # Outside any definition, or the tree is broken while typing: stay near the same line.
        return distance <= self.radius // 2

    # ------------------------------------------------------------- compute
    def _compute(
        self,
        path: str,
        text: str,
        line: int,
        spec: LanguageSpec | None,
        tree: tree_sitter.Tree | None,
        others: Sequence[OpenDocument],
    ) -> tuple[Snippet, ...]:
        pieces = self._definition_pieces(path, text, line, spec, tree)
        definitions = _merge(pieces, self.max_lines)
        taken = {(p.path, p.start, p.end) for p in pieces}
        retrieved = self._retrieved(path, text, line, taken)
        recent = self._recent_snippets(others)
        out: list[Snippet] = []
        for snippet in [*definitions, *retrieved, *recent]:
            if len(out) >= self.max_snippets:
                break
            if snippet.path != path and snippet not in out:
                out.append(snippet)
        return tuple(out)

    def _definition_pieces(
        self,
        path: str,
        text: str,
        line: int,
        spec: LanguageSpec | None,
        tree: tree_sitter.Tree | None,
    ) -> list[_Piece]:
        if spec is None or tree is None:
            return []
        local = {d.name for d in tags.definitions(spec, tree, text)}
        refs = tags.references_near(spec, tree, text, line, self.radius)
        imports = tags.imported_names(spec, tree, text)
        imported_files: set[str] = set()
        by_name: dict[str, str] = {}
        external: set[str] = set()
        for imp in imports[:40]:
            files = self.index.resolve_module(imp.module, path)
            imported_files.update(files)
            if imp.name and files:
                by_name[imp.name] = imp.module
            elif imp.name:
                external.add(imp.name)  # from a library: a namesake here is a coincidence
        imported_files.discard(path)

        candidates: dict[str, float] = {}
        members = {ref.name for ref in refs if ref.kind == "member"}
        plain = {ref.name for ref in refs if ref.kind == "identifier"}
        for ref in refs:
            score = _REF_SCORE.get(ref.kind, 1.0) - abs(ref.line - line) / (4 * self.radius)
            if ref.name in by_name:
                score += 2.0
            candidates.setdefault(ref.name, score)
        for name in by_name:
            candidates.setdefault(name, 0.5)

        chosen: list[tuple[float, str, Definition]] = []
        for name, score in sorted(candidates.items(), key=lambda item: -item[1]):
            if len(chosen) >= self.max_definitions:
                break
            if len(name) < 2 or name.lower() in STOPWORDS or name in external or (
                    name in local and name not in by_name):
                continue
            best = self._best_definition(name, path, imported_files, imported=name in by_name,
                                         member=name in members, plain=name in plain)
            if best is None:
                continue
            def_path, definition = best
            if any(p == def_path and d.start_line <= definition.start_line
                   and definition.end_line <= d.end_line for _, p, d in chosen):
                continue  # already shown inside a chosen definition
            chosen.append((score, def_path, definition))

        pieces: list[_Piece] = []
        for score, def_path, definition in chosen:
            piece = self._render_definition(def_path, definition, score)
            if piece is not None:
                pieces.append(piece)
        return pieces

    def _best_definition(
        self, name: str, path: str, imported_files: set[str], *, imported: bool, member: bool,
        plain: bool,
    ) -> tuple[str, Definition] | None:
        """The definition ``name`` most likely refers to, in another file (or None).

        A bare name that is not called never matches a method; definitions in files the
        current one imports win; elsewhere a name called through an object (``x.name()``)
        only matches methods, and a name defined in many places matches nothing unless it
        is imported.
        """
        found = [(p, d) for p, d in self.index.definitions_named(name) if p != path]
        if not found:
            return None
        if plain and not imported:
            found = [(p, d) for p, d in found if d.kind != "method"]
        in_imported = [(p, d) for p, d in found if p in imported_files]
        if in_imported:
            found = in_imported
        elif member:
            found = [(p, d) for p, d in found if d.kind == "method"]
        if not found:
            return None
        if not in_imported and len(found) > 4 and not imported:
            return None  # a common name (get, run, __init__…): no telling which one is meant
        folder = path.rsplit("/", 1)[0] if "/" in path else ""

        def rank(item: tuple[str, Definition]) -> tuple[int, int, int, str]:
            p, d = item
            same_folder = 0 if (p.rsplit("/", 1)[0] if "/" in p else "") == folder else 1
            return (_KIND_RANK.get(d.kind, 4), same_folder, p.count("/"), p)

        return min(found, key=rank)

    def _render_definition(self, path: str, definition: Definition, score: float) -> _Piece | None:
        text = self.index.text(path)
        entry = self.index.entry(path)
        if text is None or entry is None:
            return None
        lines = text.split("\n")
        start, end = definition.start_line, min(definition.end_line, len(lines) - 1)
        if start > end:
            return None
        python = entry.language == "python"
        signature_lines = definition.signature_text.count("\n") + 1
        if end - start + 1 <= min(12, self.max_lines):
            out = lines[start : end + 1]
        elif definition.kind in _CONTAINER_KINDS:
            out = _outline(lines, definition, entry.definitions, self.max_lines, python)
        else:
            keep = min(max(signature_lines + 6, 10), self.max_lines - 1)
            out = lines[start : start + keep]
            out.append(_elision(_body_indent(lines, start, signature_lines, end), python))
        out = [line.rstrip("\r") for line in out][: self.max_lines]
        return _Piece(path, start, end + 1, tuple(out), score, "definition")

    def _retrieved(
        self, path: str, text: str, line: int, taken: set[tuple[str, int, int]]
    ) -> list[Snippet]:
        if self.max_retrieved <= 0 or len(self.index) == 0:
            return []
        lines = text.split("\n")
        window = "\n".join(lines[max(0, line - 20) : line + 6])
        query = tokenize(window)
        if not query:
            return []
        hits = self.index.search(query, self.max_retrieved * 3, skip_path=path)
        if not hits:
            return []
        top = hits[0][2]
        out: list[Snippet] = []
        for hit_path, chunk, score in hits:
            if len(out) >= self.max_retrieved or score < 0.4 * top:
                break
            if any(p == hit_path and s < chunk.end_line and chunk.start_line < e
                   for p, s, e in taken):
                continue
            hit_text = self.index.text(hit_path)
            if hit_text is None:
                continue
            chunk_lines = hit_text.split("\n")[chunk.start_line : chunk.end_line]
            body = "\n".join(x.rstrip("\r") for x in chunk_lines[: self.max_lines]).strip("\n")
            if body.strip():
                out.append(Snippet(hit_path, body, "retrieved", round(score, 3)))
        return out

    def _recent(
        self, path: str, open_docs: Sequence[OpenDocument] | None
    ) -> list[OpenDocument]:
        if not open_docs or self.max_recent <= 0:
            return []
        edited = [d for d in open_docs
                  if d.path != path and d.edited_line is not None and self._allowed(d.path)]
        edited.sort(key=lambda d: -d.edited_at)
        return edited[: self.max_recent]

    def _allowed(self, path: str) -> bool:
        """Open documents outside the repository or excluded from it are never used."""
        return not path.startswith("../") and not self.index.ignorer.ignored(path)

    def _recent_snippets(self, others: Sequence[OpenDocument]) -> list[Snippet]:
        out: list[Snippet] = []
        half = min(8, self.max_lines // 2)
        for rank, doc in enumerate(others):
            lines = doc.text.split("\n")
            center = min(doc.edited_line or 0, max(0, len(lines) - 1))
            body = "\n".join(
                x.rstrip("\r") for x in lines[max(0, center - half) : center + half + 1]
            ).strip("\n")
            if body.strip():
                out.append(Snippet(doc.path, body, "recent", round(1.0 / (rank + 1), 3)))
        return out


# ---------------------------------------------------------------- helpers
def _parse(spec: LanguageSpec, text: str) -> tree_sitter.Tree | None:
    try:
        return languages.thread_parser(spec).parse(text.encode("utf-8", "surrogatepass"))
    except GrammarUnavailableError:
        return None


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _body_indent(lines: list[str], start: int, signature_lines: int, end: int) -> str:
    for row in range(start + signature_lines, end + 1):
        if row < len(lines) and lines[row].strip():
            return _indent_of(lines[row])
    return _indent_of(lines[start]) + "    "


def _elision(indent: str, python: bool) -> str:
    return f"{indent}..." if python else f"{indent}// ..."


def _outline(
    lines: list[str], container: Definition, defs: Sequence[Definition], max_lines: int,
    python: bool,
) -> list[str]:
    """A long class as its header and the signatures of its direct members."""
    start = container.start_line
    header = container.signature_text.count("\n") + 1
    out = lines[start : start + header]
    # A docstring / first statement right after the header says what the class is.
    members = [d for d in defs if container.start_line < d.start_line
               and d.end_line <= container.end_line]
    direct = [d for d in members if not any(
        o is not d and o.start_line <= d.start_line and d.end_line <= o.end_line
        and (o.start_line, o.end_line) != (d.start_line, d.end_line) for o in members)]
    first_member = direct[0].start_line if direct else container.end_line
    out += _intro(lines[start + header : first_member], python)
    for member in direct:
        sig = member.signature_text.split("\n")
        if len(out) + len(sig) + 1 > max_lines - 1:
            out.append(_elision(_indent_of(sig[0]), python))
            break
        out += sig
        if member.end_line > member.start_line + len(sig) - 1:
            body = _body_indent(lines, member.start_line, len(sig), member.end_line)
            out.append(_elision(body, python))
    if not python and container.end_line < len(lines):
        closing = lines[container.end_line]
        if closing.strip() in ("}", "};") and len(out) < max_lines:
            out.append(closing)
    return out


def _intro(lines: list[str], python: bool, limit: int = 8) -> list[str]:
    """What a long class says before its first member: fields and attributes, with a Python
    docstring shortened to its first line."""
    body = [x for x in lines if x.strip()]
    if python and body and body[0].lstrip().lstrip("rRbBuU").startswith(('"""', "'''")):
        first = body[0].strip()
        quote = first.lstrip("rRbBuU")[:3]
        closes = [i for i, x in enumerate(body) if quote in (x.strip()[3:] if i == 0 else x)]
        end = closes[0] if closes else len(body) - 1
        summary = body[0] if end == 0 else f"{body[0].rstrip()} {quote}" if len(first) > 3 \
            else f"{body[0].rstrip()}{body[1].strip()} {quote}" if len(body) > 1 else body[0]
        body = [summary, *body[end + 1 :]]
    return body[:limit]


def _merge(pieces: Sequence[_Piece], max_lines: int) -> list[Snippet]:
    """One snippet per file: its pieces in line order, elided between, best file first."""
    by_path: dict[str, list[_Piece]] = {}
    for piece in pieces:
        by_path.setdefault(piece.path, []).append(piece)
    snippets: list[Snippet] = []
    for path, items in by_path.items():
        python = path.endswith((".py", ".pyi"))
        items.sort(key=lambda p: p.start)
        out: list[str] = []
        score = 0.0
        last_end = -1
        for piece in items:
            if out and len(out) + len(piece.lines) + 1 > max_lines:
                continue
            if out and piece.start > last_end:
                out.append(_elision(_indent_of(piece.lines[0]) if piece.lines else "", python))
            out += piece.lines
            last_end = piece.end
            score = max(score, piece.score)
        snippets.append(Snippet(path, "\n".join(out), "definition", round(score, 3)))
    snippets.sort(key=lambda s: -s.score)
    return snippets
