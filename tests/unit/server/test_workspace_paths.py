"""The workspace roots a command's document must lie in: every workspace folder counts."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.workspace import Workspace

from kodama.server.workspace_paths import document_file, in_workspace, workspace_roots


def server(first: Path, *others: Path) -> Any:
    """A stand-in for the server after ``initialize`` with these workspace folders (the
    first one indexed)."""
    folders = [types.WorkspaceFolder(uri=p.as_uri(), name=p.name) for p in (first, *others)]
    return SimpleNamespace(workspace=Workspace(first.as_uri(), workspace_folders=folders),
                           workspace_index=SimpleNamespace(root=first.resolve()))


def folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    made = tmp_path / "one", tmp_path / "two", tmp_path / "elsewhere"
    for folder in made:
        folder.mkdir()
        (folder / "m.py").write_text("x = 1\n")
    return made


def test_a_file_of_any_workspace_folder_is_accepted_with_its_own_root(tmp_path: Path) -> None:
    one, two, elsewhere = folders(tmp_path)
    lsp = server(one, two)
    assert workspace_roots(lsp) == [one.resolve(), two.resolve()]
    found = document_file(lsp, (two / "m.py").as_uri())
    assert found is not None and (found.root, found.rel) == (two.resolve(), "m.py")
    assert document_file(lsp, "untitled:Untitled-1") is None, "an unsaved buffer has no file"
    assert in_workspace(lsp, (one / "m.py").as_uri())
    assert not in_workspace(lsp, (elsewhere / "m.py").as_uri())
    with pytest.raises(JsonRpcInvalidParams, match="outside the workspace"):
        document_file(lsp, (elsewhere / "m.py").as_uri())
    with pytest.raises(JsonRpcInvalidParams, match="outside the workspace"):
        document_file(lsp, two.as_uri() + "/../elsewhere/m.py")


def test_before_initialize_only_the_indexed_root_counts(tmp_path: Path) -> None:
    one, two, _ = folders(tmp_path)

    class Uninitialised:
        workspace_index = SimpleNamespace(root=one.resolve())

        @property
        def workspace(self) -> Workspace:
            raise RuntimeError("The workspace is not available")

    assert workspace_roots(Uninitialised()) == [one.resolve()]  # type: ignore[arg-type]
    assert not in_workspace(Uninitialised(), (two / "m.py").as_uri())  # type: ignore[arg-type]
