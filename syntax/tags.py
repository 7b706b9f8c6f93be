"""Tags of a syntax tree: definitions, references near a line, imports, enclosing scopes (pure).

The patterns are data: ``queries/tags/<language id>.scm``. Each pattern captures one of

* ``@definition.<kind>`` around a whole definition node with ``@name`` on its name
  (kinds: ``function``, ``method``, ``class``, ``struct``, ``enum``, ``interface``, ``type``,
  ``macro``, ``constant``);
* ``@reference.call`` / ``.member`` (a call through an object: ``x.name()``) / ``.type`` /
  ``.identifier`` on a name that is used;
* ``@import.module`` on the module a statement imports from, and ``@import.name`` on each
  name it brings in (when the statement names them).

The file is split into three queries (definitions, references, imports) so that listing
definitions does not pay for matching every identifier.  Lines are tree-sitter rows (0-based,
ending at ``\\n``); text is cut into lines the same way.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import tree_sitter

from . import languages
from .analysis import _query_source
from .document import SyntaxDocument
from .languages import GrammarUnavailableError, LanguageSpec

__all__ = [
    "Definition",
    "Import",
    "Reference",
    "definitions",
    "enclosing_definitions",
    "enclosing_scopes",
    "imported_names",
    "references_near",
    "tag_query",
]

MAX_SIGNATURE_LINES = 8
"""A signature longer than this (a long parameter list) is cut."""

_KIND_PRIORITY = {
    "method": 0,
    "class": 1,
    "struct": 1,
    "enum": 1,
    "interface": 1,
    "type": 2,
    "macro": 2,
    "function": 3,
    "constant": 4,
}
"""When several patterns capture the same node, the most specific kind (lowest) wins."""

_REFERENCE_PRIORITY = {"call": 0, "member": 1, "type": 2, "identifier": 3}

_BODY_TYPES = frozenset({
    "block", "statement_block", "class_body", "interface_body", "enum_body", "object_type",
    "field_declaration_list", "declaration_list", "enum_variant_list", "compound_statement",
    "enumerator_list", "constructor_body", "record_body", "annotation_type_body",
})
"""Node types that hold a definition's body when it has no ``body`` field."""


@dataclass(frozen=True)
class Definition:
    """A named definition in a file."""

    name: str
    kind: str
    """``function``, ``method``, ``class``, ``struct``, ``enum``, ``interface``, ``type``,
    ``macro`` or ``constant``."""
    start_line: int
    """First line (0-based) of the definition node."""
    end_line: int
    """Last line (0-based, inclusive)."""
    signature_text: str
    """The whole lines from the start up to where the body begins (at most
    :data:`MAX_SIGNATURE_LINES`), e.g. ``def f(x: int) -> str:`` or ``class A(B) {``."""


@dataclass(frozen=True)
class Reference:
    """A name used in the code."""

    name: str
    kind: str
    """``call``, ``member`` (called through an object, ``x.name()``), ``type`` or
    ``identifier``."""
    line: int
    """Line (0-based) of its use nearest to the line asked about."""


@dataclass(frozen=True)
class Import:
    """What an import statement brings in."""

    module: str
    """The module / path / package as written (quotes removed), e.g. ``kodama.model.types``,
    ``./util``, ``crate::index``, ``foo.h``."""
    name: str | None = None
    """A name imported from it (``from m import name``), or None for the whole module."""


# ------------------------------------------------------------------ queries
def _split_patterns(source: str) -> list[str]:
    """Top-level patterns of a query source (comments dropped)."""
    patterns: list[str] = []
    depth = 0
    current: list[str] = []
    i = 0
    in_string = False
    while i < len(source):
        ch = source[i]
        if in_string:
            current.append(ch)
            if ch == "\\" and i + 1 < len(source):
                current.append(source[i + 1])
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == ";":
            while i < len(source) and source[i] != "\n":
                i += 1
            continue
        elif ch == '"':
            in_string = True
            current.append(ch)
        elif ch in "([":
            depth += 1
            current.append(ch)
        elif ch in ")]":
            depth -= 1
            current.append(ch)
        elif ch == "\n" and depth == 0:
            pattern = "".join(current).strip()
            if pattern:
                patterns.append(pattern)
            current = []
        else:
            current.append(ch)
        i += 1
    pattern = "".join(current).strip()
    if pattern:
        patterns.append(pattern)
    return patterns


