"""Tests for kodama.syntax.docstrings: targets, documentation found and written, conventions."""

from __future__ import annotations

import ast

import pytest

from kodama.syntax import docstrings
from kodama.syntax.analysis import count_errors, load_query
from kodama.syntax.docstrings import (
    DocEdit,
    Target,
    apply,
    detect_convention,
    python_docstrings,
    render,
    target_at,
    targets,
    validate,
)
from kodama.syntax.languages import LANGUAGES

# ------------------------------------------------------------------ snippets
# For every language: a realistic snippet and, in source order, every target it has as
# (kind, name, parameters, returns_value, docstring).
SNIPPETS: dict[str, tuple[str, list[tuple[str, str, tuple[str, ...], bool, str | None]]]] = {
    "python": (
        '''"""Shapes."""

import math


class Circle:
    """A circle.

    Attributes:
        radius: Its radius.
    """

    def __init__(self, radius: float) -> None:
        self.radius = radius

    @property
    def area(self):
        return math.pi * self.radius ** 2


def scale(shape, factor=2, *rest, strict: bool = False, **options):
    """Scale a shape."""
    if factor <= 0:
        raise ValueError(f"bad factor {factor}")
    return shape


def log(message):
    print(message)
''',
        [
            ("class", "Circle", (), False, "A circle.\n\nAttributes:\n    radius: Its radius."),
            ("method", "__init__", ("radius",), False, None),
            ("method", "area", (), True, None),
            ("function", "scale", ("shape", "factor", "rest", "strict", "options"), True,
             "Scale a shape."),
            ("function", "log", ("message",), False, None),
        ],
    ),
    "javascript": (
        '''import { clamp } from "./math.js";

/**
 * Add two numbers.
 * @param {number} a
 */
export function add(a, b = 0) {
  return a + b;
}

class Counter {
  constructor(start) {
    this.value = start;
  }

  increment(step, ...more) {
    this.value += step;
  }
}

const double = (x) => x * 2;
''',
        [
            ("function", "add", ("a", "b"), True, "Add two numbers.\n@param {number} a"),
            ("class", "Counter", (), False, None),
            ("method", "constructor", ("start",), False, None),
            ("method", "increment", ("step", "more"), False, None),
            ("function", "double", ("x",), True, None),
        ],
    ),
    "typescript": (
        '''export interface Point {
  x: number;
  y: number;
}

// Distance between two points.
export function distance(a: Point, b?: Point): number {
  const other = b ?? { x: 0, y: 0 };
  return Math.hypot(a.x - other.x, a.y - other.y);
}

export class Logger {
  log(message: string, ...args: unknown[]): void {
    console.log(message, ...args);
  }
}
''',
        [
            ("class", "Point", (), False, None),
            ("function", "distance", ("a", "b"), True, "Distance between two points."),
            ("class", "Logger", (), False, None),
            ("method", "log", ("message", "args"), False, None),
        ],
    ),
    "go": (
        '''package shapes

import "math"

// Circle is a round shape.
type Circle struct {
	Radius float64
}

// Area returns the area of c.
func (c Circle) Area() float64 {
	return math.Pi * c.Radius * c.Radius
}

func Scale(c *Circle, factor float64, tags ...string) {
	c.Radius *= factor
}
''',
        [
            ("class", "Circle", (), False, "Circle is a round shape."),
            ("method", "Area", (), True, "Area returns the area of c."),
            ("function", "Scale", ("c", "factor", "tags"), False, None),
        ],
    ),
    "rust": (
        '''use std::fmt;

/// A point in the plane.
#[derive(Debug, Clone)]
pub struct Point {
    x: f64,
    y: f64,
}

impl Point {
    pub fn new(x: f64, y: f64) -> Self {
        Point { x, y }
    }

    /// Move the point.
    pub fn shift(&mut self, dx: f64, mut dy: f64) {
        dy += 0.0;
        self.x += dx;
        self.y += dy;
    }
}

pub enum Shape {
    Dot(Point),
}
''',
        [
            ("class", "Point", (), False, "A point in the plane."),
            ("method", "new", ("x", "y"), True, None),
            ("method", "shift", ("dx", "dy"), False, "Move the point."),
            ("class", "Shape", (), False, None),
        ],
    ),
    "java": (
        '''package shapes;

/** A rectangle. */
public class Rect {
    private final int width;

    public Rect(int width) {
        this.width = width;
    }

    /**
     * The area.
     */
    @Override
    public int area(int height) {
        return width * height;
    }

    public void print(String... labels) throws java.io.IOException {
        System.out.println(labels);
    }
}
''',
        [
            ("class", "Rect", (), False, "A rectangle."),
            ("method", "Rect", ("width",), False, None),
            ("method", "area", ("height",), True, "The area."),
            ("method", "print", ("labels",), False, None),
        ],
    ),
    "c": (
        '''#include <stdio.h>

/**
 * A 2D vector.
 */
struct vec {
    double x, y;
};

/** Sum of the first n values. */
static int sum(const int *values, int n) {
    int total = 0;
    for (int i = 0; i < n; i++) total += values[i];
    return total;
}

void print_all(char **lines, int count) {
    for (int i = 0; i < count; i++) puts(lines[i]);
}
''',
        [
            ("class", "vec", (), False, "A 2D vector."),
            ("function", "sum", ("values", "n"), True, "Sum of the first n values."),
            ("function", "print_all", ("lines", "count"), False, None),
        ],
    ),
    "cpp": (
        '''#include <string>

namespace geo {

/// A named place.
class Place {
public:
    explicit Place(const std::string& name) : name_(name) {}

    /// Its name.
    const std::string& name() const { return name_; }

    void rename(const std::string& name, bool force = false) {
        if (!force && name.empty()) throw std::invalid_argument("empty");
        name_ = name;
    }

private:
    std::string name_;
};

}  // namespace geo
''',
        [
            ("class", "Place", (), False, "A named place."),
            ("method", "Place", ("name",), False, None),
            ("method", "name", (), True, "Its name."),
            ("method", "rename", ("name", "force"), False, None),
        ],
    ),
}

