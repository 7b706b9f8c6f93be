"""Tests for kodama.syntax.document: incremental editing against fresh parses."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
import tree_sitter

from helpers.lsp_positions import ref_position
from kodama.syntax.document import MAX_PARSE_BYTES, SyntaxDocument, TextChange, tree_edit
from kodama.syntax.languages import LANGUAGES, LanguageSpec, get
from kodama.syntax.positions import LineIndex, PositionError

FIXTURES = Path(__file__).parent / "fixtures"
SNIPPETS = {
    "python": "snippet.py",
    "javascript": "snippet.js",
    "typescript": "snippet.ts",
    "tsx": "snippet.tsx",
    "go": "snippet.go",
    "rust": "snippet.rs",
    "java": "snippet.java",
    "c": "snippet.c",
    "cpp": "snippet.cpp",
}
INSERTIONS = [
    "😀",
    "🐍🐍",
    "漢字",
    "x",
    "foo(1, 2)",
    "\n",
    "\r\n",
    "{",
    "}",
    "(",
    '"',
    " ",
    "\t",
    "name",
    "é",
    "// 😀 note\n",
    "a = 1;\n",
    "",
]


NodeInfo = tuple[str, int, int, tuple[int, int], tuple[int, int]]


def nodes(tree: tree_sitter.Tree) -> list[NodeInfo]:
    """Every node of *tree* (pre-order) with its byte range and points."""
    out: list[NodeInfo] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        out.append((node.type, node.start_byte, node.end_byte, node.start_point, node.end_point))
        stack.extend(reversed(node.children))
    return out


def assert_matches_fresh_parse(doc: SyntaxDocument) -> None:
    assert doc.tree is not None and doc.language is not None
    fresh = doc.language.parser().parse(doc.text.encode("utf-8"))
    assert str(doc.tree.root_node) == str(fresh.root_node)
    assert nodes(doc.tree) == nodes(fresh)


def random_change(rng: random.Random, text: str) -> tuple[TextChange, str]:
    """A random LSP change (UTF-16 positions) and the text it should produce."""
    astral = [i for i, ch in enumerate(text) if ord(ch) > 0xFFFF]
    boundaries = [0, len(text)]
    boundaries += [m.start() for m in re.finditer(r"\r\n|\r|\n", text)]

    def pick() -> int:
        roll = rng.random()
        if astral and roll < 0.35:  # next to / on an emoji
            return min(len(text), rng.choice(astral) + rng.choice((0, 1)))
        if roll < 0.45:
            return rng.choice(boundaries)
        return rng.randint(0, len(text))

    def off_crlf(offset: int) -> int:
        # No position lies between '\r' and '\n' (it is not an LSP position).
        if offset > 0 and text[offset - 1] == "\r" and text[offset : offset + 1] == "\n":
            return offset - 1
        return offset

    a, b = sorted((off_crlf(pick()), off_crlf(pick())))
    kind = rng.choice(("insert", "delete", "replace"))
    # Deletions stay short, so that the snippet survives the whole sequence.
    b = a if kind == "insert" else off_crlf(min(b, a + rng.randint(0, 12)))
    start, end = ref_position(text, a), ref_position(text, b)
    inserted = "" if kind == "delete" else rng.choice(INSERTIONS)
    if astral and a in astral and rng.random() < 0.3:
        # A position inside the surrogate pair rounds down to the emoji's start.
        start = (start[0], start[1] + 1)
        if b == a:
            end = start
    expected = text[:a] + inserted + text[b:]
    return TextChange((start, end), inserted), expected


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_random_incremental_edits_match_fresh_parse(language: str) -> None:
    text = (FIXTURES / SNIPPETS[language]).read_text(encoding="utf-8")
    assert "😀" in text and "漢字" in text
    spec = get(language)
    doc = SyntaxDocument(f"file:///{SNIPPETS[language]}", text, spec, version=1)
    assert doc.parses() is True
    assert_matches_fresh_parse(doc)
    rng = random.Random(f"kodama-{language}")
    expected = text
    version = 1
    edits = 0
    while edits < 30:
        batch = []
        for _ in range(rng.randint(1, 3)):
            change, expected = random_change(rng, expected)
            batch.append(change)
        # Each change is relative to the text produced by the previous ones.
        version += 1
        doc.apply_changes(batch, version)
        edits += len(batch)
        assert doc.text == expected
        assert doc.version == version
        assert_matches_fresh_parse(doc)
    assert edits >= 20


def test_whole_text_change_then_ranges() -> None:
    doc = SyntaxDocument("file:///a.py", "x = 1\n", get("python"))
    doc.apply_changes(
        [TextChange(None, "def f():\n    return '😀'\n"), TextChange(((1, 12), (1, 14)), "🐍漢")],
        2,
    )
    assert doc.text == "def f():\n    return '🐍漢'\n"
    assert doc.parses() is True
    assert_matches_fresh_parse(doc)


def test_edit_touching_emoji() -> None:
    doc = SyntaxDocument("file:///a.rs", 'fn f() { let s = "😀漢字"; }', get("rust"))
    # Replace the emoji (2 UTF-16 units at columns 18..20) with another one.
    doc.apply_changes([TextChange(((0, 18), (0, 20)), "🐍")], 1)
    assert doc.text == 'fn f() { let s = "🐍漢字"; }'
    # Delete 漢 (column 20 after the 2-unit emoji).
    doc.apply_changes([TextChange(((0, 20), (0, 21)), "")], 2)
    assert doc.text == 'fn f() { let s = "🐍字"; }'
    assert_matches_fresh_parse(doc)


def test_surrogate_splitting_range_rounds_down() -> None:
    doc = SyntaxDocument("file:///a.py", "s = '😀'\n", get("python"))
    # Column 6 is inside the pair (5..7): rounds down to the emoji's start.
    doc.apply_changes([TextChange(((0, 6), (0, 7)), "x")], 1)
    assert doc.text == "s = 'x'\n"
    assert_matches_fresh_parse(doc)


def test_crlf_document() -> None:
    text = "def f():\r\n    return 1\r\n"
    doc = SyntaxDocument("file:///a.py", text, get("python"))
    assert doc.lines.line_count == 3
    assert doc.offset_at(1, 100) == text.index("\r\n    return") + 2 + len("    return 1")
    assert doc.position_at(len(text)) == (2, 0)
    doc.apply_changes([TextChange(((1, 11), (1, 12)), "42\r\n    x = '😀'")], 1)
    assert doc.text == "def f():\r\n    return 42\r\n    x = '😀'\r\n"
    assert doc.parses() is True
    assert_matches_fresh_parse(doc)
    doc.apply_changes([TextChange(((0, 8), (1, 0)), "")], 2)  # join lines 0 and 1
    assert doc.text == "def f():    return 42\r\n    x = '😀'\r\n"
    assert_matches_fresh_parse(doc)


def test_lone_cr_line_endings_keep_tree_in_sync() -> None:
    doc = SyntaxDocument("file:///a.js", "let a = 1;\rlet b = '😀';\r", get("javascript"))
    assert doc.lines.line_count == 3
    doc.apply_changes([TextChange(((1, 4), (1, 5)), "bee")], 1)
    assert doc.text == "let a = 1;\rlet bee = '😀';\r"
    assert_matches_fresh_parse(doc)


def test_invalid_range_leaves_document_unchanged() -> None:
    text = "x = 1\ny = 2\n"
    doc = SyntaxDocument("file:///a.py", text, get("python"), version=3)
    tree_before = str(doc.tree.root_node) if doc.tree else None
    bad_batches = [
        [TextChange(((5, 0), (5, 1)), "z")],
        [TextChange(((0, -1), (0, 1)), "z")],
        [TextChange(((1, 0), (0, 0)), "z")],  # end before start
        # valid first change, invalid second one: nothing may be applied
        [TextChange(((0, 0), (0, 1)), "w"), TextChange(((9, 0), (9, 0)), "z")],
    ]
    for batch in bad_batches:
        with pytest.raises(PositionError):
            doc.apply_changes(batch, 4)
        assert doc.text == text
        assert doc.version == 3
        assert doc.tree is not None and str(doc.tree.root_node) == tree_before
    doc.apply_changes([TextChange(((0, 0), (0, 1)), "w")], 4)
    assert doc.text == "w = 1\ny = 2\n"
    assert_matches_fresh_parse(doc)


def test_out_of_range_character_clamps() -> None:
    doc = SyntaxDocument("file:///a.py", "ab\ncd", get("python"))
    doc.apply_changes([TextChange(((0, 99), (0, 99)), "!")], 1)
    assert doc.text == "ab!\ncd"
    doc.apply_changes([TextChange(((1, 99), (1, 99)), "?")], 2)
    assert doc.text == "ab!\ncd?"
    assert_matches_fresh_parse(doc)


def test_lone_surrogates_are_sanitized() -> None:
    doc = SyntaxDocument("file:///a.py", "s = '\ud800'\n", get("python"))
    assert doc.text == "s = '\ufffd'\n"
    doc.apply_changes([TextChange(((0, 5), (0, 6)), "\udc00x")], 1)
    assert doc.text == "s = '\ufffdx'\n"
    assert doc.parses() is True
    assert_matches_fresh_parse(doc)


def test_nul_text_has_no_tree_but_is_editable() -> None:
    doc = SyntaxDocument("file:///a.py", "x = 1\x00\n", get("python"))
    assert doc.tree is None
    assert doc.parses() is None
    doc.apply_changes([TextChange(((0, 5), (0, 6)), "")], 1)
    assert doc.text == "x = 1\n"
    assert doc.tree is not None
    assert doc.parses() is True
    doc.apply_changes([TextChange(((0, 0), (0, 0)), "\x00")], 2)
    assert doc.tree is None


def test_huge_text_has_no_tree_but_is_editable() -> None:
    line = "x = 1  # 漢\n"
    count = MAX_PARSE_BYTES // len(line.encode()) + 10
    doc = SyntaxDocument("file:///big.py", line * count, get("python"))
    assert doc.tree is None
    assert doc.lines.line_count == count + 1
    doc.apply_changes([TextChange(((count - 1, 0), (count - 1, 1)), "y")], 1)
    assert doc.text.endswith("y = 1  # 漢\n")
    assert doc.offset_at(count - 1, 0) == len(line) * (count - 1)
    # Shrinking below the limit brings the tree back.
    doc.apply_changes([TextChange(((0, 0), (count - 1, 0)), "")], 2)
    assert doc.text == "y = 1  # 漢\n"
    assert doc.tree is not None
    assert_matches_fresh_parse(doc)


def test_unknown_language_has_no_tree() -> None:
    doc = SyntaxDocument("file:///notes.txt", "hello 😀\n", None)
    assert doc.tree is None and doc.parses() is None
    doc.apply_changes([TextChange(((0, 6), (0, 8)), "🐍")], 1)
    assert doc.text == "hello 🐍\n"
    assert doc.position_at(len(doc.text) - 1) == (0, 8)


def test_language_without_grammar_has_no_tree() -> None:
    broken = LanguageSpec("python", "Python", (".py",), ("python",), "#", "no_such_grammar")
    doc = SyntaxDocument("file:///a.py", "x = 1\n", broken)
    assert doc.tree is None and doc.parses() is None
    doc.apply_changes([TextChange(((0, 0), (0, 1)), "y")], 1)
    assert doc.text == "y = 1\n"


def test_parses_reports_errors() -> None:
    doc = SyntaxDocument("file:///a.go", "package m\n\nfunc f() {}\n", get("go"))
    assert doc.parses() is True
    doc.apply_changes([TextChange(((2, 10), (2, 11)), "")], 1)  # drop the closing brace
    assert doc.text == "package m\n\nfunc f() {\n"
    assert doc.parses() is False


def ref_point(text: str, offset: int) -> tuple[int, int]:
    """Tree-sitter point (rows at '\\n', byte columns) of a code-point offset, naively."""
    head = text[:offset]
    row = head.count("\n")
    return (row, len(head[head.rfind("\n") + 1 :].encode("utf-8")))


def test_tree_edit_units_against_naive_reference() -> None:
    rng = random.Random(7)
    alphabet = ["a", "😀", "漢", "é", "\n", "\r\n", "\r", " ", "{"]
    for _ in range(300):
        old = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        start = rng.randint(0, len(old))
        end = rng.randint(start, len(old))
        inserted = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 5)))
        new = old[:start] + inserted + old[end:]
        edit = tree_edit(LineIndex(old), start, end, inserted)
        assert edit.start_byte == len(old[:start].encode())
        assert edit.old_end_byte == len(old[:end].encode())
        assert edit.new_end_byte == len(new[: start + len(inserted)].encode())
        assert edit.start_point == ref_point(old, start)
        assert edit.old_end_point == ref_point(old, end)
        assert edit.new_end_point == ref_point(new, start + len(inserted))


def test_tree_handed_out_earlier_is_not_mutated() -> None:
    doc = SyntaxDocument("file:///a.py", "x = 1\ny = 2\n", get("python"))
    before = doc.tree
    assert before is not None
    nodes_before = nodes(before)
    doc.apply_changes([TextChange(((0, 0), (0, 0)), "😀漢 = 0\n")], 1)
    assert nodes(before) == nodes_before
    assert doc.tree is not before
    assert_matches_fresh_parse(doc)
