"""Docstring content as parts (summary, details, parameters, returns, raises), read from what a
model writes and written back in each language's and repository's convention.

The model is asked for one neutral layout (Google style, the most common in its training data);
whatever it writes — Google, NumPy, reST or JSDoc-like tags — is read into :class:`DocParts`,
then filtered against the code (only parameters the signature has, a return section only when a
value is returned, only exceptions the code names) and rendered in the target convention. So
the convention is always followed and nothing is invented, whatever the model's habits.
"""

from __future__ import annotations

import inspect
import itertools
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

WIDTH = 88
"""Wrap width of docstring text (the comment's own indentation not counted)."""


@dataclass(frozen=True)
class DocParts:
    """The content of a documentation comment."""

    summary: str = ""
    details: str = ""
    params: dict[str, str] = field(default_factory=dict)
    returns: str = ""
    raises: dict[str, str] = field(default_factory=dict)


_SECTIONS = {
    "args": "params", "arguments": "params", "parameters": "params", "params": "params",
    "keyword args": "params", "keyword arguments": "params", "other parameters": "params",
    "returns": "returns", "return": "returns", "yields": "returns", "yield": "returns",
    "raises": "raises", "raise": "raises", "throws": "raises", "exceptions": "raises",
    "errors": "raises",
}
_HEADER = re.compile(r"^\s*(?:#+\s*)?(?P<name>[A-Za-z][A-Za-z ]*?)\s*:?\s*$")
_UNDERLINE = re.compile(r"^\s*[-=~]{3,}\s*$")
_ENTRY = re.compile(r"^\s*\**(?P<name>[\w.]+)\**\s*"
                    r"(?:\((?P<type>[^)]*)\)|:\s*[\w\[\], .|]+(?=\s*$))?"
                    r"\s*(?::|-|–)\s*(?P<desc>.*)$")
_BARE_NAME = re.compile(r"^\s*(?P<name>[\w.*]+)\s*(?::\s*(?P<type>[^:]+))?\s*$")
_REST = re.compile(r"^\s*:(?P<kind>param|parameter|arg|argument|key|keyword|returns?|raises?|"
                   r"except|exception|throws|rtype|type|var|ivar|cvar)"
                   r"(?:\s+(?P<type>[\w.\[\], |]+?))??"
                   r"(?:\s+(?P<name>(?:\\?\*){0,2}[\w.]+))?\s*:\s*(?P<desc>.*)$")
_TAG = re.compile(r"^\s*@(?P<kind>param|arg|argument|returns?|throws|exception|raises)"
                  r"(?:\s+\{[^}]*\})?(?:\s+(?P<name>[\w.$]+))?\s*(?:-\s*)?(?P<desc>.*)$")


def _strip_wrapping(text: str) -> list[str]:
    """Lines of the answer without code fences, quotes or comment markers around it."""
    body = text.strip()
    fenced = re.match(r"^`{3,}[^\n]*\n(?P<code>.*?)(?:\n`{3,}\s*)?$", body, re.DOTALL)
    if fenced:
        body = fenced["code"]
    body = re.sub(r'^[rRuUbB]?("""|\'\'\')', "", body.strip())
    body = re.sub(r'("""|\'\'\')\s*$', "", body)
    lines = body.strip("\n").splitlines()
    marker = re.compile(r"^\s*(?:/\*\*+|\*/|\*(?!\*)|///|//!?|#(?![#\w]))\s?")
    if lines and all(marker.match(line) or not line.strip() for line in lines):
        lines = [marker.sub("", line, count=1) for line in lines]
    lines = [line for line in lines if line.strip() not in {"/**", "*/", "/*"}]
    return [line.rstrip() for line in lines]


def _add(mapping: dict[str, str], name: str, desc: str) -> None:
    mapping[name] = (mapping.get(name, "") + " " + desc.strip()).strip()


