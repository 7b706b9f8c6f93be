"""Tests for kodama.model.context.modules: the keys files answer to, and an import's guesses."""

from __future__ import annotations

from kodama.model.context.modules import dir_keys, module_keys, module_tails, relative_candidates


def test_files_and_folders_answer_by_the_tails_of_their_paths() -> None:
    assert module_keys("a/b/c.py") == ["c", "b/c", "a/b/c"]
    assert module_keys("pkg/__init__.py") == ["pkg"], "a package entry file answers for its folder"
    assert module_keys("web/index.ts") == ["web"]
    assert dir_keys("a/b/c.go") == ["b", "a/b"]
    assert dir_keys("top.go") == []


def test_relative_imports_resolve_against_the_importing_file() -> None:
    assert relative_candidates("..pkg.mod", "x/y/app.py")[0] == "x/pkg/mod"
    assert relative_candidates(".", "x/y/app.py")[0] == "x/y"
    assert relative_candidates("./util", "web/main.ts")[:2] == ["web/util", "web/util.ts"]
    assert relative_candidates("local.h/../util.h", "src/a.c") == ["src/util.h"]
    assert relative_candidates("numpy", "app.py") == []
    assert relative_candidates("@scope/lib", "web/main.ts") == []


def test_other_imports_are_looked_up_by_their_tails_longest_first() -> None:
    assert module_tails("kodama.model.types") == ["kodama/model/types", "model/types", "types"]
    assert module_tails("crate::index::WorkspaceIndex") == ["index/WorkspaceIndex",
                                                            "WorkspaceIndex"]
    assert module_tails("") == []