BODY = "Do the thing.\n\nLonger explanation, with an indented list:\n    - one\n    - two"


def summary(target: Target) -> tuple[str, str, tuple[str, ...], bool, str | None]:
    return (target.kind, target.name, target.parameters, target.returns_value, target.docstring)


def only(language: str, text: str, name: str, kind: str | None = None) -> Target:
    found = [t for t in targets(language, text) if t.name == name and kind in (None, t.kind)]
    assert len(found) == 1, found
    return found[0]


def documented(language: str, text: str, name: str, body: str) -> str:
    """*text* with *body* rendered for the target *name*; checked to be valid."""
    edit = render(only(language, text, name), text, body)
    assert validate(language, text, edit)
    return apply(text, edit)


# ---------------------------------------------------------------------- queries
@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_language_has_a_docs_query(language: str) -> None:
    assert load_query("docs", language) is not None


# ---------------------------------------------------------------------- targets
@pytest.mark.parametrize("language", sorted(SNIPPETS))
def test_snippet_parses_and_targets_are_found(language: str) -> None:
    text, expected = SNIPPETS[language]
    assert count_errors(language, text) == 0
    assert [summary(t) for t in targets(language, text)] == expected


@pytest.mark.parametrize("language", sorted(SNIPPETS))
def test_round_trip_for_every_target(language: str) -> None:
    """Documenting any target gives a file that parses, whose re-extracted documentation is the
    body, and where every other target keeps its own documentation."""
    text, expected = SNIPPETS[language]
    for kind, name, _, _, _ in expected:
        body = f"{name} does the thing.\n\nMore about it:\n    - a detail"
        edit = render(only(language, text, name, kind), text, body)
        assert validate(language, text, edit)
        out = apply(text, edit)
        assert count_errors(language, out) == 0, out
        after = {t.name + t.kind: t.docstring for t in targets(language, out)}
        assert after[name + kind] == body, out
        others = {n + k: d for k, n, _, _, d in expected if (k, n) != (kind, name)}
        assert {key: after[key] for key in others} == others


def test_tsx_uses_the_typescript_query() -> None:
    text = (
        "/** A button. */\nexport function Button(props: Props) {\n"
        "  return <b>{props.x}</b>;\n}\n"
    )
    (target,) = targets("tsx", text)
    assert summary(target) == ("function", "Button", ("props",), True, "A button.")
    out = documented("tsx", text, "Button", "A bold button.")
    assert out.startswith("/** A bold button. */\nexport function Button")


