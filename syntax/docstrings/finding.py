"""Finding the functions, methods and classes of a file with the ``docs`` query, and what each
one documents: parameters, returned value, raised exceptions, existing documentation.

The patterns are data: ``queries/docs/<language id>.scm`` (see the comment at the top of each
file for the captures). A file's analysis is cached for the last few texts.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import tree_sitter

from kodama.syntax import languages
from kodama.syntax.analysis import load_query
from kodama.syntax.docstrings.existing import comments_above, comments_text, python_string_value
from kodama.syntax.docstrings.styles import DOCSTRING_LANGUAGES, STYLES
from kodama.syntax.docstrings.target import Kind, Target
from kodama.syntax.languages import GrammarUnavailableError
from kodama.syntax.positions import LineIndex, sanitize
from kodama.syntax.tags import _node_text, _signature

_KINDS: dict[str, tuple[Kind, int]] = {
    "definition.method": ("method", 0),
    "definition.class": ("class", 1),
    "definition.function": ("function", 2),
}
"""Capture → (kind, priority): when several patterns capture one node, the lowest wins."""


@dataclass(frozen=True)
class _Definition:
    kind: Kind
    priority: int
    node: tree_sitter.Node
    name: tree_sitter.Node
    parameters: tree_sitter.Node | None
    body: tree_sitter.Node | None


@dataclass(frozen=True)
class FoundTarget:
    """A target with the nodes that :func:`render` needs."""

    target: Target
    node: tree_sitter.Node
    body: tree_sitter.Node | None
    top: tree_sitter.Node
    """The first node of what documentation goes above (attributes, directives included)."""
    docs: tuple[tree_sitter.Node, ...]
    """The documentation comments above, or a Python docstring's ``string`` node."""


@dataclass(frozen=True)
class ParsedFile:
    """A file as the documentation feature sees it: its text, bytes, lines and targets."""

    language: str
    text: str
    src: bytes
    lines: LineIndex
    found: tuple[FoundTarget, ...]


@dataclass(frozen=True)
class _Facts:
    """The captures of the docs query other than definitions, gathered once per file."""

    params: tuple[tree_sitter.Node, ...]
    skipped: frozenset[tree_sitter.Node]
    returns: tuple[tree_sitter.Node, ...]
    raises: tuple[tree_sitter.Node, ...]
    scopes: frozenset[tree_sitter.Node]
    """Nested functions (``@scope``) and the function node of every definition."""
    wrappers: frozenset[tree_sitter.Node]
    attributes: frozenset[tree_sitter.Node]
    comments: frozenset[tree_sitter.Node]
    docstrings: Mapping[tree_sitter.Node, tree_sitter.Node]
    """Python: docstring ``string`` by the body (block) it is the first statement of."""


def _facts(
    captured: Mapping[str, list[tree_sitter.Node]], definitions: Sequence[_Definition]
) -> _Facts:
    def nodes(name: str) -> tuple[tree_sitter.Node, ...]:
        return tuple(captured.get(name, ()))

    def in_order(name: str) -> tuple[tree_sitter.Node, ...]:
        return tuple(sorted(nodes(name), key=_start))

    return _Facts(
        params=in_order("param"),
        skipped=frozenset(nodes("param.skip")),
        returns=in_order("return"),
        raises=in_order("raise"),
        scopes=frozenset(nodes("scope")) | {_owner(d) for d in definitions},
        wrappers=frozenset(nodes("wrapper")),
        attributes=frozenset(nodes("attribute")),
        comments=frozenset(nodes("comment")),
        docstrings={
            s.parent.parent: s
            for s in nodes("docstring")
            if s.parent is not None and s.parent.parent is not None
        },
    )


def parse_for_docs(
    language: str, text: str
) -> tuple[tree_sitter.Query, bytes, tree_sitter.Node] | None:
    """(docs query, UTF-8 source, root node) of *text*; None without grammar or query."""
    spec = languages.get(language)
    query = load_query("docs", language)
    if spec is None or query is None:
        return None
    try:
        parser = languages.thread_parser(spec)
    except GrammarUnavailableError:
        return None
    src = sanitize(text).encode("utf-8")
    return query, src, parser.parse(src).root_node


