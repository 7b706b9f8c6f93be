"""Documentation of functions, methods and classes: find it, judge it, write it (pure).

The syntax half of a "Generate docstring" code action.  :func:`targets` lists the definitions
of a file as :class:`Target` values (name, parameters, whether a value is returned, exceptions
raised, the existing documentation); :func:`render` turns a documentation body — plain text, as
a model writes it — into a :class:`DocEdit` that puts it where the language expects it:

* Python: a docstring, the first statement of the body;
* JavaScript, TypeScript, Java: a ``/** … */`` block above the definition (above its
  decorators, annotations and ``export``);
* Go: ``//`` lines above, starting with the name;
* Rust: ``///`` lines above the item and its attributes;
* C, C++: the style the file already documents its definitions with (``/** */``, ``///`` or
  ``//``), ``/** */`` when it has none.

The patterns are data: ``queries/docs/<language id>.scm`` (see the comment at the top of each
file for the captures).  Offsets handed in and out (:func:`target_at`, :class:`DocEdit`) are
code points of the Python ``str``; the byte offsets of a :class:`Target` are UTF-8 bytes, as
tree-sitter counts them.  Rows are tree-sitter rows (0-based, ending at ``\\n``).

Python docstrings follow a convention; :func:`python_docstrings` collects a file's docstrings
and :func:`detect_convention` tells which one (``google``, ``numpy``, ``rest`` or ``plain``) a
repository uses.
"""

from __future__ import annotations

import ast
import functools
import inspect
import re
import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import tree_sitter

from . import languages
from .analysis import _trailing_ws, count_errors, load_query
from .languages import GrammarUnavailableError
from .positions import LineIndex, sanitize
from .tags import _node_text, _signature

__all__ = [
    "CONVENTIONS",
    "DocEdit",
    "Target",
    "apply",
    "detect_convention",
    "python_docstrings",
    "render",
    "target_at",
    "targets",
    "validate",
]

Kind = Literal["function", "method", "class"]
"""What a :class:`Target` is."""

Convention = Literal["google", "numpy", "rest", "plain"]
"""A Python docstring convention."""

CONVENTIONS: tuple[Convention, ...] = ("google", "numpy", "rest", "plain")
"""Every convention, in the order that breaks ties in :func:`detect_convention`."""

_KINDS: dict[str, tuple[Kind, int]] = {
    "definition.method": ("method", 0),
    "definition.class": ("class", 1),
    "definition.function": ("function", 2),
}
"""Capture → (kind, priority): when several patterns capture one node, the lowest wins."""


@dataclass(frozen=True)
class Target:
    """A function, method or class that documentation can be written for."""

    language: str
    kind: Kind
    name: str
    start_byte: int
    """Start of the definition with what belongs to it before: decorators, annotations,
    attributes, ``export``, ``template <…>``."""
    end_byte: int
    line: int
    """Row (0-based) of the name."""
    parameters: tuple[str, ...]
    """Parameter names in order, without ``self``/``cls``, receivers, ``*``/``/`` markers
    and destructuring patterns; ``*args`` is ``args``."""
    returns_value: bool
    """The body returns (or yields) a value outside nested functions, or — for statically
    typed languages — a return type other than void is declared."""
    raises: tuple[str, ...]
    """Exception classes raised (thrown, declared) by the body itself, each once, in order."""
    docstring: str | None
    """The existing documentation, without quotes or comment markers; None if there is none."""
    signature: str
    """The whole lines of the header, from the definition up to its body."""


@dataclass(frozen=True)
class DocEdit:
    """Replace code points ``[start, end)`` of the text with :attr:`new_text`."""

    start: int
    end: int
    """Equal to :attr:`start` for an insertion."""
    new_text: str