def test_unknown_language_has_no_targets() -> None:
    assert targets("cobol", "IDENTIFICATION DIVISION.") == []
    assert target_at("cobol", "IDENTIFICATION DIVISION.", 3) is None


def test_target_fields() -> None:
    text = "import os\n\n@cache\n@other(1)\ndef f(a: int) -> int:\n    return a\n"
    (target,) = targets("python", text)
    assert target.start_byte == text.index("@cache")  # decorators included
    assert target.end_byte == len(text) - 1
    assert target.line == 4
    assert target.signature == "def f(a: int) -> int:"
    assert target.language == "python"


def test_python_parameters() -> None:
    text = (
        "class A:\n"
        "    def m(self, a, /, b: int, *args: str, c=1, d: int = 2, **kwargs): pass\n"
        "    @classmethod\n"
        "    def k(cls, x=lambda y: y): pass\n"
        "def free(self_made, *, key): pass\n"
    )
    found = {t.name: t.parameters for t in targets("python", text)}
    assert found == {
        "A": (),
        "m": ("a", "b", "args", "c", "d", "kwargs"),
        "k": ("x",),
        "free": ("self_made", "key"),
    }


def test_parameters_skip_destructuring_receivers_and_nested_lists() -> None:
    js = "function f({ a, b }, [c], d = (e) => e, ...rest) {}\n"
    assert only("javascript", js, "f").parameters == ("d", "rest")
    go = "package p\n\nfunc (s *Server) Handle(w Writer, r *Request) {}\n"
    assert only("go", go, "Handle").parameters == ("w", "r")
    c = "int apply(int (*op)(int left, int right), int *values[], int n) { return 0; }\n"
    assert only("c", c, "apply").parameters == ("op", "values", "n")
    rust = "fn f((a, b): (i32, i32), c: i32) {}\n"
    assert only("rust", rust, "f").parameters == ("c",)


def test_python_returns_value() -> None:
    text = '''
def nothing():
    return

def inner_only():
    def helper():
        return 1
    f = lambda: 2
    class K:
        def m(self):
            return 3

def generator():
    yield 1

def value(x):
    if x:
        return x
'''
    found = {t.name: t.returns_value for t in targets("python", text)}
    assert found == {"nothing": False, "inner_only": False, "helper": True, "K": False,
                     "m": True, "generator": True, "value": True}


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("typescript", "function a(): void {}\nfunction b(): number { throw 1; }\n"
         "function c() { return; }\nconst d = () => 1;\n",
         {"a": False, "b": True, "c": False, "d": True}),
        ("javascript",
         "function a() { return () => 1; }\nfunction b() { return [].map(x => x); }\n",
         {"a": True, "b": True}),
        ("javascript", "function a() { const g = () => { return 1; }; }\n",
         {"a": False, "g": True}),
        ("go", "package p\n\nfunc a() {}\nfunc b() error { panic(1) }\n"
         "func c() { f := func() int { return 1 }; f() }\n",
         {"a": False, "b": True, "c": False}),
        ("rust", "fn a() {}\nfn b() -> () {}\nfn c() -> i32 { 1 }\n"
         "fn d() { let f = || { return 1; }; }\n",
         {"a": False, "b": False, "c": True, "d": False}),
        ("java", "class A { void a() {} int b() { return 1; } A() {} }\n",
         {"A": False, "a": False, "b": True}),
        ("c", "void a(void) {}\nvoid *b(void) { return 0; }\nint c(void) { return 1; }\n",
         {"a": False, "b": True, "c": True}),
        ("cpp", "void a() {}\nint& b(int& x) { return x; }\n"
         "void c() { auto f = [] { return 1; }; }\n",
         {"a": False, "b": True, "c": False}),
    ],
)
def test_returns_value(language: str, text: str, expected: dict[str, bool]) -> None:
    assert count_errors(language, text) == 0
    assert {t.name: t.returns_value for t in targets(language, text)} == expected


