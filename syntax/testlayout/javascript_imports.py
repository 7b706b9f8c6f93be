"""JavaScript / TypeScript import lines: writing them in a file's style, reading ESM ``import``
and CommonJS ``require`` lines, and keeping only the bindings a file lacks (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .common import normalized

__all__ = ["CJS_REQUIRE", "JsImport", "JsStyle", "import_line", "missing_imports",
           "parse_import"]

_ESM_FROM = re.compile(
    r"""^\s*import\s+(?P<type>type\s+)?(?P<clause>[^'"]+?)\s+from\s*(?P<q>['"])(?P<src>[^'"]+)"""
    r"""(?P=q)\s*(?P<semi>;?)\s*$"""
)
_ESM_BARE = re.compile(r"""^\s*import\s*(?P<q>['"])(?P<src>[^'"]+)(?P=q)\s*(?P<semi>;?)\s*$""")
CJS_REQUIRE = re.compile(
    r"""^\s*(?P<kw>const|let|var)\s+(?P<lhs>[^=]+?)\s*=\s*require\(\s*(?P<q>['"])(?P<src>[^'"]+)"""
    r"""(?P=q)\s*\)(?P<tail>(?:\.\w+)?)\s*(?P<semi>;?)\s*$"""
)
"""A whole ``const x = require('m')`` statement (the only CommonJS form taken for an import)."""


@dataclass(frozen=True)
class JsStyle:
    """How a project writes imports."""

    esm: bool
    quote: str
    semicolons: bool


def import_line(style: JsStyle, what: str, src: str) -> str:
    """An import line binding *what* (``x``, ``{ a, b }``, ``* as ns``) from *src*."""
    q, semi = style.quote, ";" if style.semicolons else ""
    if style.esm:
        return f"import {what} from {q}{src}{q}{semi}"
    if what.startswith("* as "):
        what = what[5:]
    return f"const {what} = require({q}{src}{q}){semi}"


@dataclass(frozen=True)
class JsImport:
    """One import line taken apart."""

    text: str
    esm: bool
    src: str
    default: str | None
    namespace: str | None
    named: tuple[tuple[str, str], ...]
    """(imported, local) pairs."""
    prefix: str
    """``import type `` / ``const `` …"""
    quote: str
    semi: str
    tail: str = ""

    def bindings(self) -> list[str]:
        return [b for b in (self.default, self.namespace) if b] + [local for _, local in
                                                                   self.named]

    def render(self, default: str | None, namespace: str | None,
               named: Sequence[tuple[str, str]]) -> str:
        q = self.quote
        if self.esm:
            items = ", ".join(i if i == local else f"{i} as {local}" for i, local in named)
            clause = ", ".join(p for p in (
                default, f"* as {namespace}" if namespace else None,
                f"{{ {items} }}" if named else None) if p)
            return f"{self.prefix}{clause} from {q}{self.src}{q}{self.semi}"
        items = ", ".join(i if i == local else f"{i}: {local}" for i, local in named)
        lhs = default if default else f"{{ {items} }}"
        return f"{self.prefix}{lhs} = require({q}{self.src}{q}){self.tail}{self.semi}"


def _names(inner: str, separator: str) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for item in inner.split(","):
        item = item.strip()
        if not item:
            continue
        if separator == " as ":
            item = re.sub(r"^type\s+", "", item)
        imported, _, local = item.partition(separator)
        out.append((imported.strip(), (local or imported).strip()))
    return tuple(out)


def parse_import(text: str) -> JsImport | None:
    """*text* taken apart when it is one ESM import or CommonJS ``require`` line."""
    text = text.strip()
    if (m := _ESM_BARE.match(text)) is not None:
        return JsImport(text, True, m["src"], None, None, (), "import ", m["q"], m["semi"])
    if (m := _ESM_FROM.match(text)) is not None:
        clause = m["clause"].strip()
        default = namespace = None
        named: tuple[tuple[str, str], ...] = ()
        if "{" in clause:
            before, _, rest = clause.partition("{")
            named = _names(rest.partition("}")[0], " as ")
            clause = before
        for part in (p.strip() for p in clause.split(",")):
            if part.startswith("*"):
                namespace = part.split("as", 1)[-1].strip()
            elif part:
                default = part
        prefix = "import type " if m["type"] else "import "
        return JsImport(text, True, m["src"], default, namespace, named, prefix, m["q"],
                        m["semi"])
    if (m := CJS_REQUIRE.match(text)) is not None:
        lhs = m["lhs"].strip()
        if lhs.startswith("{"):
            named = _names(lhs.strip("{} "), ":")
            return JsImport(text, False, m["src"], None, None, named, m["kw"] + " ", m["q"],
                            m["semi"], m["tail"])
        return JsImport(text, False, m["src"], lhs, None, (), m["kw"] + " ", m["q"], m["semi"],
                        m["tail"])
    return None


def missing_imports(candidates: Iterable[str], existing: Iterable[str]) -> list[str]:
    """The *candidates* (or the parts of them) that bind names the *existing* imports do not
    (side-effect imports: whose module they do not import)."""
    bound: set[str] = set()
    sources: set[str] = set()
    texts: set[str] = set()
    for text in existing:
        texts.add(normalized(text))
        imp = parse_import(text)
        if imp is not None:
            bound.update(imp.bindings())
            sources.add(imp.src)
    out: list[str] = []
    for text in candidates:
        imp = parse_import(text)
        if imp is None:
            if normalized(text) not in texts:
                texts.add(normalized(text))
                out.append(text.strip())
            continue
        if not imp.bindings():
            if imp.src not in sources:
                sources.add(imp.src)
                out.append(imp.text)
            continue
        default = imp.default if imp.default and imp.default not in bound else None
        namespace = imp.namespace if imp.namespace and imp.namespace not in bound else None
        named = [(i, local) for i, local in imp.named if local not in bound]
        if not (default or namespace or named):
            continue
        bound.update(b for b in (default, namespace) if b)
        bound.update(local for _, local in named)
        sources.add(imp.src)
        unchanged = (default, namespace, tuple(named)) == (imp.default, imp.namespace,
                                                            imp.named)
        out.append(imp.text if unchanged else imp.render(default, namespace, named))
    return out
