"""Tests for kodama.syntax.tags: definitions, references, imports and scopes in every language."""

from __future__ import annotations

from pathlib import Path

import pytest
import tree_sitter

from kodama.syntax import languages
from kodama.syntax.document import SyntaxDocument
from kodama.syntax.languages import LANGUAGES, LanguageSpec
from kodama.syntax.tags import (
    Import,
    definitions,
    enclosing_definitions,
    enclosing_scopes,
    imported_names,
    references_near,
    tag_query,
)

FIXTURES = Path(__file__).parent / "fixtures"


def parsed(language: str, text: str) -> tuple[LanguageSpec, tree_sitter.Tree]:
    spec = LANGUAGES[language]
    return spec, languages.thread_parser(spec).parse(text.encode("utf-8"))


def fixture(language: str) -> tuple[LanguageSpec, tree_sitter.Tree, str]:
    ext = {"python": "py", "javascript": "js", "typescript": "ts", "tsx": "tsx", "go": "go",
           "rust": "rs", "java": "java", "c": "c", "cpp": "cpp"}[language]
    text = (FIXTURES / f"snippet.{ext}").read_text(encoding="utf-8")
    spec, tree = parsed(language, text)
    return spec, tree, text


# (language, definitions as (name, kind, first line, signature), a line inside `greet`,
#  names expected among the references near that line)
CASES = [
    ("python", [("Greeter", "class", 4, "class Greeter:"),
                ("__init__", "method", 7, "    def __init__(self, name: str) -> None:"),
                ("greet", "method", 10, "    def greet(self, times: int = 2) -> str:")],
     12, {"range", "join", "os"}),
    ("javascript", [("EMOJI", "constant", 1, 'const EMOJI = "🐍";'),
                    ("Greeter", "class", 3, "class Greeter {"),
                    ("constructor", "method", 4, "  constructor(name) {"),
                    ("greet", "method", 8, "  greet(times = 2) {")],
     11, {"push", "join", "EMOJI"}),
    ("typescript", [("Named", "interface", 1, "interface Named {"),
                    ("Greeter", "class", 5, "export class Greeter implements Named {"),
                    ("constructor", "method", 6, "  constructor(public name: string) {}"),
                    ("greet", "method", 8, "  greet(times: number = 2): string {")],
     11, {"push", "Named"}),
    ("tsx", [("Props", "type", 3, "type Props = { name: string; times?: number };"),
             ("Greeting", "function", 5,
              "export function Greeting({ name, times = 2 }: Props): JSX.Element {")],
     7, {"from", "Props"}),
    ("go", [("Greeter", "struct", 9, "type Greeter struct {"),
            ("Greet", "method", 13, "func (g Greeter) Greet(times int) string {")],
     16, {"Sprintf", "append", "Greeter"}),
    ("rust", [("Greeter", "struct", 4, "pub struct Greeter {"),
              ("greet", "method", 9, "    pub fn greet(&self, times: usize) -> String {")],
     13, {"push_str", "write", "String"}),
    ("java", [("Greeter", "class", 6, "public class Greeter {"),
              ("greet", "method", 13, "    public String greet(int times) {")],
     16, {"add", "ArrayList", "List"}),
    ("c", [("greeter", "struct", 4, "struct greeter {"),
           ("greet", "function", 9,
            "static int greet(const struct greeter *g, char *out, size_t size) {")],
     12, {"snprintf", "strcpy", "greeter"}),
    ("cpp", [("Greeter", "class", 6, "class Greeter {"),
             ("greet", "method", 10, "    std::string greet(int times) const {")],
     13, {"push_back", "vector"}),
]


@pytest.mark.parametrize(("language", "expected", "line", "refs"), CASES,
                         ids=[c[0] for c in CASES])
def test_definitions_references_and_scopes(
    language: str, expected: list[tuple[str, str, int, str]], line: int, refs: set[str]
) -> None:
    spec, tree, text = fixture(language)
    found = definitions(spec, tree, text)
    summary = [(d.name, d.kind, d.start_line, d.signature_text) for d in found]
    for item in expected:
        assert item in summary, (item, summary)
    greet = next(d for d in found if d.name.lower() in ("greet", "greeting"))
    assert greet.start_line <= line <= greet.end_line
    assert greet.end_line < len(text.split("\n"))

    near = references_near(spec, tree, text, line)
    names = [r.name for r in near]
    assert refs <= set(names), names
    assert len(names) == len(set(names))
    assert all(abs(r.line - line) <= 30 for r in near)
    kinds = [r.kind for r in near]
    assert kinds == sorted(kinds, key=["call", "member", "type", "identifier"].index)

    scopes = [d.name for d in enclosing_definitions(spec, tree, text, line)]
    assert scopes[-1] == greet.name