@functools.lru_cache(maxsize=4)
def analyse(language: str, text: str) -> ParsedFile | None:
    """Parse *text* and find its targets; None for a language without grammar or query.

    Cached for the last few texts: an editor asks for code actions at every cursor move and
    for hovers, on the same document text (~7 ms per analysis of a 1000-line file)."""
    parsed = parse_for_docs(language, text)
    if parsed is None:
        return None
    query, src, root = parsed
    found: tuple[FoundTarget, ...] = ()
    if not _mostly_errors(root, len(src)):
        definitions, captured = _collect(query, root)
        facts = _facts(captured, definitions)
        found = tuple(_found(language, src, d, facts) for d in definitions)
    clean = sanitize(text)
    return ParsedFile(language, clean, src, LineIndex(clean), found)


def _mostly_errors(root: tree_sitter.Node, size: int) -> bool:
    """Whether top-level ERROR nodes cover more than half of the file: text that is not this
    language (a log opened as Rust), where there is nothing to document and tree-sitter's query
    over one huge flat ERROR node takes seconds (3 s for 16,000 lines) on the event loop."""
    if not root.has_error or size == 0:
        return False
    wrong = sum(c.end_byte - c.start_byte for c in root.children if c.type == "ERROR")
    return wrong * 2 > size


def _collect(
    query: tree_sitter.Query, root: tree_sitter.Node
) -> tuple[list[_Definition], dict[str, list[tree_sitter.Node]]]:
    """The definitions (in source order) and every other capture of the docs query, by name."""
    found: dict[tree_sitter.Node, _Definition] = {}
    facts: dict[str, list[tree_sitter.Node]] = {}
    for _, caps in languages.matches(query, root):
        definition = _definition(caps)
        if definition is not None:
            old = found.get(definition.node)
            if old is None or _rank(definition) < _rank(old):
                found[definition.node] = definition
            continue
        for capture, nodes in caps.items():
            facts.setdefault(capture, []).extend(nodes)
    ordered = sorted(found.values(), key=lambda d: (d.node.start_byte, -d.node.end_byte))
    return ordered, facts


def _definition(caps: Mapping[str, list[tree_sitter.Node]]) -> _Definition | None:
    for capture, (kind, priority) in _KINDS.items():
        nodes = caps.get(capture)
        names = caps.get("name")
        if nodes and names:
            return _Definition(
                kind, priority, nodes[0], names[0], _first(caps, "parameters"), _first(caps, "body")
            )
    return None


def _rank(definition: _Definition) -> tuple[int, int]:
    """Lower is better: the most specific kind, then the match that found a body."""
    return (definition.priority, definition.body is None)


def _first(caps: Mapping[str, list[tree_sitter.Node]], name: str) -> tree_sitter.Node | None:
    nodes = caps.get(name)
    return nodes[0] if nodes else None


def _owner(definition: _Definition) -> tree_sitter.Node:
    """The node whose returns and raises are the definition's: the function around the body."""
    if definition.body is not None and definition.body.parent is not None:
        return definition.body.parent
    return definition.node


def _found(
    language: str,
    src: bytes,
    definition: _Definition,
    facts: _Facts,
) -> FoundTarget:
    owner = _owner(definition)
    head = _head(definition.node, facts)
    style = STYLES.get(language)
    docs: tuple[tree_sitter.Node, ...]
    if style is None or language in DOCSTRING_LANGUAGES:
        top = head
        string = facts.docstrings.get(definition.body) if definition.body is not None else None
        docstring = python_string_value(string) if string is not None else None
        docs = (string,) if string is not None and docstring is not None else ()
    else:
        top, docs = comments_above(head, facts.comments, style, src)
        docstring = comments_text([_node_text(d) for d in docs]) if docs else None
    target = Target(
        language=language,
        kind=definition.kind,
        name=_node_text(definition.name),
        start_byte=head.start_byte,
        end_byte=max(head.end_byte, definition.node.end_byte),
        line=definition.name.start_point[0],
        parameters=_parameters(definition.parameters, facts),
        returns_value=any(_owned(n, owner, facts.scopes) for n in _inside(facts.returns, owner)),
        raises=_unique(_node_text(n) for n in _inside(facts.raises, owner)
                       if _owned(n, owner, facts.scopes)),
        docstring=docstring,
        signature=_signature(definition.node, src),
    )
    return FoundTarget(target, definition.node, definition.body, top, docs)


