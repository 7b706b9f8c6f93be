"""Streaming stop rules: golden cases fed token by token, and the incremental contract."""

from __future__ import annotations

import pytest

from helpers.marked import ctx_from_marked
from kodama.model.stops import StopRules
from kodama.model.types import CompletionContext, Mode


def stream(ctx: CompletionContext, generated: str, max_lines: int = 16) -> str:
    """Feed ``generated`` one character at a time, as the engine does per token."""
    rules = StopRules(ctx, max_lines=max_lines)
    for end in range(1, len(generated) + 1):
        text = generated[:end]
        cut = rules.check(text)
        if cut is not None:
            assert 0 <= cut <= len(text)
            return text[:cut]
    return generated


CASES: list[tuple[str, str, str | None, Mode, str, str]] = [
    # (id, marked code, language, mode, generated, expected completion)
    (
        "single-py-newline",
        "x = █\nprint(x)\n",
        "python",
        "single",
        "compute(1)\nprint(x)\n",
        "compute(1)",
    ),
    ("single-leading-newline", "def f():█\n", "python", "single", "\n    return 1\n", ""),
    (
        "single-js-keeps-line",
        "const total = █;\n",
        "javascript",
        "single",
        "a + b;\nconsole.log(total);\n",
        "a + b;",
    ),
    (
        "single-suffix-reproduced",
        "def f(items):\n    total = █compute(items)\n    return total\n",
        "python",
        "single",
        "compute(items)\n",
        "",
    ),
    (
        "multi-py-dedent-new-def",
        "def add(a, b):█\n\n\ndef main():\n    pass\n",
        "python",
        "multi",
        "\n    return a + b\n\ndef sub(a, b):\n    return a - b\n",
        "\n    return a + b",
    ),
    (
        "multi-py-blank-then-body-goes-on",
        "def show(xs):\n    █\n",
        "python",
        "multi",
        "for x in xs:\n        print(x)\n\n    return len(xs)\n",
        "for x in xs:\n        print(x)\n\n    return len(xs)\n",
    ),
    (
        "multi-py-blank-then-new-definition",
        "class A:\n    █\n",
        "python",
        "multi",
        "def a(self):\n        for x in self:\n            print(x)\n\n    def b(self):\n",
        "def a(self):\n        for x in self:\n            print(x)",
    ),
    (
        "multi-py-top-level-blank-then-next-function",
        "█\n",
        "python",
        "multi",
        "def a():\n    return 1\n\n\n@cache\ndef b():\n",
        "def a():\n    return 1",
    ),
    (
        "multi-py-line-equals-suffix",
        "def f(x):\n    █\n    return y\n",
        "python",
        "multi",
        "y = x * 2\n    return y\n",
        "y = x * 2",
    ),
    (
        "multi-py-closing-paren-in-suffix",
        "x = foo(\n    a,█\n)\n",
        "python",
        "multi",
        "\n    b,\n)\ny = 2\n",
        "\n    b,",
    ),
    (
        "multi-py-repeated-line",
        "def f(a):\n    █\n",
        "python",
        "multi",
        "a += 1\n    a += 1\n    a += 1\n    a += 1\n",
        "a += 1\n    a += 1",
    ),
    (
        "multi-js-closer-kept-when-suffix-lacks-it",
        "function f(a) {█\n\nfunction g() {}\n",
        "javascript",
        "multi",
        "\n    return a;\n}\n\nfunction h() {\n",
        "\n    return a;\n}",
    ),
    (
        "multi-js-closer-dropped-when-suffix-has-it",
        "function f(a) {█\n}\n",
        "javascript",
        "multi",
        "\n    return a;\n}\n\nfunction h() {\n",
        "\n    return a;",
    ),
    (
        "multi-js-own-block-closer-kept",
        "function f(x) {\n    █\n}\n",
        "javascript",
        "multi",
        "if (x) {\n        y();\n    }\n    return 1;\n}\n",
        "if (x) {\n        y();\n    }\n    return 1;",
    ),
    (
        "multi-go-enclosing-closer-at-eof",
        "func f() int {\n\tx := 1█\n",
        "go",
        "multi",
        "\n\ty := 2\n\treturn x + y\n}\n\nfunc g() {\n",
        "\n\ty := 2\n\treturn x + y\n}",
    ),
    (
        "multi-rust-closer-in-suffix",
        "fn f(a: bool) {\n    if a {█\n    }\n}\n",
        "rust",
        "multi",
        "\n        b();\n    }\n}\n",
        "\n        b();",
    ),
    (
        "multi-rust-closer-at-wrong-level",
        "fn f(a: bool) {\n    if a {█\n",
        "rust",
        "multi",
        "\n        b();\n}\n",
        "\n        b();",
    ),
    (
        "multi-py-own-signature-goes-on",
        "def lo█\n",
        "python",
        "multi",
        "ad(\n    path: str,\n) -> bytes:\n    return b''\n\ndef save():\n",
        "ad(\n    path: str,\n) -> bytes:\n    return b''",
    ),
    (
        "multi-py-own-if-else-goes-on",
        "def f(x):\n    █\n",
        "python",
        "multi",
        "if x:\n        a()\n    else:\n        b()\n    c()\n",
        "if x:\n        a()\n    else:\n        b()\n    c()\n",
    ),
    (
        "multi-js-own-if-else-goes-on",
        "function f(x) {\n    █\n}\n",
        "javascript",
        "multi",
        "if (x) {\n        a();\n    } else {\n        b();\n    }\n    c();\n",
        "if (x) {\n        a();\n    } else {\n        b();\n    }\n    c();\n",
    ),
    (
        "multi-js-own-call-closed-with-rest",
        "function f() {\n    █\n}\n",
        "javascript",
        "multi",
        "run(() => {\n        go();\n    });\n    stop();\n",
        "run(() => {\n        go();\n    });\n    stop();\n",
    ),
    (
        "multi-py-typed-if-stops-at-else",
        "def f(x):\n    if x:█\n",
        "python",
        "multi",
        "\n        a()\n    else:\n        b()\n",
        "\n        a()",
    ),
    (
        "multi-suffix-start-reproduced-mid-line",
        "def f(items):\n    █\n    log(total, items)\n",
        "python",
        "multi",
        "total = len(items); log(total, items)\n",
        "total = len(items); ",
    ),
]