@functools.cache
def _section_sources(language_id: str) -> dict[str, str]:
    source = _query_source("tags", language_id)
    sections: dict[str, list[str]] = {"definition": [], "reference": [], "import": []}
    for pattern in _split_patterns(source or ""):
        for section, items in sections.items():
            if f"@{section}." in pattern:
                items.append(pattern)
                break
    return {section: "\n".join(items) for section, items in sections.items() if items}


def tag_query(language_id: str, section: str) -> tree_sitter.Query | None:
    """The compiled ``definition``, ``reference`` or ``import`` part of the tags query.

    None when the language is unknown, has no grammar or no such patterns.
    """
    spec = languages.get(language_id)
    source = _section_sources(language_id).get(section)
    if spec is None or not source:
        return None
    try:
        return spec.query(source)
    except GrammarUnavailableError:
        return None


# ---------------------------------------------------------------- helpers
def _node_text(node: tree_sitter.Node) -> str:
    raw = node.text
    return raw.decode("utf-8", "replace") if raw is not None else ""


def _body_of(node: tree_sitter.Node) -> tree_sitter.Node | None:
    """The body of a definition node: its ``body`` field, or a body-like node below it."""
    body = node.child_by_field_name("body")
    if body is not None:
        return body
    frontier = list(node.named_children)
    for _ in range(3):
        following: list[tree_sitter.Node] = []
        for child in frontier:
            if child.type in _BODY_TYPES:
                return child
            inner = child.child_by_field_name("body")
            if inner is not None:
                return inner
            following.extend(child.named_children)
        frontier = following
    return None


def _signature(node: tree_sitter.Node, src: bytes) -> str:
    """The whole lines of ``node`` from its start up to where its body begins."""
    start_row = node.start_point[0]
    body = _body_of(node)
    if body is None:
        end_row = node.end_point[0]
    else:
        row, column = body.start_point
        if row <= start_row:
            end_row = start_row
        else:
            # A body opening mid-line ("{" after the header) belongs to the signature's last
            # line; a body on a line of its own (a Python block, a brace on the next line)
            # does not.
            head = src[body.start_byte - column : body.start_byte]
            end_row = row if head.strip() else row - 1
    end_row = max(start_row, min(end_row, start_row + MAX_SIGNATURE_LINES - 1))
    begin = node.start_byte - node.start_point[1]
    end = begin - 1
    for _ in range(end_row - start_row + 1):
        end = src.find(b"\n", end + 1)
        if end == -1:
            end = len(src)
            break
    text = src[begin:end].decode("utf-8", "replace")
    return "\n".join(line.rstrip("\r") for line in text.split("\n"))


# ------------------------------------------------------------- extraction
def definitions(spec: LanguageSpec, tree: tree_sitter.Tree, text: str) -> list[Definition]:
    """Every definition in ``tree`` (parsed from ``text``), in order of position."""
    return _definitions(spec, tree, text, None)


def _definitions(
    spec: LanguageSpec, tree: tree_sitter.Tree, text: str, line: int | None
) -> list[Definition]:
    """Definitions of the whole tree, or those intersecting ``line`` only."""
    query = tag_query(spec.id, "definition")
    if query is None:
        return []
    src = text.encode("utf-8", "surrogatepass")
    root = tree.root_node
    if line is None:
        found_matches = languages.matches(query, root)
    else:
        found_matches = languages.matches(
            query, root, _byte_of_row(root, text, line), _byte_of_row(root, text, line + 1)
        )
    found: dict[tuple[int, int], Definition] = {}
    for _, caps in found_matches:
        names = caps.get("name")
        if not names:
            continue
        for capture, nodes in caps.items():
            if not capture.startswith("definition."):
                continue
            kind = capture.removeprefix("definition.")
            for node in nodes:
                key = (node.start_byte, node.end_byte)
                old = found.get(key)
                if old is not None and _KIND_PRIORITY.get(old.kind, 9) <= _KIND_PRIORITY.get(
                    kind, 9
                ):
                    continue
                found[key] = Definition(
                    name=_node_text(names[0]),
                    kind=kind,
                    start_line=node.start_point[0],
                    end_line=node.end_point[0],
                    signature_text=_signature(node, src),
                )
    return [found[k] for k in sorted(found)]


