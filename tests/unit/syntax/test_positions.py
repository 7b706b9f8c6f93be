"""Tests for kodama.syntax.positions: UTF-16 / code point / UTF-8 conversions."""

from __future__ import annotations

import random

import pytest

from helpers.lsp_positions import ref_lines, ref_offset, ref_position
from kodama.syntax import positions
from kodama.syntax.positions import (
    LineIndex,
    PositionError,
    advance_point,
    sanitize,
    utf8_len,
    utf16_len,
)

ALPHABET = ["a", "b", " ", "😀", "🐍", "漢", "字", "é", "\n", "\r\n", "\r", "\t", "\ufffd"]


def random_text(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(n))


# ------------------------------------------------------------------- sanitize
def test_sanitize_replaces_lone_surrogates_keeping_lengths() -> None:
    text = "a\ud800b\udfffc😀"
    clean = sanitize(text)
    assert clean == "a\ufffdb\ufffdc😀"
    assert len(clean) == len(text)
    assert utf16_len(clean) == utf16_len(text)
    clean.encode("utf-8")  # no error


def test_sanitize_fast_path_returns_same_object() -> None:
    text = "plain 😀 漢字 text"
    assert sanitize(text) is text
    ascii_text = "x = 1\n"
    assert sanitize(ascii_text) is ascii_text


# ---------------------------------------------------------------- lengths
def test_lengths() -> None:
    assert utf16_len("") == 0
    assert utf16_len("abc") == 3
    assert utf16_len("😀") == 2
    assert utf16_len("漢字😀a") == 5
    assert utf8_len("abc") == 3
    assert utf8_len("é") == 2
    assert utf8_len("漢") == 3
    assert utf8_len("😀") == 4
    assert utf8_len("\ud800") == 3  # counted like its replacement U+FFFD


def test_advance_point() -> None:
    assert advance_point((2, 5), "") == (2, 5)
    assert advance_point((2, 5), "漢😀") == (2, 12)
    assert advance_point((2, 5), "ab\ncd\n漢") == (4, 3)
    assert advance_point((0, 0), "a\r\nb") == (1, 1)
    assert advance_point((0, 0), "a\rb") == (0, 3)  # tree-sitter rows end at '\n' only


# ----------------------------------------------------------------- LineIndex
def test_line_count_and_terminators() -> None:
    assert LineIndex("").line_count == 1
    assert LineIndex("a").line_count == 1
    assert LineIndex("a\n").line_count == 2
    index = LineIndex("a\r\nb\rc\nd")
    assert index.line_count == 4
    assert [index.line_text(i) for i in range(4)] == ["a", "b", "c", "d"]
    assert index.line_start(1) == 3
    assert index.line_end(0) == 1


def test_offset_clamps_character_to_line_content() -> None:
    index = LineIndex("ab\r\ncd\n")
    assert index.offset(0, 2) == 2
    assert index.offset(0, 3) == 2  # not into the "\r\n"
    assert index.offset(0, 1000) == 2
    assert index.offset(1, 1000) == 6
    assert index.offset(2, 0) == 7  # the empty last line is valid
    assert index.offset(2, 5) == 7


def test_offset_rejects_invalid_positions() -> None:
    index = LineIndex("ab\ncd")
    with pytest.raises(PositionError, match="line 2"):
        index.offset(2, 0)
    with pytest.raises(PositionError, match="line -1"):
        index.offset(-1, 0)
    with pytest.raises(PositionError, match="negative character"):
        index.offset(0, -1)
    assert issubclass(PositionError, ValueError)


def test_offset_inside_surrogate_pair_rounds_down() -> None:
    index = LineIndex("x😀y\n😀😀")
    assert index.offset(0, 0) == 0
    assert index.offset(0, 1) == 1
    assert index.offset(0, 2) == 1  # inside the pair
    assert index.offset(0, 3) == 2
    assert index.offset(0, 4) == 3
    assert index.offset(1, 1) == 4
    assert index.offset(1, 2) == 5
    assert index.offset(1, 3) == 5
    assert index.offset(1, 4) == 6
    assert index.offset(1, 9) == 6


def test_position_of_offsets() -> None:
    text = "x😀y\r\n漢\r"
    index = LineIndex(text)
    assert index.position(0) == (0, 0)
    assert index.position(2) == (0, 3)
    assert index.position(3) == (0, 4)
    assert index.position(4) == (0, 4)  # inside "\r\n": end of the content
    assert index.position(5) == (1, 0)
    assert index.position(6) == (1, 1)
    assert index.position(len(text)) == (2, 0)
    assert index.position(10_000) == (2, 0)
    assert index.position(-3) == (0, 0)


@pytest.mark.parametrize("chunk", [1024, 3])
def test_random_round_trips_against_reference(chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(positions, "_CHUNK", chunk)  # exercise the UTF-8 checkpoints
    rng = random.Random(1234)
    for _ in range(150):
        text = random_text(rng, rng.randint(0, 40))
        index = LineIndex(text)
        lines = ref_lines(text)
        assert index.line_count == len(lines)
        for line in range(len(lines)):
            for character in range(0, 2 * (lines[line][1] - lines[line][0]) + 3):
                assert index.offset(line, character) == ref_offset(text, line, character)
        for offset in range(len(text) + 1):
            assert index.position(offset) == ref_position(text, offset)
            assert index.utf16_offset(offset) == utf16_len(text[:offset])
            byte = len(text[:offset].encode())
            assert index.byte_offset(offset) == byte
            assert index.offset_of_byte(byte) == offset
            head = text[:offset]
            point = (head.count("\n"), len(head[head.rfind("\n") + 1 :].encode()))
            assert index.point(offset) == point
            assert index.byte_point(byte) == point
            if text[offset - 1 : offset + 1] != "\r\n":
                assert index.offset_of_point(point) == offset
        assert index.byte_length == len(text.encode())


def test_offset_of_byte_inside_character_rounds_down() -> None:
    index = LineIndex("a漢b")
    assert index.offset_of_byte(1) == 1
    assert index.offset_of_byte(2) == 1
    assert index.offset_of_byte(3) == 1
    assert index.offset_of_byte(4) == 2
    assert index.offset_of_byte(99) == 3


def test_large_text_with_long_lines() -> None:
    """Multi-MB text, including a 1 MB single line, converts correctly (chunked index)."""
    unit = "ab漢😀 "  # 5 code points, 6 UTF-16 units, 10 UTF-8 bytes
    long_line = unit * 200_000
    text = "start\n" + long_line + "\n" + "x = 1\n" * 100_000
    index = LineIndex(text)
    assert index.line_count == 100_003
    k = 123_457
    offset = 6 + 5 * k + 3  # the emoji of unit k on line 1
    assert index.offset(1, 6 * k + 3) == offset
    assert index.offset(1, 6 * k + 4) == offset  # inside its surrogate pair
    assert index.position(offset) == (1, 6 * k + 3)
    assert index.byte_offset(offset) == 6 + 10 * k + 5
    assert index.offset_of_byte(6 + 10 * k + 5) == offset
    assert index.point(offset) == (1, 10 * k + 5)
    last = len(text) - 3
    assert index.position(last) == (100_001, 3)
    assert index.byte_offset(last) == len(text.encode()) - 3
