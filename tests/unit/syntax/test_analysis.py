"""Tests for kodama.syntax.analysis: error counting and completion-mode golden cases."""

from __future__ import annotations

import pytest

from kodama.syntax.analysis import completion_mode, count_errors, load_query, parses
from kodama.syntax.document import SyntaxDocument
from kodama.syntax.languages import LANGUAGES, LanguageSpec, get

CURSOR = "█"


def mode_of(language: str | None, marked: str) -> str:
    """completion_mode at the █ marker of *marked* (the marker is removed)."""
    assert marked.count(CURSOR) == 1
    offset = marked.index(CURSOR)
    text = marked.replace(CURSOR, "")
    spec = get(language) if language else None
    mode: str = completion_mode(SyntaxDocument("file:///x", text, spec), offset)
    return mode


# ------------------------------------------------------------------ count_errors
@pytest.mark.parametrize(
    ("language", "good", "bad"),
    [
        ("python", "def f(x):\n    return x\n", "def f(x:\n    return x\n"),
        ("javascript", "const a = [1, 2];\n", "const a = [1, 2;\n"),
        ("typescript", "let a: number = 1;\n", "let a: = 1;\n"),
        ("tsx", "const e = <div>{x}</div>;\n", "const e = <div>{x</div>;\n"),
        (
            "go",
            "package m\n\nfunc f() int { return 1 }\n",
            "package m\n\nfunc f() int { return 1\n",
        ),
        ("rust", "fn main() { let x = 1; }\n", "fn main() { let x = ; }\n"),
        ("java", "class A { int f() { return 1; } }\n", "class A { int f() { return 1 } }\n"),
        ("c", "int main(void) { return 0; }\n", "int main(void) { return 0 }\n"),
        ("cpp", "int main() { std::vector<int> v; }\n", "int main() { std::vector<int> v }\n"),
    ],
)
def test_count_errors_and_parses(language: str, good: str, bad: str) -> None:
    assert count_errors(language, good) == 0
    assert parses(language, good) is True
    errors = count_errors(language, bad)
    assert errors is not None and errors >= 1
    assert parses(language, bad) is False


def test_count_errors_counts_each_error_and_missing_node() -> None:
    one = count_errors("c", "int f(void) { return 0 }\n")  # MISSING ";"
    two = count_errors("c", "int f(void) { return 0 }\nint g(void) { return 1 }\n")
    assert one == 1
    assert two == 2


def test_count_errors_unknown_language() -> None:
    assert count_errors("cobol", "IDENTIFICATION DIVISION.") is None
    assert parses("cobol", "x") is None


def test_count_errors_without_grammar(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = LanguageSpec("python", "Python", (".py",), ("python",), "#", "no_such_module_xyz")
    monkeypatch.setitem(LANGUAGES, "python", broken)
    assert count_errors("python", "x = 1\n") is None
    assert parses("python", "x = 1\n") is None


def test_count_errors_tolerates_lone_surrogates() -> None:
    assert count_errors("python", 'x = "\ud800"\n') == 0


def test_count_errors_is_thread_safe() -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = ["def f(:\n" if i % 2 else "def f(): pass\n" for i in range(40)]
    expected = [count_errors("python", t) for t in texts]
    assert expected[0] == 0 and (expected[1] or 0) > 0
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda t: count_errors("python", t), texts))
    assert results == expected


# ------------------------------------------------------------------- queries
@pytest.mark.parametrize("language", sorted(LANGUAGES))
@pytest.mark.parametrize("purpose", ["blocks", "literals"])
def test_every_language_has_compiling_queries(language: str, purpose: str) -> None:
    query = load_query(purpose, language)
    assert query is not None
    assert query.pattern_count > 0


def test_load_query_missing() -> None:
    assert load_query("blocks", "cobol") is None
    assert load_query("no-such-purpose", "python") is None