def test_python_raises() -> None:
    text = '''
def f(x):
    if x:
        raise ValueError("x")
    try:
        pass
    except OSError as exc:
        raise
    except KeyError as exc:
        raise exc
    raise errors.ConfigError from None
    raise ValueError
    def g():
        raise TypeError()
'''
    found = {t.name: t.raises for t in targets("python", text)}
    assert found == {"f": ("ValueError", "errors.ConfigError"), "g": ("TypeError",)}


def test_raises_in_other_languages() -> None:
    js = "function f() { if (x) throw new RangeError('x'); throw err; }\n"
    assert only("javascript", js, "f").raises == ("RangeError",)
    java = "class A { void f() throws IOException { throw new IllegalStateException(); } }\n"
    assert only("java", java, "f").raises == ("IOException", "IllegalStateException")
    assert only("go", SNIPPETS["go"][0], "Scale").raises == ()


# ------------------------------------------------------------ documentation found
def test_documentation_must_touch_the_definition() -> None:
    js = (
        "/** Separated. */\n\nfunction f() {}\n"
        "// Above x.\nlet x = 1; // not above g\nfunction g() {}\n"
    )
    assert only("javascript", js, "f").docstring is None
    assert only("javascript", js, "g").docstring is None


def test_run_of_line_comments_and_plain_block_comments() -> None:
    js = "// First line.\n// Second line.\nfunction f() {}\n/* Not doc. */\nfunction g() {}\n"
    assert only("javascript", js, "f").docstring == "First line.\nSecond line."
    assert only("javascript", js, "g").docstring is None
    c = "/* Plain block\n   comment. */\nint f(void) { return 1; }\n"
    assert only("c", c, "f").docstring == "Plain block\ncomment."


def test_jsdoc_above_export_and_decorators_counts() -> None:
    ts = (
        "/** Exported. */\nexport function f() {}\n"
        "/** Component. */\n@Component({})\nexport class C {\n"
        "  /** Member. */\n  @Input()\n  m() {}\n}\n"
    )
    found = {t.name: t.docstring for t in targets("typescript", ts)}
    assert found == {"f": "Exported.", "C": "Component.", "m": "Member."}


def test_rust_documentation_kinds() -> None:
    rust = (
        "/// Line doc.\n#[inline]\n#[must_use]\nfn a() {}\n"
        "/** Block doc. */\nfn b() {}\n"
        "// Plain comment.\nfn c() {}\n"
        "//// Not doc either.\nfn d() {}\n"
    )
    found = {t.name: t.docstring for t in targets("rust", rust)}
    assert found == {"a": "Line doc.", "b": "Block doc.", "c": None, "d": None}


def test_go_directives_are_not_documentation() -> None:
    go = (
        "package p\n\n// Fast adds.\n//go:noinline\nfunc Fast() {}\n\n"
        "//go:noinline\nfunc Slow() {}\n"
    )
    assert only("go", go, "Fast").docstring == "Fast adds."
    assert only("go", go, "Slow").docstring is None
    out = documented("go", go, "Slow", "Slow adds slowly.")
    assert "// Slow adds slowly.\n//go:noinline\nfunc Slow() {}" in out


def test_python_docstring_forms() -> None:
    text = (
        "def a():\n    r'''Raw \\d.'''\n"
        "def b():\n    'Single.'\n"
        "def c():\n    u\"Unicode.\"\n"
        "def d():\n    f'Not {a} docstring.'\n"
        "def e():\n    x = 1\n    'Not first.'\n"
        "def g():\n    \"\"\"\n    Starts on the next line.\n\n    Two paragraphs.\n    \"\"\"\n"
    )
    found = {t.name: t.docstring for t in targets("python", text)}
    assert found == {
        "a": "Raw \\d.",
        "b": "Single.",
        "c": "Unicode.",
        "d": None,
        "e": None,
        "g": "Starts on the next line.\n\nTwo paragraphs.",
    }


def test_python_docstrings_of_a_file() -> None:
    text = '''"""Module."""

class A:
    """Class."""

    def m(self):
        """Method."""
        if True:
            "not a docstring"

def f():
    x = "not one either"
    return x

def g():
    """Function."""
'''
    assert python_docstrings(text) == ["Module.", "Class.", "Method.", "Function."]
    assert python_docstrings("x = 1\n") == []


