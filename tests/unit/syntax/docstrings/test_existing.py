"""Tests for kodama.syntax.docstrings.existing: documentation a definition already has."""

from __future__ import annotations

from kodama.syntax.docstrings import python_docstrings, targets

from .snippets import documented, only


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