def parse(text: str) -> DocParts:
    """Read a docstring in any common convention (Google, NumPy, reST, JSDoc/Javadoc tags)."""
    # Docstring-style: the first line may start right after the quotes, the rest are indented.
    lines = inspect.cleandoc("\n".join(_strip_wrapping(text))).splitlines()
    free: list[str] = []
    params: dict[str, str] = {}
    raises: dict[str, str] = {}
    returns: list[str] = []
    section: str | None = None
    current: tuple[dict[str, str], str] | None = None
    for index, line in enumerate(lines):
        after_blank = index > 0 and not lines[index - 1].strip()
        if (section in {"returns", "tags"} and after_blank and line.strip()
                and not line[:1].isspace()):
            section, current = "after", None  # prose after the fields (e.g. ``Usage::``)
        rest = _REST.match(line) or _TAG.match(line)
        if rest:
            kind, desc = rest["kind"], rest["desc"]
            name = (rest["name"] or "").replace("\\", "").lstrip("*")
            if kind in {"rtype", "type", "var", "ivar", "cvar"}:  # types are not rendered
                current, section = None, "tags"
            elif kind.startswith("return"):
                returns.append(desc if not name else f"{name} {desc}")
                current, section = None, "returns"
            elif kind in {"raises", "raise", "except", "exception", "throws"}:
                if not name and desc:  # ":raises: ValueError when …"
                    name, _, desc = desc.partition(" ")
                if name:
                    _add(raises, name, desc)
                current, section = ((raises, name), "tags") if name else (None, "tags")
            else:
                if name:
                    _add(params, name, desc)
                    current, section = (params, name), "tags"
            continue
        header = _HEADER.match(line)
        next_line = lines[index + 1] if index + 1 < len(lines) else ""
        if header and header["name"].lower() in _SECTIONS and (
                line.rstrip().endswith(":") or _UNDERLINE.match(next_line)):
            section, current = _SECTIONS[header["name"].lower()], None
            continue
        if _UNDERLINE.match(line):
            continue
        if section in {"params", "raises"} and line.strip():
            target = params if section == "params" else raises
            numpy_entry = re.match(r"^\s*[\w.*]+ : ", line)
            entry = None if numpy_entry else _ENTRY.match(line)
            indent = len(line) - len(line.lstrip())
            if entry and (current is None or indent <= _entry_indent(lines, current, target)):
                _add(target, entry["name"], entry["desc"])
                current = (target, entry["name"])
                continue
            bare = _BARE_NAME.match(line)
            # NumPy: the name (and type) alone, the description indented below.
            if bare and indent == 0 and (numpy_entry or ":" not in line):
                target.setdefault(bare["name"], "")
                current = (target, bare["name"])
                continue
            if current is not None:
                _add(current[0], current[1], line)
                continue
        if section == "returns" and line.strip():
            returns.append(line.strip())
            continue
        if section == "tags" and line.strip() and current is not None:
            _add(current[0], current[1], line)
            continue
        if section in {None, "after"} or line.strip():
            free.append(line)  # text after the sections is kept as detail
    paragraphs = [p.strip("\n").rstrip() for p in re.split(r"\n\s*\n", "\n".join(free).strip("\n"))
                  if p.strip()]
    summary = " ".join(paragraphs[0].split()) if paragraphs else ""
    kept = []
    for previous, paragraph in itertools.pairwise(paragraphs):
        kept.append(paragraph if _literal(paragraph, previous) else " ".join(paragraph.split()))
    details = "\n\n".join(kept)
    return DocParts(summary=summary, details=details, params=params,
                    returns=" ".join(" ".join(returns).split()),
                    raises={k: v for k, v in raises.items() if k})


def _entry_indent(lines: Sequence[str], current: tuple[dict[str, str], str],
                  target: dict[str, str]) -> int:
    """Indentation of the line that started the current entry (continuations are deeper)."""
    name = current[1]
    for line in lines:
        entry = _ENTRY.match(line)
        if entry and entry["name"] == name:
            return len(line) - len(line.lstrip())
    return 0


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    if text and text[-1] not in ".!?:":
        text += "."
    return text[:1].upper() + text[1:] if text else text


def checked(parts: DocParts, *, parameters: Sequence[str], returns_value: bool,
            exceptions: Sequence[str], source: str) -> DocParts:
    """Only what the code has: the signature's parameters (in its order), a return description
    only when a value is returned, and described exceptions the code raises or at least names
    (an exception the model did not describe is left out rather than listed empty)."""
    params = {}
    for name in parameters:
        desc = parts.params.get(name) or parts.params.get(name.lstrip("*")) or parts.params.get(
            f"*{name}") or parts.params.get(f"**{name}")
        if desc:
            params[name] = _sentence(desc)
    raises = {name: _sentence(desc) for name, desc in parts.raises.items()
              if name in exceptions or re.search(rf"\b{re.escape(name)}\b", source)}
    return replace(parts, summary=_sentence(parts.summary), details=parts.details,
                   params=params, returns=_sentence(parts.returns) if returns_value else "",
                   raises=raises)


_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s")


def _literal(paragraph: str, previous: str = "") -> bool:
    """Whether a paragraph must keep its lines: examples (``>>>``), a literal block (after a
    ``::`` line, or indented), a list, a table."""
    lines = paragraph.splitlines()
    return (previous.rstrip().endswith("::") or paragraph[:1].isspace()
            or any(line.lstrip().startswith((">>>", "|", "..")) for line in lines)
            or any(_LIST_ITEM.match(line) for line in lines))