# ------------------------------------------------------------------- target_at
def test_target_at_is_innermost() -> None:
    text = '''class Shape:
    sides = 0

    def area(self):
        def helper():
            return 1
        return helper()

value = 1
'''
    assert name_at("python", text, "sides") == "Shape"
    assert name_at("python", text, "def area") == "area"
    assert name_at("python", text, "return helper") == "area"
    assert name_at("python", text, "return 1") == "helper"
    assert name_at("python", text, "value") is None
    start = target_at("python", text, -5)  # clamped to the start of the text
    assert start is not None and start.name == "Shape"
    assert target_at("python", text, len(text) + 10) is None


def name_at(language: str, text: str, needle: str) -> str | None:
    target = target_at(language, text, text.index(needle))
    return None if target is None else target.name


def test_target_at_in_java_and_javascript_classes() -> None:
    java = SNIPPETS["java"][0]
    assert name_at("java", java, "width * height") == "area"
    assert name_at("java", java, "private final") == "Rect"
    assert name_at("java", java, "package") is None
    js = SNIPPETS["javascript"][0]
    assert name_at("javascript", js, "this.value +=") == "increment"
    assert name_at("javascript", js, "constructor") == "constructor"
    assert name_at("javascript", js, "import") is None


def test_offsets_are_code_points_with_non_ascii_text_before() -> None:
    text = '# Größe: 📐 — ünïcödé\nNAME = "日本語"\n\ndef größe(wert):\n    return wert * 2\n'
    offset = text.index("return")
    target = target_at("python", text, offset)
    assert target is not None and target.name == "größe"
    assert target.parameters == ("wert",)
    assert target.line == 3
    assert text.encode("utf-8")[target.start_byte:].startswith(b"def gr\xc3\xb6\xc3\x9fe")
    assert target_at("python", text, text.index("日本")) is None
    edit = render(target, text, "Double the size.")
    assert edit.start == edit.end == offset
    out = apply(text, edit)
    assert out.endswith('def größe(wert):\n    """Double the size."""\n    return wert * 2\n')
    go = "package p\n\n// Größe — 📐\nvar x = \"ü\"\n\nfunc Größe() int { return 1 }\n"
    out = documented("go", go, "Größe", "Größe returns the size.")
    assert out.endswith(
        'var x = "ü"\n\n// Größe returns the size.\nfunc Größe() int { return 1 }\n'
    )


# ---------------------------------------------------------------- Python render
def test_python_one_liner_function_is_split() -> None:
    text = "def f(): return 1\n"
    out = documented("python", text, "f", "Return one.")
    assert out == 'def f():\n    """Return one."""\n    return 1\n'
    text = "class A:\n    def f(self): a = 1; return a\n"
    out = documented("python", text, "f", "Return one.\n\nReally.")
    assert out == (
        "class A:\n    def f(self):\n"
        '        """Return one.\n\n        Really.\n        """\n'
        "        a = 1; return a\n"
    )


def test_python_one_liner_class() -> None:
    out = documented("python", "class Empty: pass\n", "Empty", "Nothing inside.")
    assert out == 'class Empty:\n    """Nothing inside."""\n    pass\n'


def test_python_method_multi_line_docstring() -> None:
    text = "class A:\n    @staticmethod\n    def f(x):\n        return x\n"
    out = documented("python", text, "f", "Identity.\n\nArgs:\n    x: Anything.")
    assert out == (
        "class A:\n    @staticmethod\n    def f(x):\n"
        '        """Identity.\n\n        Args:\n            x: Anything.\n        """\n'
        "        return x\n"
    )


def test_python_class_docstring() -> None:
    text = "class Base:\n    x = 1\n"
    out = documented("python", text, "Base", "The base.")
    assert out == 'class Base:\n    """The base."""\n    x = 1\n'
    assert only("python", out, "Base").docstring == "The base."


