"""The pure parts of the hover and code action features: where hover explains, which actions
the menu shows, the document changing while a docstring is written, what a client can create."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from lsprotocol import types

from kodama.model.tasks.subject import Subject, subject_at
from kodama.server.code_actions import _creates_files, actions_for, relocate
from kodama.server.hover import on_signature

TEXT = ("import os\n\n\n@cache\ndef area(width,\n         height):\n    return width * height\n\n\n"
        "class Box:\n    def size(self):\n        \"\"\"Documented.\"\"\"\n        return 1\n")


def subject(marker: str) -> Subject:
    found = subject_at("python", TEXT, TEXT.index(marker), path="m.py")
    assert found is not None
    return found


def test_hover_explains_on_decorators_name_and_signature_only() -> None:
    area = subject("return width")
    assert [row for row in range(10) if on_signature(area, row)] == [3, 4, 5]
    size = subject("return 1")
    assert [row for row in range(14) if on_signature(size, row)] == [10]


def test_actions_for_a_cursor_and_for_a_selection() -> None:
    at = types.Range(types.Position(6, 4), types.Position(6, 4))
    titles = [a.title for a in actions_for(subject("return width"), "file:///m.py", at)]
    assert titles == ["Kodama: Explain function area",
                      "Kodama: Generate docstring for function area",
                      "Kodama: Generate tests for function area"]
    documented = actions_for(subject("return 1"), "file:///m.py", at)
    assert [a.title for a in documented] == ["Kodama: Explain method Box.size",
                                             "Kodama: Generate tests for method Box.size"]
    selected = types.Range(types.Position(0, 0), types.Position(1, 0))
    only_selection = actions_for(None, "file:///m.py", selected)
    assert [a.title for a in only_selection] == ["Kodama: Explain selection"]
    command = only_selection[0].command
    assert command is not None and command.arguments == [
        {"uri": "file:///m.py", "line": 0, "character": 0, "end": {"line": 1, "character": 0}}]


def test_relocate_finds_the_definition_after_edits_above_it() -> None:
    area = subject("return width")
    moved = "# a new comment\n\n" + TEXT.replace("import os\n", "import os\nimport sys\n")
    target = relocate(area, moved)
    assert target is not None and target.name == "area" and target.line == area.target.line + 3
    assert relocate(area, TEXT.replace("def area", "def surface")) is None


def capabilities(edit: Any) -> Any:
    return SimpleNamespace(client_capabilities=SimpleNamespace(
        workspace=SimpleNamespace(workspace_edit=edit)))


def test_test_files_are_created_through_edits_only_where_the_client_can() -> None:
    can = types.WorkspaceEditClientCapabilities(
        document_changes=True, resource_operations=[types.ResourceOperationKind.Create])
    assert _creates_files(capabilities(can))
    assert not _creates_files(capabilities(types.WorkspaceEditClientCapabilities(
        document_changes=True)))
    assert not _creates_files(capabilities(None))
    assert not _creates_files(SimpleNamespace(
        client_capabilities=SimpleNamespace(workspace=None)))