# ------------------------------------------------------------------ comment styles
@dataclass(frozen=True)
class _Style:
    """How a language writes documentation comments."""

    docs: tuple[str, ...]
    """Openers of comments that count as documentation."""
    not_docs: tuple[str, ...] = ()
    """Openers that look like documentation but are not (Rust's ``////``)."""
    directive: str | None = None
    """Pattern of directive comments that may stand between documentation and definition."""
    marker: str = "/**"
    """How new documentation is written: ``/**`` (a block), ``///`` or ``//`` (lines)."""


_JSDOC = _Style(docs=("/**", "//"))
_C_LIKE = _Style(docs=("/*", "//"))
_STYLES: dict[str, _Style] = {
    "javascript": _JSDOC,
    "typescript": _JSDOC,
    "tsx": _JSDOC,
    "java": _JSDOC,
    "go": _Style(docs=("//",), directive=r"//(?:[a-z0-9]+:[a-z0-9]|line |export )", marker="//"),
    "rust": _Style(docs=("///", "/**"), not_docs=("////", "/***", "/**/"), marker="///"),
    "c": _C_LIKE,
    "cpp": _C_LIKE,
}
_MARKER_FROM_FILE = frozenset({"c", "cpp"})
"""Languages whose new documentation follows the style the file already uses."""
_MARKERS = ("/**", "///", "//")
"""Every marker, in the order that breaks ties when a file uses several."""

_DOCSTRING_LANGUAGES = frozenset({"python"})
"""Languages documented by a string in the body rather than by comments above."""


# ------------------------------------------------------------------ analysis
@dataclass(frozen=True)
class _Definition:
    kind: Kind
    priority: int
    node: tree_sitter.Node
    name: tree_sitter.Node
    parameters: tree_sitter.Node | None
    body: tree_sitter.Node | None


@dataclass(frozen=True)
class _Found:
    """A target with the nodes that :func:`render` needs."""

    target: Target
    node: tree_sitter.Node
    body: tree_sitter.Node | None
    top: tree_sitter.Node
    """The first node of what documentation goes above (attributes, directives included)."""
    docs: tuple[tree_sitter.Node, ...]
    """The documentation comments above, or a Python docstring's ``string`` node."""