def test_every_language_has_all_three_sections() -> None:
    for language in LANGUAGES:
        for section in ("definition", "reference", "import"):
            assert tag_query(language, section) is not None, (language, section)
    assert tag_query("cobol", "definition") is None


def test_references_near_respects_the_radius_and_orders_by_distance() -> None:
    lines = [f"def use_{i}():\n    call_{i}()\n" for i in range(40)]
    text = "".join(lines)
    spec, tree = parsed("python", text)
    near = references_near(spec, tree, text, line=41, radius=4)  # call_20 is on line 41
    calls = [r.name for r in near if r.kind == "call"]
    assert calls[0] == "call_20"
    assert set(calls) == {f"call_{i}" for i in range(18, 23)}  # lines 37, 39, … 45
    assert all(37 <= r.line <= 45 for r in near)


def test_member_calls_are_told_apart() -> None:
    text = "def f(x):\n    helper(x)\n    x.method()\n"
    spec, tree = parsed("python", text)
    kinds = {r.name: r.kind for r in references_near(spec, tree, text, 1)}
    assert kinds["helper"] == "call" and kinds["method"] == "member"


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("python", "import os.path\nfrom .types import Snippet, Mode as M\nfrom a.b import c\n",
         [Import("os.path"), Import(".types", "Snippet"), Import(".types", "Mode"),
          Import("a.b", "c")]),
        ("javascript", 'import { a, b } from "./util";\nimport x from "lib";\n'
                       'const y = require("./y");\n',
         [Import("./util", "a"), Import("./util", "b"), Import("lib"), Import("./y")]),
        ("typescript", 'import { Thing } from "../model/thing";\n',
         [Import("../model/thing", "Thing")]),
        ("go", 'package m\n\nimport (\n\t"fmt"\n\tu "example.com/x/util"\n)\n',
         [Import("fmt"), Import("example.com/x/util")]),
        ("rust", "use crate::index::{Index, Entry};\nuse std::fmt::Write;\n",
         [Import("crate::index", "Index"), Import("crate::index", "Entry"),
          Import("std::fmt", "Write")]),
        ("java", "import java.util.List;\nimport com.acme.Widget;\nclass A {}\n",
         [Import("java.util", "List"), Import("com.acme", "Widget")]),
        ("c", '#include <stdio.h>\n#include "greeter.h"\n', [Import("greeter.h")]),
        ("cpp", '#include "util/strings.hpp"\n', [Import("util/strings.hpp")]),
    ],
    ids=lambda v: v if isinstance(v, str) and v in LANGUAGES else "",
)
def test_imported_names(language: str, text: str, expected: list[Import]) -> None:
    spec, tree = parsed(language, text)
    assert imported_names(spec, tree, text) == expected


def test_multi_line_signatures_and_decorated_methods() -> None:
    text = (
        "class A(Base):\n"
        "    @property\n"
        "    def size(\n"
        "        self,\n"
        "    ) -> int:\n"
        "        return 1\n"
    )
    spec, tree = parsed("python", text)
    size = next(d for d in definitions(spec, tree, text) if d.name == "size")
    assert size.kind == "method"
    assert size.signature_text == "    def size(\n        self,\n    ) -> int:"


def test_c_prototypes_and_macros_are_definitions() -> None:
    text = "#define MAX(a, b) ((a) > (b) ? (a) : (b))\nint area(int w, int h);\n" \
           "typedef struct point { int x; } point_t;\n"
    spec, tree = parsed("c", text)
    kinds = {(d.name, d.kind) for d in definitions(spec, tree, text)}
    assert {("MAX", "macro"), ("area", "function"), ("point", "struct"),
            ("point_t", "type")} <= kinds


def test_enclosing_scopes_of_a_document() -> None:
    text = "class A:\n    def f(self):\n        x = 1\n        return x\n\ny = 2\n"
    doc = SyntaxDocument("file:///a.py", text, LANGUAGES["python"])
    assert enclosing_scopes(doc, text.index("return")) == ["class A:", "    def f(self):"]
    assert enclosing_scopes(doc, text.index("y = 2")) == []
    plain = SyntaxDocument("file:///a.txt", text, None)
    assert enclosing_scopes(plain, 5) == []
