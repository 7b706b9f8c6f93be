"""The values of the documentation feature: a :class:`Target` found, a :class:`DocEdit` written."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["function", "method", "class"]
"""What a :class:`Target` is."""


@dataclass(frozen=True)
class Target:
    """A function, method or class that documentation can be written for."""

    language: str
    kind: Kind
    name: str
    start_byte: int
    """Start of the definition with what belongs to it before: decorators, annotations,
    attributes, ``export``, ``template <…>``."""
    end_byte: int
    line: int
    """Row (0-based) of the name."""
    parameters: tuple[str, ...]
    """Parameter names in order, without ``self``/``cls``, receivers, ``*``/``/`` markers
    and destructuring patterns; ``*args`` is ``args``."""
    returns_value: bool
    """The body returns (or yields) a value outside nested functions, or — for statically
    typed languages — a return type other than void is declared."""
    raises: tuple[str, ...]
    """Exception classes raised (thrown, declared) by the body itself, each once, in order."""
    docstring: str | None
    """The existing documentation, without quotes or comment markers; None if there is none."""
    signature: str
    """The whole lines of the header, from the definition up to its body."""


@dataclass(frozen=True)
class DocEdit:
    """Replace code points ``[start, end)`` of the text with :attr:`new_text`."""

    start: int
    end: int
    """Equal to :attr:`start` for an insertion."""
    new_text: str
