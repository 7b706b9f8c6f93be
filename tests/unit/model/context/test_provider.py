"""Tests for kodama.model.context.provider: which snippets, never the current file, stability."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kodama.model.completion import context_at
from kodama.model.context import OpenDocument, RepositoryContext, WorkspaceIndex
from kodama.model.prompt import context_ids
from kodama.model.types import CompletionContext
from kodama.syntax.document import SyntaxDocument
from kodama.syntax.languages import detect

from .repo import make_repo

APP = (
    "from pkg.shapes import make_square\n"
    "from pkg.report import describe_rectangle\n\n\n"
    "def main() -> None:\n"
    "    square = make_square(3)\n"
    "    print(describe_rectangle(square))\n"
    "    total = square.area()\n"
)


@pytest.fixture()
def index(tmp_path: Path) -> WorkspaceIndex:
    built = WorkspaceIndex(make_repo(tmp_path / "repo"), persist=False)
    built.build()
    return built


def test_definitions_of_symbols_called_near_the_cursor_come_first(index: WorkspaceIndex) -> None:
    provider = RepositoryContext(index)
    offset = APP.index("total")
    snippets = provider.snippets("app.py", APP, offset)
    assert snippets, "expected repository snippets"
    definitions = [s for s in snippets if s.kind == "definition"]
    assert {s.path for s in definitions} == {"pkg/shapes.py", "pkg/report.py"}
    shapes = next(s for s in definitions if s.path == "pkg/shapes.py")
    assert "def make_square(size: float) -> Rectangle:" in shapes.text
    assert "    def area(self) -> float:" in shapes.text  # square.area() → the method
    report = next(s for s in definitions if s.path == "pkg/report.py")
    assert report.text.startswith("def describe_rectangle(rect: Rectangle) -> str:")
    assert snippets[0].kind == "definition"
    kinds = [s.kind for s in snippets]
    assert kinds == sorted(kinds, key=["definition", "retrieved", "recent"].index)
    assert len(snippets) <= 8 and all(s.text.count("\n") < 30 for s in snippets)


def test_the_current_file_is_never_a_snippet(index: WorkspaceIndex) -> None:
    provider = RepositoryContext(index)
    # shapes.py itself is indexed; asking from it must not return it, even for its own names.
    text = index.text("pkg/shapes.py")
    assert text is not None
    for offset in (0, text.index("return Rectangle"), len(text)):
        assert all(s.path != "pkg/shapes.py" for s in provider.snippets("pkg/shapes.py", text,
                                                                        offset))
    docs = [OpenDocument("pkg/shapes.py", text, 3, 5.0), OpenDocument("app.py", APP, 5, 1.0)]
    found = provider.snippets("pkg/shapes.py", text + "\n# more\n", len(text), docs)
    assert all(s.path != "pkg/shapes.py" for s in found)
    assert any(s.kind == "recent" and s.path == "app.py" for s in found)


def test_snippets_are_stable_while_typing_on_a_line(index: WorkspaceIndex) -> None:
    provider = RepositoryContext(index)
    line_start = APP.index("    total")
    first = provider.snippets("app.py", APP, line_start + 4)
    text = APP
    for typed in " = square.area() + make_":
        offset = text.index("square.area()") + len("square.area()")
        text = text[:offset] + typed + text[offset:]
        assert provider.snippets("app.py", text, offset + 1) == first
    # Another file changes: the next request recomputes and sees it.
    index.update("pkg/report.py", "def describe_rectangle(rect, unit: str) -> str:\n    pass\n")
    after = provider.snippets("app.py", text, len(text) - 1)
    report = next(s for s in after if s.path == "pkg/report.py")
    assert "unit: str" in report.text


def test_moving_to_another_definition_recomputes(index: WorkspaceIndex) -> None:
    text = APP + "\n\ndef other() -> None:\n    describe_rectangle(None)\n"
    provider = RepositoryContext(index)
    in_main = provider.snippets("app.py", text, text.index("square.area"))
    in_other = provider.snippets("app.py", text, text.index("describe_rectangle(None)"))
    assert in_main != in_other


def test_excluded_files_never_appear(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    index = WorkspaceIndex(root, exclude=["pkg/shapes.py"], persist=False)
    index.build()
    provider = RepositoryContext(index)
    shapes = (root / "pkg" / "shapes.py").read_text()
    docs = [OpenDocument("pkg/shapes.py", shapes, 2, 9.0)]
    snippets = provider.snippets("app.py", APP, APP.index("total"), docs)
    assert all(s.path != "pkg/shapes.py" for s in snippets)


def test_other_languages_and_unknown_files(index: WorkspaceIndex) -> None:
    provider = RepositoryContext(index)
    main = index.text("web/main.ts")
    assert main is not None
    snippets = provider.snippets("web/main.ts", main, main.index("clamp(5"))
    assert snippets[0].path == "web/util.js"
    assert snippets[0].text.startswith("export function clamp(value, low, high) {")
    assert provider.snippets("notes.txt", "make_square rectangle area", 5) is not None


def test_snippets_flow_into_the_prompt_within_the_budget(index: WorkspaceIndex) -> None:
    provider = RepositoryContext(index)
    doc = SyntaxDocument("file:///repo/app.py", APP, detect("app.py"))
    offset = APP.index("total")
    snippets = provider.snippets("app.py", APP, offset, tree=doc.tree, language=doc.language)
    single = context_at(doc, offset, snippets=snippets, path="app.py")
    assert single.mode == "single" and single.snippets == (), "single-line prompts take none"
    ctx = dataclasses.replace(single, mode="multi", snippets=snippets)
    assert isinstance(ctx, CompletionContext) and ctx.snippets == snippets
    assert ctx.path == "app.py"

    class Chars:
        def encode(self, text: str) -> list[int]:
            return [ord(c) for c in text]

    ids, used = context_ids(ctx, Chars(), None, 10_000)
    assert used == len(snippets)
    budget = len(ids) - 1  # one character short: a whole snippet is left out, none is cut
    ids, used = context_ids(ctx, Chars(), None, budget)
    assert 1 <= used < len(snippets) and len(ids) <= budget
    rendered = "".join(map(chr, ids))
    assert "# pkg/shapes.py" in rendered or "# pkg/report.py" in rendered
    assert context_at(doc, offset).snippets == ()