@pytest.mark.parametrize(
    ("code", "language", "mode", "generated", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_golden(code: str, language: str | None, mode: Mode, generated: str, expected: str) -> None:
    assert stream(ctx_from_marked(code, language, mode), generated) == expected


def test_max_lines() -> None:
    ctx = ctx_from_marked("def f():\n    █", "python", "multi")
    generated = "".join(f"x{i} = {i}\n    " for i in range(30))
    assert stream(ctx, generated, max_lines=4) == "x0 = 0\n    x1 = 1\n    x2 = 2\n    x3 = 3"
    assert stream(ctx, generated, max_lines=1) == "x0 = 0"


def test_max_lines_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_lines"):
        StopRules(ctx_from_marked("█", "python", "multi"), max_lines=0)


def test_continues_until_a_rule_fires() -> None:
    rules = StopRules(ctx_from_marked("def f(a):\n    █\n", "python", "multi"))
    assert rules.check("return") is None
    assert rules.check("return a") is None
    assert rules.check("return a\n") is None
    assert rules.check("return a\n\ndef g") is None
    assert rules.check("return a\n\ndef g():\n") == len("return a")


def test_cut_is_sticky() -> None:
    rules = StopRules(ctx_from_marked("x = █", "python", "single"))
    assert rules.check("1\n") == 1
    assert rules.check("1\ny = 2\n") == 1


def test_unfinished_line_is_not_judged() -> None:
    rules = StopRules(ctx_from_marked("def add(a, b):█\n", "python", "multi"))
    assert rules.check("\n    return a + b\ndef sub(a, b):") is None
    assert rules.check("\n    return a + b\ndef sub(a, b):\n") == len("\n    return a + b")


def test_rebuilds_state_when_text_is_not_a_continuation() -> None:
    rules = StopRules(ctx_from_marked("def f(a):\n    █\n", "python", "multi"))
    assert rules.check("a += 1\n    a += 1\n") is None
    # A re-decoded text that differs in an already judged line starts over.
    assert rules.check("b = 1\n    a += 1\n") is None
    assert rules.check("b = 1\n    a += 1\n    a += 1\n") is None
    assert rules.check("b = 1\n    a += 1\n    a += 1\n    a += 1\n") == len(
        "b = 1\n    a += 1\n    a += 1"
    )


def test_needle_found_across_tokens() -> None:
    ctx = ctx_from_marked("x = █\nresult = compute(x)\n", "python", "multi")
    rules = StopRules(ctx)
    assert rules.check("1; result = comp") is None
    assert rules.check("1; result = compute(x)") == len("1; ")


def test_short_suffix_start_is_not_searched() -> None:
    # ``)`` alone is too common to mean "the model is copying the suffix".
    ctx = ctx_from_marked("print(█)\n", "python", "single")
    assert stream(ctx, "f(x)") == "f(x)"


def test_long_distinct_body_never_stops() -> None:
    ctx = ctx_from_marked("def f():\n    █\n", "python", "multi")
    generated = "".join(f"value_{i} = {i} * {i}\n    " for i in range(1500))
    rules = StopRules(ctx, max_lines=100_000)
    for end in range(1, len(generated) + 1):
        assert rules.check(generated[:end]) is None