def test_python_existing_docstring_is_replaced() -> None:
    text = "def f():\n    r'''Old\n    text.'''\n    return 1\n"
    edit = render(only("python", text, "f"), text, "New text.")
    assert text[edit.start:edit.end] == "r'''Old\n    text.'''"
    assert apply(text, edit) == 'def f():\n    """New text."""\n    return 1\n'
    inline = 'def f(): "Old."; return 1\n'
    out = documented("python", inline, "f", "New.")
    assert out == 'def f():\n    """New."""\n    return 1\n'
    alone = 'def f(): "Old."\n'
    assert documented("python", alone, "f", "New.") == 'def f():\n    """New."""\n'


@pytest.mark.parametrize(
    ("body", "literal"),
    [
        ('Say """hi""" twice.', '"""Say \\"\\"\\"hi\\"\\"\\" twice."""'),
        ('Ends with a "quote"', '"""Ends with a "quote\\""""'),
        ("Match \\d+ digits.", 'r"""Match \\d+ digits."""'),
        ("Ends with a backslash \\", '"""Ends with a backslash \\\\"""'),
        ('Both \\n and """.', '"""Both \\\\n and \\"\\"\\"."""'),
    ],
)
def test_python_escaping(body: str, literal: str) -> None:
    text = "def f():\n    pass\n"
    out = documented("python", text, "f", body)
    assert out == f"def f():\n    {literal}\n    pass\n"
    module = ast.parse(out)
    function = module.body[0]
    assert isinstance(function, ast.FunctionDef)
    assert ast.get_docstring(function) == body
    assert only("python", out, "f").docstring == body


def test_python_multi_line_escaping_round_trips() -> None:
    body = 'First "line".\n\nA path C:\\temp\\ and """quotes""" end"'
    out = documented("python", "def f():\n    pass\n", "f", body)
    assert only("python", out, "f").docstring == body
    function = ast.parse(out).body[0]
    assert isinstance(function, ast.FunctionDef)
    assert ast.get_docstring(function) == body


def test_python_tab_indentation() -> None:
    text = "class A:\n\tdef f(self):\n\t\treturn 1\n\tdef g(self): return 2\n"
    out = documented("python", text, "f", "One.\n\nMore.")
    assert out == (
        'class A:\n\tdef f(self):\n\t\t"""One.\n\n\t\tMore.\n\t\t"""\n\t\treturn 1\n'
        "\tdef g(self): return 2\n"
    )
    out = documented("python", text, "g", "Two.")
    assert out.endswith('\tdef g(self):\n\t\t"""Two."""\n\t\treturn 2\n')
    assert count_errors("python", out) == 0


def test_python_two_space_indentation_for_one_liners() -> None:
    text = "def f():\n  return 1\ndef g(): return 2\n"
    out = documented("python", text, "g", "Two.")
    assert out.endswith('def g():\n  """Two."""\n  return 2\n')


def test_python_crlf_newlines_are_kept() -> None:
    text = "def f():\r\n    return 1\r\n"
    out = documented("python", text, "f", "One.\n\nMore.")
    assert out == 'def f():\r\n    """One.\r\n\r\n    More.\r\n    """\r\n    return 1\r\n'
    assert only("python", out, "f").docstring == "One.\n\nMore."


def test_python_decorated_function_keeps_decorators_above() -> None:
    text = "@app.route('/')\n@login_required\ndef index(request):\n    return 'hi'\n"
    out = documented("python", text, "index", "Home page.")
    assert out == (
        "@app.route('/')\n@login_required\ndef index(request):\n"
        '    """Home page."""\n    return \'hi\'\n'
    )


def test_body_is_normalized() -> None:
    out = documented("python", "def f():\n    pass\n", "f", "\n\n   Summary.   \n\n   Details.\n\n")
    assert only("python", out, "f").docstring == "Summary.\n\nDetails."


# ------------------------------------------------------------- comment render
def test_jsdoc_goes_above_export_and_decorators() -> None:
    ts = "@Injectable()\nexport class Service {\n  @Get()\n  fetch(id: string) {}\n}\n"
    out = documented("typescript", ts, "Service", "A service.")
    assert out.startswith("/** A service. */\n@Injectable()\nexport class Service {")
    out = documented("typescript", ts, "fetch", "Fetch one.\n\n@param id The id.")
    assert "  /**\n   * Fetch one.\n   *\n   * @param id The id.\n   */\n  @Get()\n  fetch(" in out
    js = "export default class A {}\nexport const f = () => 1;\n"
    out = documented("javascript", js, "f", "One.")
    assert out.endswith("/** One. */\nexport const f = () => 1;\n")


