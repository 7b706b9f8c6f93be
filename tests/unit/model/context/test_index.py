"""Tests for kodama.model.context.index: what is indexed, caps, incremental updates, the cache."""

from __future__ import annotations

import os
from pathlib import Path

from kodama.model.context.index import WorkspaceIndex

from .repo import INDEXED, make_repo


def snapshot(index: WorkspaceIndex) -> dict[str, object]:
    """Everything an index answers from (content, not bookkeeping like modification times)."""
    out: dict[str, object] = {}
    for path in index.paths():
        entry = index.entry(path)
        assert entry is not None
        out[path] = (entry.digest, entry.language, entry.definitions, entry.imports,
                     [(c.start_line, c.end_line, c.terms) for c in entry.chunks])
    return out


def test_build_indexes_source_files_and_honours_gitignore(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    index = WorkspaceIndex(root, cache_path=tmp_path / "cache.json")
    stats = index.build()
    assert set(index.paths()) == INDEXED
    assert stats.files == len(INDEXED) and not stats.truncated
    assert stats.skipped >= 2  # the binary and the oversized file
    assert index.ready
    [(path, rect)] = index.definitions_named("Rectangle")
    assert path == "pkg/shapes.py" and rect.kind == "class" and rect.start_line == 3
    assert [p for p, _ in index.definitions_named("clamp")] == ["web/util.js"]
    assert index.definitions_named("ignored_function") == []
    assert index.definitions_named("local_only") == []
    assert [p for p, _ in index.definitions_named("kept")] == ["pkg/sub/kept.py"]


def test_exclude_patterns_leave_files_out_entirely(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    index = WorkspaceIndex(root, exclude=["pkg/shapes.py", "web/"], persist=False)
    index.build()
    assert "pkg/shapes.py" not in index and "web/util.js" not in index
    assert index.definitions_named("Rectangle") == []
    assert not index.update("pkg/shapes.py", "class Rectangle:\n    pass\n")
    assert index.definitions_named("Rectangle") == []
    assert index.search(["rectangle"], skip_path=None) == [] or all(
        p != "pkg/shapes.py" for p, _, _ in index.search(["rectangle"]))


def test_caps_limit_files_and_say_so(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    index = WorkspaceIndex(root, max_files=3, persist=False)
    stats = index.build()
    # Three files chosen (one may turn out binary or minified when read), the rest left out.
    assert 2 <= len(index) <= 3 and stats.truncated and stats.capped >= len(INDEXED) - 3
    assert "left out" in stats.summary()
    # Files with a grammar in shallow folders come first.
    assert "app.py" in index.paths()
    small = WorkspaceIndex(root, max_total_bytes=200, persist=False)
    small.build()
    entries = [small.entry(p) for p in small.paths()]
    assert sum(e.size for e in entries if e is not None) <= 200 and small.stats.truncated


def test_incremental_updates_equal_a_rebuild(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    index = WorkspaceIndex(root, persist=False)
    index.build()
    new_report = "def describe_square(side: float) -> str:\n    return f'square {side}'\n"
    (root / "pkg" / "report.py").write_text(new_report)
    assert index.update("pkg/report.py", new_report)
    (root / "app.py").unlink()
    index.remove("app.py")
    (root / "pkg" / "extra.py").write_text("def extra_helper():\n    return 1\n")
    assert index.refresh("pkg/extra.py")
    rebuilt = WorkspaceIndex(root, persist=False)
    rebuilt.build()
    assert snapshot(index) == snapshot(rebuilt)
    query = ["square", "rectangle", "area", "extra"]
    assert index.search(query) == rebuilt.search(query)
    assert index.definitions_named("describe_rectangle") == []
    assert [p for p, _ in index.definitions_named("describe_square")] == ["pkg/report.py"]


def test_cache_is_reused_across_instances_and_invalidated_by_content(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    cache = tmp_path / "cache" / "index.json"
    first = WorkspaceIndex(root, cache_path=cache).build()
    assert cache.is_file() and first.parsed == len(INDEXED) and first.reused == 0

    second_index = WorkspaceIndex(root, cache_path=cache)
    second = second_index.build()
    assert second.parsed == 0 and second.reused == len(INDEXED)
    assert second_index.definitions_named("Rectangle")

    shapes = root / "pkg" / "shapes.py"
    os.utime(shapes, ns=(1, 1))  # touched, same content: the hash says reuse
    (root / "app.py").write_text("def renamed_main():\n    pass\n")  # new content: parse
    third_index = WorkspaceIndex(root, cache_path=cache)
    third = third_index.build()
    assert third.parsed == 1 and third.reused == len(INDEXED) - 1
    assert [p for p, _ in third_index.definitions_named("renamed_main")] == ["app.py"]

    cache.write_text("{not json")
    assert WorkspaceIndex(root, cache_path=cache).build().parsed == len(INDEXED)


def test_editor_text_wins_and_is_not_persisted(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    cache = tmp_path / "cache.json"
    index = WorkspaceIndex(root, cache_path=cache)
    assert index.update("app.py", "def unsaved_work():\n    pass\n")
    index.build()  # the build keeps the editor's text
    assert index.definitions_named("unsaved_work") and index.definitions_named("main") == []
    assert index.text("app.py") == "def unsaved_work():\n    pass\n"
    fresh = WorkspaceIndex(root, cache_path=cache)
    fresh.build()
    assert fresh.definitions_named("unsaved_work") == [] and fresh.definitions_named("main")


def test_text_reindexes_a_file_changed_behind_its_back(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    index = WorkspaceIndex(root, persist=False)
    index.build()
    (root / "lib" / "greet.go").write_text("package lib\n\nfunc Wave() {}\n")
    assert index.text("lib/greet.go") == "package lib\n\nfunc Wave() {}\n"
    assert index.definitions_named("Greet") == [] and index.definitions_named("Wave")


def test_resolve_module(tmp_path: Path) -> None:
    index = WorkspaceIndex(make_repo(tmp_path / "repo"), persist=False)
    index.build()
    assert index.resolve_module("pkg.shapes", "app.py") == ["pkg/shapes.py"]
    assert index.resolve_module(".shapes", "pkg/report.py") == ["pkg/shapes.py"]
    assert index.resolve_module("./util", "web/main.ts") == ["web/util.js"]
    assert index.resolve_module("example.com/me/lib", "main.go") == ["lib/greet.go"]
    assert index.resolve_module("pkg", "app.py") == ["pkg/__init__.py"]
    assert index.resolve_module("numpy", "app.py") == []


def test_files_reached_through_links_are_never_read(tmp_path: Path) -> None:
    # A watched-file change for a symlinked file, or a file closed inside a symlinked folder,
    # must not pull the outside file into the index (and from there into prompts and the cache).
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "private.py").write_text("def leaked_secret_helper():\n    return 'TOKEN'\n")
    root = make_repo(tmp_path / "repo")
    os.symlink(outside / "private.py", root / "linked.py")
    os.symlink(outside, root / "linked_dir")
    index = WorkspaceIndex(root, persist=False)
    index.build()
    assert not index.refresh("linked.py")
    assert not index.refresh("linked_dir/private.py")
    assert not index.refresh("../outside/private.py")
    assert not index.update("linked_dir/private.py", "def leaked_open_document(): ...\n")
    assert all("linked" not in p and "outside" not in p for p in index.paths())
    assert index.definitions_named("leaked_secret_helper") == []
    assert index.search(["leaked", "secret", "helper"]) == []
