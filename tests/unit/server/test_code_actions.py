"""The pure parts of the code action feature: which actions the menu shows, and what a client
can create."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from lsprotocol import types

from kodama.model.tasks.subject import Subject, subject_at
from kodama.server.code_actions import _creates_files, actions_for

TEXT = ("import os\n\n\n@cache\ndef area(width,\n         height):\n    return width * height\n\n\n"
        "class Box:\n    def size(self):\n        \"\"\"Documented.\"\"\"\n        return 1\n")


def subject(marker: str) -> Subject:
    found = subject_at("python", TEXT, TEXT.index(marker), path="m.py")
    assert found is not None
    return found


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


def capabilities(edit: Any) -> Any:
    return SimpleNamespace(client_capabilities=SimpleNamespace(
        workspace=SimpleNamespace(workspace_edit=edit)))


def test_test_files_are_created_through_edits_only_where_the_client_can() -> None:
    can = types.WorkspaceEditClientCapabilities(
        document_changes=True, resource_operations=[types.ResourceOperationKind.Create])
    assert _creates_files(capabilities(can))
    assert not _creates_files(capabilities(types.WorkspaceEditClientCapabilities(
        document_changes=True)))
    neovim = types.WorkspaceEditClientCapabilities(resource_operations=[
        types.ResourceOperationKind.Rename, types.ResourceOperationKind.Create])
    assert _creates_files(capabilities(neovim))
    assert not _creates_files(capabilities(None))
    assert not _creates_files(SimpleNamespace(
        client_capabilities=SimpleNamespace(workspace=None)))