# ---------------------------------------------------------- completion_mode
GOLDEN: list[tuple[str | None, str, str]] = [
    # --- python
    ("python", "def f(x):\n    █", "multi"),
    ("python", "def f(x):\n    █\n", "multi"),
    ("python", "class A:\n    def g(self):  # comment\n        █\n", "multi"),
    ("python", "if x:\n    pass\nelse:\n    █\n", "multi"),
    ("python", "for i in range(3):\n    █\nprint(1)\n", "multi"),
    ("python", "def f(x):\n    y = 1\n    █\nz = 2\n", "multi"),  # end of block
    ("python", "def f(x):\n    if x:\n        y()\n    █\n", "multi"),  # end of outer block
    ("python", "def f(x):\n    a = 1\n    █\n    b = 2\n", "single"),  # mid-block
    ("python", "x = foo(1, █)\n", "single"),  # mid-expression
    ("python", "x = foo(1, 2)█\n", "single"),  # end of a non-empty line
    ("python", "def f(x):\n    return █\n", "single"),
    ("python", 'def f(x):\n    s = "ab█c"\n', "single"),  # inside a string
    ("python", 'def f():\n    s = """doc:\n    █\n    """\n', "single"),  # multi-line string
    ("python", "def f():\n    # a comment ending with a colon:\n    █\n    x = 1\n", "single"),
    ("python", "d = {\n    'a': 1,\n    █\n}\n", "single"),  # inside a dict literal
    ("python", "x = call(\n    a,\n    █\n)\n", "single"),  # inside call arguments
    ("python", "x = 1\n█\ny = 2\n", "single"),  # top level
    ("python", "█", "single"),
    # --- javascript
    ("javascript", "function f(x) {\n  █\n}\n", "multi"),
    ("javascript", "function f(x) {\n  █", "multi"),  # unclosed block
    ("javascript", "class A {\n  █\n}\n", "multi"),
    ("javascript", "function f(x) {\n  const y = 1;\n  █\n}\n", "multi"),  # before '}'
    ("javascript", "function f(x) {\n  const a = 1;\n  █\n  const b = 2;\n}\n", "single"),
    ("javascript", "const y = f(1, █);\n", "single"),
    ("javascript", "const y = 1;█\n", "single"),
    ("javascript", "const s = 'a█b';\n", "single"),
    ("javascript", "const s = `line {\n█\n`;\n", "single"),  # template string
    ("javascript", "/* a {\n█\n*/\n", "single"),  # block comment
    ("javascript", "switch (x) {\n  case 1:\n    █\n}\n", "multi"),
    ("javascript", "f(\n  a,\n  █\n);\n", "single"),
    # --- typescript
    ("typescript", "function f(x: number): number {\n  █\n}\n", "multi"),
    ("typescript", "interface I {\n  █\n}\n", "multi"),
    ("typescript", "let a: number = f(█);\n", "single"),
    ("typescript", "let a: number = 1;█\n", "single"),
    ("typescript", 'let s: string = "x█y";\n', "single"),
    # --- tsx
    ("tsx", "function C(): JSX.Element {\n  █\n}\n", "multi"),
    ("tsx", "const e = <div>{f(█)}</div>;\n", "single"),
    ("tsx", "const e = <div />;█\n", "single"),
    ("tsx", 'const s = "<b>█</b>";\n', "single"),
    # --- go
    ("go", "package m\n\nfunc f(x int) int {\n\t█\n}\n", "multi"),
    ("go", "package m\n\nfunc f(x int) int {\n\ty := x\n\t█\n}\n", "multi"),
    ("go", "package m\n\nfunc f() {\n\tswitch x {\n\tcase 1:\n\t\t█\n\t}\n}\n", "multi"),
    ("go", "package m\n\nvar y = g(1, █)\n", "single"),
    ("go", "package m\n\nvar y = 1█\n", "single"),
    ("go", 'package m\n\nvar s = "a█b"\n', "single"),
    ("go", "package m\n\nvar s = `a {\n█\n`\n", "single"),  # raw string
    # --- rust
    ("rust", "fn f(x: i32) -> i32 {\n    █\n}\n", "multi"),
    ("rust", "impl A {\n    █\n}\n", "multi"),
    ("rust", "fn f() {\n    let a = 1;\n    █\n}\n", "multi"),
    ("rust", "fn f() {\n    let a = 1;\n    █\n    let b = 2;\n}\n", "single"),
    ("rust", "fn f() { let a = g(1, █); }\n", "single"),
    ("rust", "fn f() { let a = 1; }█\n", "single"),
    ("rust", 'fn f() { let s = "a█b"; }\n', "single"),
    # --- java
    ("java", "class A {\n  void f() {\n    █\n  }\n}\n", "multi"),
    ("java", "class A {\n  █\n}\n", "multi"),
    ("java", "class A {\n  void f() {\n    int x = g(1, █);\n  }\n}\n", "single"),
    ("java", "class A {\n  int x = 1;█\n}\n", "single"),
    ("java", 'class A {\n  String s = "a█b";\n}\n', "single"),
    ("java", "class A {\n  /* {\n  █\n  */\n}\n", "single"),
    # --- c
    ("c", "int main(void) {\n    █\n}\n", "multi"),
    ("c", "struct S {\n    █\n};\n", "multi"),
    ("c", "void f(int x) {\n    switch (x) {\n    case 1:\n        █\n    }\n}\n", "multi"),
    ("c", "int main(void) {\n    return g(1, █);\n}\n", "single"),
    ("c", "int x = 1;█\n", "single"),
    ("c", 'const char *s = "a█b";\n', "single"),
    # --- cpp
    ("cpp", "int main() {\n    █\n}\n", "multi"),
    ("cpp", "class A {\npublic:\n    █\n};\n", "multi"),
    ("cpp", "namespace n {\n█\n}\n", "multi"),
    ("cpp", "int main() {\n    int a = 1;\n    █\n}\n", "multi"),
    ("cpp", "int main() {\n    std::cout << f(1, █);\n}\n", "single"),
    ("cpp", "int x = 1;█\n", "single"),
    ("cpp", 'auto s = "a█b";\n', "single"),
    # --- no tree: text fallback (unknown language)
    (None, "begin:\n    █\n", "multi"),
    (None, "call(\n█\n", "multi"),
    (None, "thing {\n  a\n  █\n}\n", "multi"),
    (None, "a = 1\n█\nb = 2\n", "single"),
    (None, "a = f(█)\n", "single"),
]