@dataclass(frozen=True)
class _File:
    language: str
    text: str
    src: bytes
    lines: LineIndex
    found: tuple[_Found, ...]


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

    return _Facts(
        params=nodes("param"),
        skipped=frozenset(nodes("param.skip")),
        returns=nodes("return"),
        raises=nodes("raise"),
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


def _parsed(
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
def _analyse(language: str, text: str) -> _File | None:
    """Parse *text* and find its targets; None for a language without grammar or query.

    Cached for the last few texts: an editor asks for code actions at every cursor move and
    for hovers, on the same document text (~7 ms per analysis of a 1000-line file)."""
    parsed = _parsed(language, text)
    if parsed is None:
        return None
    query, src, root = parsed
    definitions, captured = _collect(query, root)
    facts = _facts(captured, definitions)
    found = tuple(_found(language, src, d, facts) for d in definitions)
    clean = sanitize(text)
    return _File(language, clean, src, LineIndex(clean), found)


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
) -> _Found:
    owner = _owner(definition)
    head = _head(definition.node, facts)
    style = _STYLES.get(language)
    docs: tuple[tree_sitter.Node, ...]
    if style is None or language in _DOCSTRING_LANGUAGES:
        top = head
        string = facts.docstrings.get(definition.body) if definition.body is not None else None
        docstring = _python_text(string) if string is not None else None
        docs = (string,) if string is not None and docstring is not None else ()
    else:
        top, docs = _comments_above(head, facts.comments, style, src)
        docstring = _comments_text([_node_text(d) for d in docs]) if docs else None
    target = Target(
        language=language,
        kind=definition.kind,
        name=_node_text(definition.name),
        start_byte=head.start_byte,
        end_byte=max(head.end_byte, definition.node.end_byte),
        line=definition.name.start_point[0],
        parameters=_parameters(definition.parameters, facts),
        returns_value=any(_owned(n, owner, facts.scopes) for n in facts.returns),
        raises=_unique(_node_text(n) for n in facts.raises if _owned(n, owner, facts.scopes)),
        docstring=docstring,
        signature=_signature(definition.node, src),
    )
    return _Found(target, definition.node, definition.body, top, docs)


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
    mine = [n for n in facts.params if n not in facts.skipped and _parameter_of(n, parameters)]
    return _unique(_node_text(n) for n in sorted(mine, key=lambda n: n.start_byte))


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


# ------------------------------------------------------------- documentation found
def _comments_above(
    head: tree_sitter.Node,
    comments: frozenset[tree_sitter.Node],
    style: _Style,
    src: bytes,
) -> tuple[tree_sitter.Node, tuple[tree_sitter.Node, ...]]:
    """(first node documentation goes above, the documentation comments right above it)."""
    top = head
    above = top.prev_named_sibling
    while (
        above is not None
        and above in comments
        and _is_directive(above, style)
        and _touches(above, top)
    ):
        top = above
        above = top.prev_named_sibling
    docs: list[tree_sitter.Node] = []
    lowest = top
    while (
        above is not None
        and above in comments
        and _is_doc(above, style)
        and _touches(above, lowest)
        and _starts_line(above, src)
    ):
        docs.append(above)
        lowest = above
        above = lowest.prev_named_sibling
    return top, tuple(reversed(docs))


def _is_directive(comment: tree_sitter.Node, style: _Style) -> bool:
    pattern = style.directive
    return pattern is not None and re.match(pattern, _node_text(comment)) is not None


def _is_doc(comment: tree_sitter.Node, style: _Style) -> bool:
    text = _node_text(comment)
    return text.startswith(style.docs) and not text.startswith(style.not_docs)


def _last_row(node: tree_sitter.Node) -> int:
    """Last row holding text of *node* (a line comment may end after its newline)."""
    row, column = node.end_point
    return row - 1 if column == 0 and row > node.start_point[0] else row


def _touches(upper: tree_sitter.Node, lower: tree_sitter.Node) -> bool:
    """No blank line between *upper* and *lower*."""
    return _last_row(upper) + 1 >= lower.start_point[0]


def _starts_line(node: tree_sitter.Node, src: bytes) -> bool:
    line_start = src.rfind(b"\n", 0, node.start_byte) + 1
    return not src[line_start : node.start_byte].strip()


def _python_text(string: tree_sitter.Node) -> str | None:
    """The value of a Python string literal, cleaned like ``help()`` shows it; None if it is
    not a plain ``str`` literal (an f-string, bytes)."""
    try:
        value = ast.literal_eval(_node_text(string).replace("\r\n", "\n"))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return inspect.cleandoc(value) if isinstance(value, str) else None


def _comments_text(comments: Sequence[str]) -> str:
    """The documentation text of a run of comments, without their markers."""
    lines: list[str] = []
    for comment in comments:
        lines.extend(_uncomment(comment.replace("\r\n", "\n").rstrip("\n")))
    return _trim(lines)


def _uncomment(comment: str) -> list[str]:
    if not comment.startswith("/*"):
        return [re.sub(r"^//[/!]? ?", "", comment).rstrip()]
    inner = comment[2:-2] if comment.endswith("*/") and len(comment) >= 4 else comment[2:]
    inner = inner.removeprefix("*").replace("*\\/", "*/")
    first, *rest = inner.split("\n")
    if all(re.match(r"\s*\*", line) for line in rest if line.strip()):
        rest = [re.sub(r"^\s*\* ?", "", line) for line in rest]
    else:
        rest = textwrap.dedent("\n".join(rest)).split("\n")
    return [first.strip(), *(line.rstrip() for line in rest)]


def _trim(lines: Sequence[str]) -> str:
    """*lines* without the blank ones at the start and the end, joined."""
    kept = list(lines)
    while kept and not kept[0].strip():
        kept.pop(0)
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join(kept)


# ------------------------------------------------------------------------ public
def targets(language: str, text: str) -> list[Target]:
    """Every function, method and class of *text*, in source order (outer before inner).

    Empty for a language without grammar or ``docs`` query.
    """
    analysed = _analyse(language, text)
    return [] if analysed is None else [f.target for f in analysed.found]


def target_at(language: str, text: str, offset: int) -> Target | None:
    """The innermost target whose range holds code-point *offset* (its end included).

    A method holds the offsets of its own lines; a class those of its body between methods.
    None outside every definition.
    """
    analysed = _analyse(language, text)
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
    parsed = _parsed("python", text)
    if parsed is None:
        return []
    query, _, root = parsed
    strings = languages.captures(query, root).get("docstring", [])
    strings.sort(key=lambda n: n.start_byte)
    return [doc for doc in map(_python_text, strings) if doc is not None]


def python_docstring_spans(text: str) -> list[tuple[int, int]]:
    """Code-point ranges ``[start, end)`` of every docstring literal of a Python file (quotes
    included), in source order; fine-tuning turns them into docstring↔code examples."""
    parsed = _parsed("python", text)
    if parsed is None:
        return []
    query, src, root = parsed
    strings = sorted(languages.captures(query, root).get("docstring", []),
                     key=lambda n: n.start_byte)
    return [(len(src[: n.start_byte].decode("utf-8", "replace")),
             len(src[: n.end_byte].decode("utf-8", "replace"))) for n in strings]


# ------------------------------------------------------------------- conventions
_NUMPY_RE = re.compile(
    r"^[ \t]*(?:Parameters|Other Parameters|Returns|Yields|Receives|Raises|Warns|Attributes"
    r"|Methods|See Also|Notes|References|Examples)[ \t]*\n[ \t]*-{3,}[ \t]*$",
    re.MULTILINE,
)
_REST_RE = re.compile(
    r"^[ \t]*:(?:param|parameter|arg|argument|key|keyword|type|returns?|rtype|raises?|except"
    r"|exception|yields?|ytype|var|ivar|cvar|vartype)\b[^:\n]*:",
    re.MULTILINE,
)
_GOOGLE_RE = re.compile(
    r"^[ \t]*(?:Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|Other Parameters"
    r"|Returns|Return|Yields|Yield|Raises|Attributes|Examples?|Notes?|Todo|Warnings?|Warns"
    r"|See Also|References|Methods)[ \t]*:[ \t]*$",
    re.MULTILINE,
)


def _convention_of(docstring: str) -> Convention:
    """The convention one docstring shows (NumPy, then reST, then Google are looked for)."""
    if _NUMPY_RE.search(docstring):
        return "numpy"
    if _REST_RE.search(docstring):
        return "rest"
    if _GOOGLE_RE.search(docstring):
        return "google"
    return "plain"


def detect_convention(docstrings: Iterable[str]) -> Convention:
    """The convention most of *docstrings* follow: ``google`` (``Args:``/``Returns:``/``Raises:``
    sections), ``numpy`` (``Parameters`` underlined with dashes), ``rest`` (``:param x:``,
    ``:returns:``, ``:raises``) or ``plain``.

    Docstrings that show no convention do not vote; ``plain`` when none shows one.  A tie is
    broken in the order of :data:`CONVENTIONS`: Google, then NumPy, then reST.
    """
    votes = Counter(_convention_of(d) for d in docstrings)
    votes.pop("plain", None)
    if not votes:
        return "plain"
    best = max(votes.values())
    return next(c for c in CONVENTIONS if votes[c] == best)


# ------------------------------------------------------------------------ render
def render(target: Target, text: str, body: str, *, convention: str = "plain") -> DocEdit:
    """The edit documenting *target* (found in *text*) with *body*, replacing what it has.

    *body* is the documentation text without quotes or comment markers, possibly several lines
    and possibly with sections (leading/trailing blank lines and the common indentation of the
    lines after the first are dropped).  Nothing is added to it: the sections are the writer's
    (the model layer renders them in the convention), so *convention* — accepted for callers
    that know one — changes nothing here: PEP 257 fixes the layout for every convention.

    Raises ValueError for a blank *body* or a *target* that is not one of
    ``targets(target.language, text)``.
    """
    doc = _normalize(body)
    if not doc:
        raise ValueError("blank documentation body")
    analysed = _analyse(target.language, text)
    found = _find(analysed, target)
    if analysed is None or found is None:
        raise ValueError(f"{target.kind} {target.name!r} is not a target of this text")
    if target.language in _DOCSTRING_LANGUAGES:
        return _python_edit(analysed, found, doc)
    style = _STYLES[target.language]
    marker = _file_marker(analysed) if target.language in _MARKER_FROM_FILE else style.marker
    if target.language == "go":
        doc = _go_named(doc, target.name)
    return _comment_edit(analysed, found, _comment_lines(doc, marker))


def _find(analysed: _File | None, target: Target) -> _Found | None:
    if analysed is None:
        return None
    for found in analysed.found:
        t = found.target
        if (t.start_byte, t.end_byte, t.name, t.kind) == (
            target.start_byte,
            target.end_byte,
            target.name,
            target.kind,
        ):
            return found
    return None


def _normalize(body: str) -> str:
    """*body* with unified newlines, no trailing spaces, no blank first/last lines, dedented."""
    lines = [line.rstrip() for line in re.split(r"\r\n|\r|\n", body)]
    trimmed = _trim(lines).split("\n")
    first, rest = trimmed[0].strip(), textwrap.dedent("\n".join(trimmed[1:]))
    return first if len(trimmed) == 1 else f"{first}\n{rest}"


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _line_indent(text: str, offset: int) -> str:
    """The leading whitespace of the line holding code-point *offset*."""
    start = text.rfind("\n", 0, offset) + 1
    line = text[start:]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _at_line_start(text: str, offset: int) -> bool:
    return not text[text.rfind("\n", 0, offset) + 1 : offset].strip()


# ---------------------------------------------------------------- Python docstrings
def _indent_unit(text: str) -> str:
    """One level of indentation in *text*: a tab if most indented lines use tabs, else the
    smallest indentation in spaces (4 without any)."""
    tabs = 0
    widths: list[int] = []
    for line in text.splitlines():
        content = line.lstrip(" \t")
        if not content or content.startswith("#"):
            continue
        lead = line[: len(line) - len(content)]
        if lead.startswith("\t"):
            tabs += 1
        elif lead:
            widths.append(len(lead))
    if tabs > len(widths):
        return "\t"
    return " " * min(widths) if widths else "    "


def _python_edit(analysed: _File, found: _Found, doc: str) -> DocEdit:
    text, lines = analysed.text, analysed.lines
    newline = _newline(text)
    assert found.body is not None  # every Python pattern captures a body
    body_start = lines.offset_of_byte(found.body.start_byte)
    inline = not _at_line_start(text, body_start)  # `def f(): return 1`
    if inline:
        indent = _line_indent(text, lines.offset_of_byte(found.node.start_byte))
        indent += _indent_unit(text)
    else:
        indent = _line_indent(text, body_start)
    literal = _python_literal(doc, indent, newline)
    if not inline:
        if found.docs:
            string = found.docs[0]
            return DocEdit(
                lines.offset_of_byte(string.start_byte),
                lines.offset_of_byte(string.end_byte),
                literal,
            )
        return DocEdit(body_start, body_start, literal + newline + indent)
    start = body_start - _trailing_ws(text, body_start)
    end = body_start
    follows = True
    statement = found.docs[0].parent if found.docs else None
    if statement is not None:
        after = statement.next_named_sibling
        follows = after is not None and after.start_point[0] == statement.end_point[0]
        end = lines.offset_of_byte(after.start_byte if after is not None and follows
                                   else statement.end_byte)
    tail = newline + indent if follows else ""
    return DocEdit(start, end, newline + indent + literal + tail)


def _python_literal(doc: str, indent: str, newline: str) -> str:
    """*doc* as a triple-quoted string literal whose continuation lines start with *indent*."""
    first, *rest = doc.split("\n")
    if not rest:
        return _quoted(first)
    continued = [indent + line if line else "" for line in rest]
    return _quoted(newline.join([first, *continued, indent]))


def _quoted(inner: str) -> str:
    """``\"\"\"inner\"\"\"`` with the value *inner*: raw when it has backslashes and can be raw,
    else with backslashes, ``\"\"\"`` and trailing quotes escaped."""
    if "\\" in inner:
        if '"""' not in inner and not inner.endswith(("\\", '"')):
            return f'r"""{inner}"""'
        inner = inner.replace("\\", "\\\\")
    core = inner.rstrip('"')
    escaped = core.replace('"""', '\\"\\"\\"') + '\\"' * (len(inner) - len(core))
    return f'"""{escaped}"""'


# ------------------------------------------------------------- comment documentation
def _file_marker(analysed: _File) -> str:
    """The marker most documented definitions of the file use (``/**`` when none is)."""
    votes = Counter(_marker_of(_node_text(f.docs[0])) for f in analysed.found if f.docs)
    if not votes:
        return "/**"
    best = max(votes.values())
    return next(m for m in _MARKERS if votes[m] == best)


def _marker_of(comment: str) -> str:
    if comment.startswith("/*"):
        return "/**"
    return "///" if comment.startswith("///") else "//"


def _go_named(doc: str, name: str) -> str:
    """*doc* starting with *name*, as Go documentation does (``Add returns …``)."""
    if re.match(rf"(?:(?:A|An|The)\s+)?{re.escape(name)}\b", doc):
        return doc  # "Add returns …", "A Reader reads …"
    first = doc.split(maxsplit=1)[0]
    if len(first) > 1 and first[0].isupper() and first[1].islower():
        doc = doc[0].lower() + doc[1:]  # "Returns the sum" → "Add returns the sum"
    return f"{name} {doc}"


def _comment_lines(doc: str, marker: str) -> list[str]:
    rows = doc.split("\n")
    if marker != "/**":
        return [f"{marker} {row}" if row else marker for row in rows]
    rows = [row.replace("*/", "*\\/") for row in rows]
    if len(rows) == 1:
        return [f"/** {rows[0]} */"]
    return ["/**", *(f" * {row}" if row else " *" for row in rows), " */"]


def _comment_edit(analysed: _File, found: _Found, rows: list[str]) -> DocEdit:
    text, lines = analysed.text, analysed.lines
    newline = _newline(text)
    if found.docs:
        start = lines.offset_of_byte(found.docs[0].start_byte)
        last = found.docs[-1]
        end = lines.offset_of_byte(last.end_byte)
        end -= len(text[start:end]) - len(text[start:end].rstrip("\r\n"))
        indent = _line_indent(text, start)
        return DocEdit(start, end, (newline + indent).join(rows))
    start = lines.offset_of_byte(found.top.start_byte)
    indent = _line_indent(text, start)
    comment = (newline + indent).join(rows)
    if _at_line_start(text, start):
        return DocEdit(start, start, comment + newline + indent)
    # `int x; int f() {…}`: the documentation gets a line of its own.
    return DocEdit(
        start - _trailing_ws(text, start), start, newline + indent + comment + newline + indent
    )


# --------------------------------------------------------------------- applying
def apply(text: str, edit: DocEdit) -> str:
    """*text* with *edit* applied."""
    return text[: edit.start] + edit.new_text + text[edit.end :]


def validate(language: str, text: str, edit: DocEdit) -> bool:
    """Whether *edit* leaves *text* with no more syntax errors than it had.

    False when the language has no grammar.
    """
    before = count_errors(language, text)
    after = count_errors(language, apply(text, edit))
    return before is not None and after is not None and after <= before
