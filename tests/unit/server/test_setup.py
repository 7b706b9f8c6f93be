"""What the server and the commands share: settings from the configuration, project roots,
and the repository view a completion context is built through."""

from __future__ import annotations

from pathlib import Path

import pytest

from kodama.server.config import CompletionConfig, ContextConfig
from kodama.server.setup import (
    OutsideWorkspaceError,
    RepositoryView,
    path_of_uri,
    project_root,
    settings_from,
    workspace_file,
)
from kodama.syntax.document import SyntaxDocument
from kodama.syntax.languages import detect

SHAPES = "def make_square(size: float) -> float:\n    return size * size\n"
APP = "from shapes import make_square\n\narea = \n\n\ndef total(size):\n    \n"


def test_settings_take_the_context_budget_only_while_context_is_on() -> None:
    on = settings_from(CompletionConfig(prefix_tokens=100), ContextConfig(tokens=77))
    assert (on.budget.prefix_tokens, on.budget.context_tokens) == (100, 77)
    off = settings_from(CompletionConfig(), ContextConfig(enabled=False, tokens=77))
    assert off.budget.context_tokens == 0


def test_the_project_root_is_the_nearest_folder_with_a_marker(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "deep").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("")
    assert project_root(tmp_path / "pkg" / "deep" / "m.py") == tmp_path.resolve()
    (tmp_path / "pkg" / "package.json").write_text("{}")
    assert project_root(tmp_path / "pkg" / "deep" / "m.py") == (tmp_path / "pkg").resolve()
    assert path_of_uri("untitled:1") is None
    assert path_of_uri((tmp_path / "a b.py").as_uri()) == tmp_path / "a b.py"


def repository(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "shapes.py").write_text(SHAPES)
    (tmp_path / "app.py").write_text(APP)
    return tmp_path / "app.py"


def document(path: Path) -> SyntaxDocument:
    return SyntaxDocument(path.resolve().as_uri(), APP, detect(str(path)), 0)


def test_the_completion_context_carries_the_siblings_definition(tmp_path: Path) -> None:
    app = repository(tmp_path)
    view = RepositoryView.of_file(app, ContextConfig())
    assert view.root == tmp_path.resolve() and view.index is not None
    view.index.build()
    doc = document(app)
    body = APP.index("(size):\n") + len("(size):\n    ")
    context = view.completion_context(doc, body)
    assert context.path == "app.py" and context.mode == "multi"
    assert [(s.path, s.kind) for s in context.snippets] == [("shapes.py", "definition")]
    assert "def make_square" in context.snippets[0].text
    # A single-line completion takes no snippets (measured: they distract more than help).
    line = view.completion_context(doc, APP.index("area = ") + len("area = "))
    assert line.mode == "single" and line.prefix.endswith("area = ") and line.snippets == ()


def test_without_repository_context_nothing_is_indexed(tmp_path: Path) -> None:
    app = repository(tmp_path)
    view = RepositoryView.of_file(app, ContextConfig(enabled=False))
    assert view.index is None and view.provider is None
    context = view.completion_context(document(app), len(APP) - 1)
    assert context.snippets == () and context.path == "app.py"


def test_a_document_outside_the_root_is_shown_by_its_name(tmp_path: Path) -> None:
    view = RepositoryView(tmp_path.resolve() / "repo")
    outside = SyntaxDocument((tmp_path / "notes.py").as_uri(), "x = 1\n", detect("notes.py"), 0)
    assert view.relative(outside.uri) is None and view.path_for(outside) == "notes.py"
    assert view.snippets_for(outside, 0) == ()


def test_the_definition_at_a_position(tmp_path: Path) -> None:
    app = repository(tmp_path)
    view = RepositoryView.of_file(tmp_path / "shapes.py", ContextConfig())
    doc = SyntaxDocument((tmp_path / "shapes.py").resolve().as_uri(), SHAPES, detect("s.py"), 0)
    found = view.definition_at(doc, SHAPES.index("return"))
    assert found is not None and found.name == "make_square" and found.path == "shapes.py"
    assert view.definition_at(document(app), 0) is None


def test_uris_are_normalised_and_only_name_files_of_this_machine(tmp_path: Path) -> None:
    base = tmp_path.as_uri()
    assert path_of_uri(base + "/ws/pkg/../../outside/x.py") == tmp_path / "outside" / "x.py"
    assert path_of_uri(base + "/ws/./a%20b.py") == tmp_path / "ws" / "a b.py"
    assert path_of_uri("file://localhost" + tmp_path.as_posix() + "/a.py") == tmp_path / "a.py"
    assert path_of_uri("file://evil.example/etc/passwd") is None, "a file on another host"
    assert path_of_uri(base + "/a%00.py") is None, "no file has a NUL in its name"
    assert path_of_uri("file:relative/a.py") is None


def linked_workspace(tmp_path: Path) -> tuple[Path, Path]:
    """``ws/`` (``app.py``, and ``linked`` pointing at ``outside/``) beside ``outside/``."""
    ws, outside = tmp_path / "ws", tmp_path / "outside"
    ws.mkdir()
    outside.mkdir()
    (ws / "app.py").write_text(APP)
    (outside / "secret.py").write_text("TOKEN = 'x'\n")
    (ws / "linked").symlink_to(outside)
    return ws.resolve(), outside.resolve()


def test_a_workspace_file_is_inside_a_root_without_links_or_dot_segments(tmp_path: Path) -> None:
    ws, outside = linked_workspace(tmp_path)
    found = workspace_file([tmp_path / "other", ws], (ws / "app.py").as_uri())
    assert (found.root, found.rel, found.path) == (ws, "app.py", ws / "app.py")
    for uri in ((ws / "linked" / "secret.py").as_uri(), (outside / "secret.py").as_uri(),
                ws.as_uri() + "/../outside/secret.py", "untitled:Untitled-1"):
        with pytest.raises(OutsideWorkspaceError, match=r"outside the workspace|not a file"):
            workspace_file([ws], uri)


def test_without_roots_a_file_belongs_to_its_own_project(tmp_path: Path) -> None:
    ws, _ = linked_workspace(tmp_path)
    (ws / "pyproject.toml").write_text("")
    found = workspace_file([], (ws / "app.py").as_uri())
    assert (found.root, found.rel) == (ws, "app.py")


def test_a_document_reached_through_a_link_is_outside_the_view(tmp_path: Path) -> None:
    ws, _ = linked_workspace(tmp_path)
    view = RepositoryView(ws)
    linked = SyntaxDocument((ws / "linked" / "secret.py").as_uri(), "x = 1\n",
                            detect("secret.py"), 0)
    assert view.relative(linked.uri) is None and view.path_for(linked) == "secret.py"
    assert view.relative(ws.as_uri() + "/sub/../app.py") == "app.py"