def _owned(
    node: tree_sitter.Node, owner: tree_sitter.Node, scopes: frozenset[tree_sitter.Node]
) -> bool:
    """Whether the innermost scope (definition or nested function) around *node* is *owner*."""
    current = node.parent
    while current is not None:
        if current in scopes:
            return current == owner
        current = current.parent
    return False


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _parameters(parameters: tree_sitter.Node | None, facts: _Facts) -> tuple[str, ...]:
    """Names of the ``@param`` captures inside *parameters* (not in a nested parameter list)."""
    if parameters is None:
        return ()
    mine = [n for n in _inside(facts.params, parameters)
            if n not in facts.skipped and _parameter_of(n, parameters)]
    return _unique(_node_text(n) for n in sorted(mine, key=lambda n: n.start_byte))


def _start(node: tree_sitter.Node) -> int:
    return node.start_byte


def _inside(nodes: tuple[tree_sitter.Node, ...], node: tree_sitter.Node
            ) -> tuple[tree_sitter.Node, ...]:
    """The *nodes* (in source order) that start within *node*: only those can be inside it
    (looking at every node of the file for every definition was quadratic)."""
    low = bisect.bisect_left(nodes, node.start_byte, key=_start)
    return nodes[low:bisect.bisect_right(nodes, node.end_byte, key=_start)]


def _parameter_of(node: tree_sitter.Node, parameters: tree_sitter.Node) -> bool:
    if node == parameters:
        return True
    current = node.parent
    while current is not None:
        if current.type == parameters.type:
            return current == parameters
        current = current.parent
    return False


def _head(node: tree_sitter.Node, facts: _Facts) -> tree_sitter.Node:
    """The first node of a definition: its outermost ``@wrapper``, then ``@attribute``s before."""
    while node.parent is not None and node.parent in facts.wrappers:
        node = node.parent
    above = node.prev_named_sibling
    while above is not None and above in facts.attributes:
        node = above
        above = node.prev_named_sibling
    return node


def targets(language: str, text: str) -> list[Target]:
    """Every function, method and class of *text*, in source order (outer before inner).

    Empty for a language without grammar or ``docs`` query.
    """
    analysed = analyse(language, text)
    return [] if analysed is None else [f.target for f in analysed.found]


def target_at(language: str, text: str, offset: int) -> Target | None:
    """The innermost target whose range holds code-point *offset* (its end included).

    A method holds the offsets of its own lines; a class those of its body between methods.
    None outside every definition.
    """
    analysed = analyse(language, text)
    if analysed is None:
        return None
    byte = analysed.lines.byte_offset(min(max(offset, 0), len(analysed.text)))
    holding = [
        f.target
        for f in analysed.found
        if f.target.start_byte <= byte <= f.target.end_byte
    ]
    if not holding:
        return None
    return min(holding, key=lambda t: (t.end_byte - t.start_byte, -t.start_byte))


def python_docstrings(text: str) -> list[str]:
    """Every docstring of a Python file (module, classes, functions), in source order."""
    parsed = parse_for_docs("python", text)
    if parsed is None:
        return []
    query, _, root = parsed
    strings = languages.captures(query, root).get("docstring", [])
    strings.sort(key=lambda n: n.start_byte)
    return [doc for doc in map(python_string_value, strings) if doc is not None]


def python_docstring_spans(text: str) -> list[tuple[int, int]]:
    """Code-point ranges ``[start, end)`` of every docstring literal of a Python file (quotes
    included), in source order; fine-tuning turns them into docstring↔code examples."""
    parsed = parse_for_docs("python", text)
    if parsed is None:
        return []
    query, src, root = parsed
    strings = sorted(languages.captures(query, root).get("docstring", []),
                     key=lambda n: n.start_byte)
    return [(len(src[: n.start_byte].decode("utf-8", "replace")),
             len(src[: n.end_byte].decode("utf-8", "replace"))) for n in strings]