def test_jsdoc_escapes_comment_end() -> None:
    js = "function f() {}\n"
    out = documented("javascript", js, "f", "Matches a */ b and /* c.")
    assert out == "/** Matches a *\\/ b and /* c. */\nfunction f() {}\n"
    assert count_errors("javascript", out) == 0
    assert only("javascript", out, "f").docstring == "Matches a */ b and /* c."


def test_jsdoc_replaces_existing_documentation() -> None:
    js = "  /**\n   * Old.\n   */\n  function f() {}\n"
    out = documented("javascript", js, "f", "New.\n\nLonger.")
    assert out == "  /**\n   * New.\n   *\n   * Longer.\n   */\n  function f() {}\n"


def test_java_javadoc_above_annotations() -> None:
    java = (
        "class A {\n    @Override\n    @Deprecated\n"
        "    public String toString() { return \"a\"; }\n}\n"
    )
    out = documented("java", java, "toString", "Text form.")
    assert out == (
        "class A {\n    /** Text form. */\n    @Override\n    @Deprecated\n"
        "    public String toString() { return \"a\"; }\n}\n"
    )
    (method,) = [t for t in targets("java", out) if t.kind == "method"]
    assert method.docstring == "Text form."


def test_go_prefixes_the_name() -> None:
    go = "package p\n\nfunc Add(a, b int) int { return a + b }\n"
    out = documented("go", go, "Add", "Returns the sum.\n\nIt never overflows.")
    assert out.endswith(
        "// Add returns the sum.\n//\n// It never overflows.\n"
        "func Add(a, b int) int { return a + b }\n"
    )
    assert "\n// Add sums.\nfunc Add(" in documented("go", go, "Add", "Add sums.")
    assert "\n// Add HTTP-safe sum.\nfunc Add(" in documented("go", go, "Add", "HTTP-safe sum.")
    typ = "package p\n\ntype Reader struct{}\n"
    assert "// A Reader reads.\ntype Reader" in documented("go", typ, "Reader", "A Reader reads.")


def test_go_grouped_type_spec() -> None:
    go = "package p\n\ntype (\n\t// A is first.\n\tA struct{}\n\tB struct{}\n)\n"
    assert only("go", go, "A").docstring == "A is first."
    out = documented("go", go, "B", "B is second.")
    assert out == (
        "package p\n\ntype (\n\t// A is first.\n\tA struct{}\n"
        "\t// B is second.\n\tB struct{}\n)\n"
    )


def test_rust_doc_goes_above_attributes() -> None:
    rust = "#[derive(Debug)]\n#[repr(C)]\nstruct P { x: i32 }\n"
    out = documented("rust", rust, "P", "A point.\n\nPacked.")
    assert out == (
        "/// A point.\n///\n/// Packed.\n#[derive(Debug)]\n#[repr(C)]\nstruct P { x: i32 }\n"
    )
    assert only("rust", out, "P").docstring == "A point.\n\nPacked."
    existing = "/// Old.\n#[derive(Debug)]\nstruct P;\n"
    assert documented("rust", existing, "P", "New.") == "/// New.\n#[derive(Debug)]\nstruct P;\n"


@pytest.mark.parametrize(
    ("language", "documented_above", "expected"),
    [
        ("c", "/** Old. */\n", "/** New. */\n"),
        ("c", "// Old.\n", "// New.\n"),
        ("cpp", "/// Old.\n", "/// New.\n"),
        ("cpp", "/* Old. */\n", "/** New. */\n"),
        ("c", "", "/** New. */\n"),
    ],
)
def test_c_follows_the_file_style(language: str, documented_above: str, expected: str) -> None:
    text = f"{documented_above}int a(void) {{ return 1; }}\n\nint b(void) {{ return 2; }}\n"
    out = documented(language, text, "b", "New.")
    assert out.endswith(f"\n{expected}int b(void) {{ return 2; }}\n")