@pytest.mark.parametrize(
    ("language", "marked", "expected"),
    GOLDEN,
    ids=[f"{lang}-{i}" for i, (lang, _, _) in enumerate(GOLDEN)],
)
def test_completion_mode_golden(language: str | None, marked: str, expected: str) -> None:
    assert mode_of(language, marked) == expected


def test_every_language_has_golden_cases() -> None:
    covered = {lang for lang, _, _ in GOLDEN}
    assert set(LANGUAGES) <= covered
    for lang in LANGUAGES:
        modes = {expected for lang2, _, expected in GOLDEN if lang2 == lang}
        assert modes == {"single", "multi"}, lang


def test_completion_mode_nul_text_uses_text_fallback() -> None:
    doc = SyntaxDocument("file:///a.py", "def f(x):\n    \n\x00", get("python"))
    assert doc.tree is None
    assert completion_mode(doc, len("def f(x):\n    ")) == "multi"
    assert completion_mode(doc, 3) == "single"


def test_completion_mode_clamps_offset() -> None:
    doc = SyntaxDocument("file:///a.py", "def f(x):\n    ", get("python"))
    assert completion_mode(doc, 10_000) == "multi"
    assert completion_mode(doc, -5) == "single"


def test_completion_mode_with_crlf_and_emoji() -> None:
    text = 'def f(x):  # 😀 漢字\r\n    s = "🐍"\r\n    \r\nz = 1\r\n'
    doc = SyntaxDocument("file:///a.py", text, get("python"))
    cursor = text.index("    \r\nz") + 4
    assert completion_mode(doc, cursor) == "multi"
    assert completion_mode(doc, text.index("🐍")) == "single"
