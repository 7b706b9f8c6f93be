"""Tests for kodama.syntax.languages: registry, detection and grammar loading."""

from __future__ import annotations

import threading

import pytest
import tree_sitter

from kodama.syntax import languages
from kodama.syntax.languages import (
    LANGUAGES,
    GrammarUnavailableError,
    LanguageSpec,
    detect,
    get,
    thread_parser,
)

EXPECTED_LSP_IDS = {
    "python": ("python",),
    "javascript": ("javascript", "javascriptreact"),
    "typescript": ("typescript",),
    "tsx": ("typescriptreact",),
    "go": ("go",),
    "rust": ("rust",),
    "java": ("java",),
    "c": ("c",),
    "cpp": ("cpp",),
}


def test_registry_ids_and_lsp_ids() -> None:
    assert set(LANGUAGES) == set(EXPECTED_LSP_IDS)
    for language_id, spec in LANGUAGES.items():
        assert spec.id == language_id
        assert spec.lsp_ids == EXPECTED_LSP_IDS[language_id]
        assert spec.name
        assert spec.line_comment == ("#" if language_id == "python" else "//")
        assert get(language_id) is spec
    assert get("cobol") is None


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a.py", "python"),
        ("stubs/a.pyi", "python"),
        ("a.js", "javascript"),
        ("a.mjs", "javascript"),
        ("a.cjs", "javascript"),
        ("a.jsx", "javascript"),
        ("a.ts", "typescript"),
        ("a.mts", "typescript"),
        ("a.cts", "typescript"),
        ("a.tsx", "tsx"),
        ("a.go", "go"),
        ("a.rs", "rust"),
        ("A.java", "java"),
        ("a.c", "c"),
        ("a.h", "c"),
        ("a.cpp", "cpp"),
        ("a.cc", "cpp"),
        ("a.cxx", "cpp"),
        ("a.hpp", "cpp"),
        ("a.hh", "cpp"),
        ("a.hxx", "cpp"),
        ("MAIN.PY", "python"),
        ("file:///home/u/src/main.rs", "rust"),
        ("file:///home/u/my%20project/app.tsx", "tsx"),
        ("file:///C:/Users/u/x.go", "go"),
        ("C:\\Users\\u\\x.java", "java"),
    ],
)
def test_detect_by_extension(path: str, expected: str) -> None:
    spec = detect(path)
    assert spec is not None and spec.id == expected


@pytest.mark.parametrize(
    "path", ["README.md", "Makefile", ".py", "file:///x/notes.txt", "untitled:Untitled-1", ""]
)
def test_detect_unknown(path: str) -> None:
    assert detect(path) is None


def test_detect_prefers_lsp_language_id() -> None:
    spec = detect("file:///x/script.txt", "typescriptreact")
    assert spec is not None and spec.id == "tsx"
    spec = detect("file:///x/a.py", "javascriptreact")
    assert spec is not None and spec.id == "javascript"
    spec = detect("untitled:Untitled-1", "python")
    assert spec is not None and spec.id == "python"
    # An unknown languageId falls back to the extension.
    spec = detect("file:///x/a.rs", "plaintext")
    assert spec is not None and spec.id == "rust"
    assert detect("file:///x/a.txt", "plaintext") is None


@pytest.mark.parametrize("language_id", sorted(LANGUAGES))
def test_grammars_load_and_parse(language_id: str) -> None:
    spec = LANGUAGES[language_id]
    language = spec.ts_language()
    assert isinstance(language, tree_sitter.Language)
    assert spec.ts_language() is language  # cached
    assert spec.has_grammar()
    parser = spec.parser()
    assert parser is not spec.parser()  # a new parser each time
    tree = parser.parse(b"")
    assert tree.root_node.child_count == 0


def test_typescript_and_tsx_are_distinct_grammars() -> None:
    ts = LANGUAGES["typescript"].ts_language()
    tsx = LANGUAGES["tsx"].ts_language()
    assert ts is not tsx
    source = b"const e = <div>{x}</div>;\n"
    assert not LANGUAGES["tsx"].parser().parse(source).root_node.has_error
    assert LANGUAGES["typescript"].parser().parse(source).root_node.has_error


def test_missing_grammar_raises_clear_error() -> None:
    spec = LanguageSpec("rust", "Rust", (".rs",), ("rust",), "//", "tree_sitter_nope_missing")
    with pytest.raises(GrammarUnavailableError, match=r"Rust.*tree_sitter_nope_missing"):
        spec.ts_language()
    with pytest.raises(GrammarUnavailableError):
        spec.parser()
    assert not spec.has_grammar()


def test_detect_still_returns_spec_without_grammar(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = LanguageSpec("go", "Go", (".go",), ("go",), "//", "tree_sitter_nope_missing")
    monkeypatch.setitem(LANGUAGES, "go", broken)
    monkeypatch.setitem(languages._BY_EXTENSION, ".go", broken)
    assert get("go") is broken
    assert detect("main.go") is broken
    assert not broken.has_grammar()


def test_thread_parser_is_per_thread() -> None:
    spec = LANGUAGES["python"]
    mine = thread_parser(spec)
    assert thread_parser(spec) is mine
    other: list[tree_sitter.Parser] = []
    worker = threading.Thread(target=lambda: other.append(thread_parser(spec)))
    worker.start()
    worker.join()
    assert other and other[0] is not mine
