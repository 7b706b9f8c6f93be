"""Tests for kodama.syntax.docstrings.finding: the targets of a file and the one at a cursor."""

from __future__ import annotations

import pytest

from kodama.syntax.analysis import count_errors, load_query
from kodama.syntax.docstrings import apply, render, target_at, targets, validate
from kodama.syntax.languages import LANGUAGES

from .snippets import SNIPPETS, documented, name_at, only, summary


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


def test_facts_are_looked_up_per_definition_not_per_file(monkeypatch: pytest.MonkeyPatch) -> None:
    # Hover and code actions analyse the whole file on the event loop: comparing every
    # definition with every return and raise of the file was quadratic (an 8,000-line file
    # took 23 s). Count the ownership checks instead of timing them.
    from kodama.syntax.docstrings import finding

    calls = 0
    owned = finding._owned

    def counting(*args: object, **kwargs: object) -> bool:
        nonlocal calls
        calls += 1
        return owned(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(finding, "_owned", counting)
    count = 400
    text = "".join(f"def f{i}(x):\n    if x:\n        raise ValueError(x)\n    return x\n\n"
                   for i in range(count))
    found = targets("python", text)
    assert len(found) == count and all(t.returns_value and t.raises for t in found)
    assert calls <= 4 * count, calls  # a handful per definition, not one per pair


def test_text_that_is_not_the_language_is_not_queried(monkeypatch: pytest.MonkeyPatch) -> None:
    # A log or data file opened as Rust is one huge ERROR node: the docs query over it took
    # seconds on the event loop (3 s for 16,000 lines); such text has nothing to document.
    from kodama.syntax.docstrings import finding

    queried: list[int] = []
    collect = finding._collect
    monkeypatch.setattr(finding, "_collect",
                        lambda query, root: queried.append(root.end_byte) or collect(query, root))
    assert targets("rust", "x = 1\n" * 2000) == [] and queried == []
    # A real file with a syntax error in one place is still queried and keeps its targets.
    broken = "fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n\nfn oops( {\n"
    assert [t.name for t in targets("rust", broken)][:1] == ["add"] and len(queried) == 1
