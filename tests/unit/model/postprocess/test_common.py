"""Shared helpers: cursor line parts, indentation, closer lines and the bracket scanner."""

from __future__ import annotations

import pytest

from helpers.marked import ctx_from_marked
from kodama.model.postprocess.common import (
    bracket_tokens,
    indent_width,
    is_closer_line,
    line_prefix,
    next_nonblank_line,
    previous_nonblank_lines,
    rest_of_line,
    scanned_language,
)


def brackets_of(language: str | None, text: str) -> str:
    return "".join(token.char for token in bracket_tokens(language, text))


def test_cursor_line_parts() -> None:
    ctx = ctx_from_marked("a = 1\n    b = f(█x)\nc = 2\n", "python")
    assert line_prefix(ctx) == "    b = f("
    assert rest_of_line(ctx) == "x)"
    last = ctx_from_marked("x█", "python")
    assert (line_prefix(last), rest_of_line(last)) == ("x", "")


def test_indent_width_counts_tabs_as_four() -> None:
    assert indent_width("    x") == 4
    assert indent_width("\t\tx") == 8
    assert indent_width("x") == 0


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("}", True),
        ("    });", True),
        ("]),", True),
        ("} else {", False),
        ("x)", False),
        ("", False),
    ],
)
def test_is_closer_line(line: str, expected: bool) -> None:
    assert is_closer_line(line) is expected


def test_neighbouring_lines() -> None:
    assert next_nonblank_line("\n  \n  x = 1\ny") == "  x = 1"
    assert next_nonblank_line("\n \n") is None
    assert previous_nonblank_lines("a\n\nb\nc\ncursor", 2) == ["b", "c"]
    assert previous_nonblank_lines("a\n\nb\ncursor", 5) == ["a", "b"]
    assert previous_nonblank_lines("cursor", 1) == []


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("python", "f(a['(']) # (\nx = [1]", "([])[]"),
        ("python", 'x = """ ( \n [ """ + g()', "()"),
        ("javascript", "f(`(${a}`) /* { */ // [\n{}", "(){}"),
        ("go", "f(`(\n`, '(', \"[\")", "()"),
        ("rust", "fn f<'a>(s: &'a str) { let c = '{'; let d = '\\''; }", "(){}"),
        ("c", "int f(char *s) { return s[0] == '('; }", "(){[]}"),
        (None, "f('(', x[1])", "([])"),
    ],
)
def test_bracket_tokens_skip_strings_and_comments(
    language: str | None, text: str, expected: str
) -> None:
    assert brackets_of(language, text) == expected


def test_positions_and_known_languages() -> None:
    assert [t.pos for t in bracket_tokens("python", "a(b)")] == [1, 3]
    assert scanned_language("tsx")
    assert not scanned_language(None)
    assert not scanned_language("cobol")


def test_next_nonblank_line_from_an_offset() -> None:
    assert next_nonblank_line("a\n\n  b\nc", 2) == "  b"
    assert next_nonblank_line("a\n", 2) is None