def references_near(
    spec: LanguageSpec, tree: tree_sitter.Tree, text: str, line: int, radius: int = 30
) -> list[Reference]:
    """Names used within ``radius`` lines of ``line``, each once.

    Ordered by kind (calls, member calls, type names, other identifiers), then by distance
    from ``line``.
    """
    query = tag_query(spec.id, "reference")
    if query is None:
        return []
    first = max(0, line - radius)
    last = line + radius + 1
    root = tree.root_node
    start_byte = _byte_of_row(root, text, first)
    end_byte = _byte_of_row(root, text, last)
    best: dict[str, Reference] = {}
    for _, caps in languages.matches(query, root, start_byte, end_byte):
        for capture, nodes in caps.items():
            if not capture.startswith("reference."):
                continue
            kind = capture.removeprefix("reference.")
            for node in nodes:
                row = node.start_point[0]
                if not first <= row < last:
                    continue
                name = _node_text(node)
                if not name:
                    continue
                ref = Reference(name, kind, row)
                old = best.get(name)
                if old is None or _ref_key(ref, line) < _ref_key(old, line):
                    best[name] = ref
    return sorted(best.values(), key=lambda r: _ref_key(r, line))


def _ref_key(ref: Reference, line: int) -> tuple[int, int, str]:
    return (_REFERENCE_PRIORITY.get(ref.kind, 9), abs(ref.line - line), ref.name)


def _byte_of_row(root: tree_sitter.Node, text: str, row: int) -> int:
    """UTF-8 byte offset where tree-sitter row ``row`` starts (end of text past the last)."""
    if row <= 0:
        return 0
    pos = -1
    for _ in range(row):
        pos = text.find("\n", pos + 1)
        if pos == -1:
            return root.end_byte
    return len(text[: pos + 1].encode("utf-8", "surrogatepass"))


def _unquote(module: str) -> str:
    module = module.strip()
    if len(module) >= 2 and module[0] in "\"'`<" and module[-1] in "\"'`>":
        return module[1:-1]
    return module


def imported_names(spec: LanguageSpec, tree: tree_sitter.Tree, text: str) -> list[Import]:
    """What the file imports, in order of appearance, each (module, name) once."""
    query = tag_query(spec.id, "import")
    if query is None:
        return []
    seen: dict[tuple[str, str | None], tuple[int, Import]] = {}
    for _, caps in languages.matches(query, tree.root_node):
        modules = caps.get("import.module", [])
        if not modules:
            continue
        module = _unquote(_node_text(modules[0]))
        names = caps.get("import.name", [])
        items = [(n.start_byte, Import(module, _node_text(n))) for n in names] or [
            (modules[0].start_byte, Import(module))
        ]
        for position, item in items:
            key = (item.module, item.name)
            if key not in seen or position < seen[key][0]:
                seen[key] = (position, item)
    # A module imported by name only also appears as (module, None) from the bare pattern.
    named_modules = {m for (m, n) in seen if n is not None}
    ordered = sorted(seen.values(), key=lambda p: p[0])
    return [imp for _, imp in ordered if imp.name is not None or imp.module not in named_modules]


def enclosing_definitions(
    spec: LanguageSpec, tree: tree_sitter.Tree, text: str, line: int
) -> list[Definition]:
    """Definitions (other than constants) whose lines contain ``line``, outermost first."""
    holding = [
        d for d in _definitions(spec, tree, text, line)
        if d.start_line <= line <= d.end_line and d.kind != "constant"
    ]
    return sorted(holding, key=lambda d: (d.start_line, -d.end_line))


def enclosing_scopes(doc: SyntaxDocument, offset: int) -> list[str]:
    """Signatures of the definitions around code-point ``offset`` of ``doc``, outermost first.

    Empty without a tree or tags query for the document's language.
    """
    if doc.tree is None or doc.language is None:
        return []
    offset = min(max(offset, 0), len(doc.text))
    line = doc.text.count("\n", 0, offset)
    return [
        d.signature_text for d in enclosing_definitions(doc.language, doc.tree, doc.text, line)
    ]