def _wrap(text: str, indent: str = "", width: int = WIDTH) -> list[str]:
    out: list[str] = []
    previous = ""
    for paragraph in text.split("\n\n"):
        if out:
            out.append("")
        literal, previous = _literal(paragraph, previous), paragraph
        if literal:
            out.extend(indent + line if line else "" for line in paragraph.splitlines())
            continue
        out.extend(textwrap.wrap(paragraph, width=width, initial_indent=indent,
                                 subsequent_indent=indent, break_long_words=False,
                                 break_on_hyphens=False) or [""])
    return out


def _head(parts: DocParts) -> list[str]:
    lines = _wrap(parts.summary or "Undocumented.")
    if parts.details:
        lines += ["", *_wrap(parts.details)]
    return lines


def _entries(items: dict[str, str], indent: str, sep: str) -> list[str]:
    lines: list[str] = []
    for name, desc in items.items():
        text = f"{name}{sep}{desc}".rstrip(" :") if desc else name
        wrapped = textwrap.wrap(text, width=WIDTH - len(indent), break_long_words=False)
        lines.append(indent + wrapped[0])
        lines.extend(indent + "    " + more for more in wrapped[1:])
    return lines


def render_google(parts: DocParts) -> list[str]:
    """Google style: ``Args:`` / ``Returns:`` / ``Raises:`` sections."""
    lines = _head(parts)
    if parts.params:
        lines += ["", "Args:", *_entries(parts.params, "    ", ": ")]
    if parts.returns:
        lines += ["", "Returns:", *_wrap(parts.returns, "    ")]
    if parts.raises:
        lines += ["", "Raises:", *_entries(parts.raises, "    ", ": ")]
    return lines


def render_numpy(parts: DocParts) -> list[str]:
    """NumPy style: underlined ``Parameters`` / ``Returns`` / ``Raises`` sections."""
    lines = _head(parts)

    def section(title: str, items: dict[str, str]) -> list[str]:
        out = ["", title, "-" * len(title)]
        for name, desc in items.items():
            out.append(name)
            out.extend(_wrap(desc, "    ") if desc else [])
        return out

    if parts.params:
        lines += section("Parameters", parts.params)
    if parts.returns:
        lines += ["", "Returns", "-------", *_wrap(parts.returns)]
    if parts.raises:
        lines += section("Raises", parts.raises)
    return lines


def _fields(fields: list[str]) -> list[str]:
    """Field lines (``:param x: …``, ``@param x …``) wrapped, continuations indented."""
    lines: list[str] = []
    for field_text in fields:
        lines.extend(textwrap.wrap(field_text, width=WIDTH, subsequent_indent="    ",
                                   break_long_words=False, break_on_hyphens=False))
    return lines


def render_rest(parts: DocParts) -> list[str]:
    """reST / Sphinx fields: ``:param x:``, ``:returns:``, ``:raises X:``."""
    fields = [f":param {name}: {desc}".rstrip() for name, desc in parts.params.items()]
    if parts.returns:
        fields.append(f":returns: {parts.returns}")
    fields += [f":raises {name}: {desc}".rstrip() for name, desc in parts.raises.items()]
    return _head(parts) + (["", *_fields(fields)] if fields else [])


def render_tags(parts: DocParts, *, returns_tag: str, throws_tag: str) -> list[str]:
    """JSDoc / Javadoc / Doxygen tags: ``@param x …``, ``@returns …``, ``@throws X …``."""
    tags = [f"@param {name} {desc}".rstrip() for name, desc in parts.params.items()]
    if parts.returns:
        tags.append(f"{returns_tag} {parts.returns}")
    tags += [f"{throws_tag} {name} {desc}".rstrip() for name, desc in parts.raises.items()]
    return _head(parts) + (["", *_fields(tags)] if tags else [])


def render_plain(parts: DocParts) -> list[str]:
    """Prose only (Go and Rust document parameters in sentences, not fields)."""
    return _head(parts)


def render(parts: DocParts, *, language: str, convention: str = "google") -> str:
    """The docstring / comment text (without quotes or comment markers) for ``language``;
    ``convention`` (google, numpy, rest, plain) applies to Python."""
    if language == "python":
        renderer = {"google": render_google, "numpy": render_numpy, "rest": render_rest,
                    "plain": render_plain}.get(convention, render_google)
        lines = renderer(parts)
    elif language in {"javascript", "typescript", "tsx"}:
        lines = render_tags(parts, returns_tag="@returns", throws_tag="@throws")
    elif language in {"java", "c", "cpp"}:
        lines = render_tags(parts, returns_tag="@return", throws_tag="@throws")
    else:
        lines = render_plain(parts)
    return "\n".join(lines).strip("\n")
