"""Writing documentation where the language expects it, as an edit of the file's text.

A Python docstring becomes the first statement of the body; comment documentation goes above
the definition (above its decorators, annotations, attributes and ``export``), replacing what
is there. :func:`validate` checks that an edit adds no syntax error.
"""

from __future__ import annotations

import re
import textwrap
from collections import Counter

from kodama.syntax.analysis import _trailing_ws, count_errors
from kodama.syntax.docstrings.existing import trim_blank_lines
from kodama.syntax.docstrings.finding import FoundTarget, ParsedFile, analyse
from kodama.syntax.docstrings.styles import DOCSTRING_LANGUAGES, MARKER_FROM_FILE, MARKERS, STYLES
from kodama.syntax.docstrings.target import DocEdit, Target
from kodama.syntax.tags import _node_text


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
    analysed = analyse(target.language, text)
    found = _find(analysed, target)
    if analysed is None or found is None:
        raise ValueError(f"{target.kind} {target.name!r} is not a target of this text")
    if target.language in DOCSTRING_LANGUAGES:
        return _python_edit(analysed, found, doc)
    style = STYLES[target.language]
    marker = _file_marker(analysed) if target.language in MARKER_FROM_FILE else style.marker
    if target.language == "go":
        doc = _go_named(doc, target.name)
    return _comment_edit(analysed, found, _comment_lines(doc, marker))


def _find(analysed: ParsedFile | None, target: Target) -> FoundTarget | None:
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
    trimmed = trim_blank_lines(lines).split("\n")
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


def _python_edit(analysed: ParsedFile, found: FoundTarget, doc: str) -> DocEdit:
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
def _file_marker(analysed: ParsedFile) -> str:
    """The marker most documented definitions of the file use (``/**`` when none is)."""
    votes = Counter(_marker_of(_node_text(f.docs[0])) for f in analysed.found if f.docs)
    if not votes:
        return "/**"
    best = max(votes.values())
    return next(m for m in MARKERS if votes[m] == best)


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


def _comment_edit(analysed: ParsedFile, found: FoundTarget, rows: list[str]) -> DocEdit:
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