def test_c_multi_line_style_and_template() -> None:
    cpp = "/// Doc one.\nint a() { return 1; }\n\ntemplate <typename T>\nT b(T x) { return x; }\n"
    out = documented("cpp", cpp, "b", "Identity.\n\nFor any T.")
    assert out.endswith("/// Identity.\n///\n/// For any T.\ntemplate <typename T>\nT b(T x)"
                        " { return x; }\n")
    c = "int f(void) { return 1; }\n"
    out = documented("c", c, "f", "One.\n\nAlways.")
    assert out == "/**\n * One.\n *\n * Always.\n */\nint f(void) { return 1; }\n"


def test_definition_sharing_a_line_gets_its_own_comment_line() -> None:
    c = "int x; int f(void) { return x; }\n"
    out = documented("c", c, "f", "Read x.")
    assert out == "int x;\n/** Read x. */\nint f(void) { return x; }\n"
    assert only("c", out, "f").docstring == "Read x."


# -------------------------------------------------------------- render errors
def test_render_rejects_blank_bodies_and_stale_targets() -> None:
    text = "def f():\n    pass\n"
    target = only("python", text, "f")
    with pytest.raises(ValueError, match="blank"):
        render(target, text, " \n\n ")
    with pytest.raises(ValueError, match="not a target"):
        render(target, "x = 1\n" + text, "Doc.")


def test_convention_does_not_change_the_layout() -> None:
    text = "def f(a):\n    return a\n"
    target = only("python", text, "f")
    plain = render(target, text, "Identity.")
    assert render(target, text, "Identity.", convention="numpy") == plain
    assert plain.new_text.startswith('"""Identity."""')


# --------------------------------------------------------------------- validate
def test_validate_and_apply() -> None:
    text = "def f():\n    return 1\n"
    good = render(only("python", text, "f"), text, "One.")
    assert validate("python", text, good)
    bad = DocEdit(good.start, good.start, '"""unterminated\n')
    assert not validate("python", text, bad)
    assert apply("abcdef", DocEdit(1, 3, "XY")) == "aXYdef"
    assert apply("abc", DocEdit(3, 3, "!")) == "abc!"
    assert not validate("cobol", text, good)
    broken = "def f(:\n    return 1\n"  # already broken: not made worse by a comment
    assert validate("python", broken, DocEdit(0, 0, "# note\n"))


# ------------------------------------------------------------------ conventions
GOOGLE = "Sum.\n\nArgs:\n    a: First.\n\nReturns:\n    The sum."
GOOGLE_RAISES = "Check.\n\nRaises:\n    ValueError: When bad."
NUMPY = "Sum.\n\nParameters\n----------\na : int\n    First.\n\nReturns\n-------\nint"
REST = "Sum.\n\n:param a: First.\n:returns: The sum.\n:raises ValueError: When bad."
PLAIN = "Just prose, with a colon: here."


@pytest.mark.parametrize(
    ("docs", "expected"),
    [
        ([GOOGLE], "google"),
        ([GOOGLE_RAISES], "google"),
        ([NUMPY], "numpy"),
        ([REST], "rest"),
        ([PLAIN], "plain"),
        ([], "plain"),
        ([PLAIN, PLAIN, PLAIN, REST], "rest"),  # plain docstrings do not vote
        ([GOOGLE, NUMPY, NUMPY, REST], "numpy"),
        ([REST, GOOGLE, REST, GOOGLE_RAISES, REST], "rest"),
        ([NUMPY, GOOGLE], "google"),  # ties: google, then numpy, then rest
        ([REST, NUMPY], "numpy"),
        ([REST, GOOGLE, NUMPY], "google"),
    ],
)
def test_detect_convention(docs: list[str], expected: str) -> None:
    assert detect_convention(docs) == expected
    assert detect_convention(iter(docs)) == expected  # any iterable, read once


def test_detect_convention_from_files() -> None:
    numpy_file = f'def f(a):\n    """{NUMPY}\n    """\n\ndef g():\n    """{PLAIN}"""\n'
    google_file = f'def h(a):\n    """{GOOGLE}\n    """\n'
    found = python_docstrings(numpy_file) + python_docstrings(numpy_file)
    found += python_docstrings(google_file)
    assert detect_convention(found) == "numpy"
    assert docstrings.CONVENTIONS == ("google", "numpy", "rest", "plain")
