"""Small text helpers shared by the stop rules and the post-processing filters (pure).

Everything here works on plain strings: lines, indentation, the part of the cursor line
before/after the cursor, and a light bracket scanner that skips string literals and comments
well enough for heuristics (it is not a parser; tree-sitter is used where exactness matters).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from kodama.model.types import CompletionContext

__all__ = [
    "CLOSERS",
    "OPENERS",
    "Bracket",
    "bracket_tokens",
    "comment_start",
    "indent_width",
    "is_closer_line",
    "line_prefix",
    "next_nonblank_line",
    "pop_to",
    "previous_nonblank_lines",
    "rest_of_line",
    "scanned_language",
]

OPENERS = {"(": ")", "[": "]", "{": "}"}
"""Opening bracket → its closing bracket."""
CLOSERS = {v: k for k, v in OPENERS.items()}
"""Closing bracket → its opening bracket."""

_CLOSER_LINE_RE = re.compile(r"[)\]}]+[;,)\]}]*")


def line_prefix(ctx: CompletionContext) -> str:
    """The part of the cursor line before the cursor."""
    prefix: str = ctx.prefix
    return prefix[prefix.rfind("\n") + 1 :]


def rest_of_line(ctx: CompletionContext) -> str:
    """The part of the cursor line after the cursor (the suffix up to its first newline)."""
    suffix: str = ctx.suffix
    end = suffix.find("\n")
    return suffix if end < 0 else suffix[:end]


def indent_width(line: str) -> int:
    """Width of the leading whitespace of ``line`` (a tab counts as 4 columns)."""
    stripped = line.lstrip(" \t")
    return len(line[: len(line) - len(stripped)].expandtabs(4))


def is_closer_line(line: str) -> bool:
    """Whether ``line`` holds only closing brackets (and ``;``/``,``), e.g. ``}``, ``});``."""
    return _CLOSER_LINE_RE.fullmatch(line.strip()) is not None


def next_nonblank_line(text: str, start: int = 0) -> str | None:
    """The first non-blank line (unstripped) of ``text[start:]``, or None.

    Only the lines up to that one are looked at: ``text`` may be a whole file.
    """
    while start <= len(text):
        end = text.find("\n", start)
        if end < 0:
            end = len(text)
        line = text[start:end]
        if line.strip():
            return line
        start = end + 1
    return None


def pop_to(stack: list[tuple[str, int]], opener: str) -> None:
    """Pop a stack of (opener, position) down to and including the innermost ``opener``.

    Nothing happens when ``opener`` is not on the stack (a stray closer).
    """
    for index in range(len(stack) - 1, -1, -1):
        if stack[index][0] == opener:
            del stack[index:]
            return


def previous_nonblank_lines(text: str, count: int) -> list[str]:
    """Up to ``count`` last non-blank complete lines of ``text`` (oldest first).

    The last line of ``text`` (the cursor line when ``text`` is a prefix) is not included.
    """
    out: list[str] = []
    end = text.rfind("\n")
    while end > 0 and len(out) < count:
        start = text.rfind("\n", 0, end) + 1
        line = text[start:end]
        if line.strip():
            out.append(line)
        end = start - 1
    out.reverse()
    return out


@dataclass(frozen=True)
class Bracket:
    """A bracket character found outside strings and comments."""

    char: str
    """One of ``()[]{}``."""
    pos: int
    """Index of the bracket in the scanned text."""


_STRING_DQ = r'"(?:\\.|[^"\\\n])*"?'
_STRING_SQ = r"'(?:\\.|[^'\\\n])*'?"
_BRACKET = r"[()\[\]{}]"

_PATTERNS: dict[str, str] = {
    "python": "|".join(
        [
            r"#[^\n]*",
            r'"""[\s\S]*?(?:"""|$)',
            r"'''[\s\S]*?(?:'''|$)",
            _STRING_DQ,
            _STRING_SQ,
            _BRACKET,
        ]
    ),
    # JavaScript family and Go: template literals / raw strings in backquotes span lines.
    "c-backquote": "|".join(
        [
            r"//[^\n]*",
            r"/\*[\s\S]*?(?:\*/|$)",
            _STRING_DQ,
            _STRING_SQ,
            r"`(?:\\.|[^`\\])*`?",
            _BRACKET,
        ]
    ),
    "c": "|".join([r"//[^\n]*", r"/\*[\s\S]*?(?:\*/|$)", _STRING_DQ, _STRING_SQ, _BRACKET]),
    # Rust: strings may span lines; a quote is a char literal only in 'x' / '\n' form
    # (otherwise it is a lifetime such as 'a and is ignored).
    "rust": "|".join(
        [
            r"//[^\n]*",
            r"/\*[\s\S]*?(?:\*/|$)",
            r'r#*"[\s\S]*?(?:"#*|$)',
            r'"(?:\\.|[^"\\])*"?',
            r"'(?:\\.[^'\n]{0,8}|[^'\\\n])'",
            _BRACKET,
        ]
    ),
    "generic": "|".join([_STRING_DQ, _STRING_SQ, _BRACKET]),
}

_FAMILY = {
    "python": "python",
    "javascript": "c-backquote",
    "typescript": "c-backquote",
    "tsx": "c-backquote",
    "go": "c-backquote",
    "rust": "rust",
    "java": "c",
    "c": "c",
    "cpp": "c",
}


def comment_start(language: str | None, line: str) -> int | None:
    """Where a comment starts in one ``line`` of ``language`` (outside strings), or None."""
    pattern = _token_re(_FAMILY.get(language or "", "generic"))
    for match in pattern.finditer(line):
        if match.group().startswith(("#", "//", "/*")):
            return match.start()
    return None


def scanned_language(language: str | None) -> bool:
    """Whether :func:`bracket_tokens` knows the string and comment syntax of ``language``."""
    return language in _FAMILY


@lru_cache(maxsize=16)
def _token_re(family: str) -> re.Pattern[str]:
    return re.compile(_PATTERNS[family])


def bracket_tokens(language: str | None, text: str) -> Iterator[Bracket]:
    """Brackets of ``text`` in order, skipping string literals and comments.

    The lexical rules are those of ``language`` (an unknown language only skips quoted
    strings). A string or comment left open runs to the end of its line (or of the text for
    block comments and multi-line strings), as an editor mid-typing would show it.
    """
    pattern = _token_re(_FAMILY.get(language or "", "generic"))
    for match in pattern.finditer(text):
        token = match.group()
        if len(token) == 1 and token in "()[]{}":
            yield Bracket(token, match.start())
