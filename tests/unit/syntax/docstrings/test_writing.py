"""Tests for kodama.syntax.docstrings.writing: documentation written where the language wants it."""

from __future__ import annotations

import ast

import pytest

from kodama.syntax.analysis import count_errors
from kodama.syntax.docstrings import DocEdit, apply, render, targets, validate

from .snippets import documented, only


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
