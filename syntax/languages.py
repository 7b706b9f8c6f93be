"""Language registry: ids, LSP language ids, file extensions and tree-sitter grammars.

All py-tree-sitter API specifics (loading grammars, creating parsers, compiling
queries) live in this module.  A grammar whose wheel fails to import still has a
:class:`LanguageSpec`; only :meth:`LanguageSpec.ts_language` raises then.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import unquote, urlparse

import tree_sitter

__all__ = [
    "LANGUAGES",
    "GrammarUnavailableError",
    "LanguageSpec",
    "captures",
    "detect",
    "get",
    "matches",
    "thread_parser",
]


class GrammarUnavailableError(RuntimeError):
    """The tree-sitter grammar of a known language could not be loaded."""


_LOCK = threading.Lock()
_LOCAL = threading.local()
_GRAMMARS: dict[tuple[str, str], tree_sitter.Language] = {}
_QUERIES: dict[tuple[str, str, str], tree_sitter.Query] = {}


@dataclass(frozen=True)
class LanguageSpec:
    """A language Kodama knows about, with the way to load its tree-sitter grammar."""

    id: str
    name: str
    extensions: tuple[str, ...]
    lsp_ids: tuple[str, ...]
    line_comment: str
    module: str = field(repr=False)
    """Python module of the grammar wheel (e.g. ``tree_sitter_python``)."""
    function: str = field(default="language", repr=False)
    """Function of :attr:`module` returning the ``TSLanguage *`` capsule."""

    def ts_language(self) -> tree_sitter.Language:
        """Return the tree-sitter grammar (loaded lazily, cached).

        Raises :class:`GrammarUnavailableError` when the grammar wheel cannot be loaded.
        """
        key = (self.module, self.function)
        cached = _GRAMMARS.get(key)
        if cached is not None:
            return cached
        with _LOCK:
            cached = _GRAMMARS.get(key)
            if cached is not None:
                return cached
            try:
                mod = importlib.import_module(self.module)
                language = tree_sitter.Language(getattr(mod, self.function)())
            except Exception as exc:  # ImportError, AttributeError, ABI ValueError…
                raise GrammarUnavailableError(
                    f"tree-sitter grammar for {self.name} ({self.module}.{self.function}) "
                    f"is unavailable: {exc}"
                ) from exc
            _GRAMMARS[key] = language
            return language

    def has_grammar(self) -> bool:
        """Whether :meth:`ts_language` succeeds."""
        try:
            self.ts_language()
        except GrammarUnavailableError:
            return False
        return True

    def parser(self) -> tree_sitter.Parser:
        """Return a new parser for this language (parsers are not thread-safe; don't share)."""
        return tree_sitter.Parser(self.ts_language())

    def query(self, source: str) -> tree_sitter.Query:
        """Compile *source* as a query for this language (cached by source text).

        Raises :class:`GrammarUnavailableError` without a grammar and
        ``tree_sitter.QueryError`` for an invalid query.
        """
        key = (self.module, self.function, source)
        cached = _QUERIES.get(key)
        if cached is None:
            cached = tree_sitter.Query(self.ts_language(), source)
            _QUERIES[key] = cached
        return cached


def thread_parser(spec: LanguageSpec) -> tree_sitter.Parser:
    """This thread's cached parser for *spec* (parsers must not be shared between threads).

    Raises :class:`GrammarUnavailableError` when the grammar cannot be loaded.
    """
    cache: dict[LanguageSpec, tree_sitter.Parser] | None = getattr(_LOCAL, "parsers", None)
    if cache is None:
        cache = {}
        _LOCAL.parsers = cache
    parser = cache.get(spec)
    if parser is None:
        parser = spec.parser()
        cache[spec] = parser
    return parser


def captures(
    query: tree_sitter.Query,
    node: tree_sitter.Node,
    start_byte: int | None = None,
    end_byte: int | None = None,
) -> dict[str, list[tree_sitter.Node]]:
    """Run *query* on *node* (optionally restricted to a byte range); captures by name."""
    cursor = tree_sitter.QueryCursor(query)
    if start_byte is not None and end_byte is not None:
        cursor.set_byte_range(start_byte, end_byte)
    return cursor.captures(node)


def matches(
    query: tree_sitter.Query,
    node: tree_sitter.Node,
    start_byte: int | None = None,
    end_byte: int | None = None,
) -> list[tuple[int, dict[str, list[tree_sitter.Node]]]]:
    """Run *query* on *node*; one (pattern index, captures by name) per match, in order."""
    cursor = tree_sitter.QueryCursor(query)
    if start_byte is not None and end_byte is not None:
        cursor.set_byte_range(start_byte, end_byte)
    return cursor.matches(node)


def _spec(
    id: str,
    name: str,
    extensions: tuple[str, ...],
    lsp_ids: tuple[str, ...],
    line_comment: str,
    module: str,
    function: str = "language",
) -> LanguageSpec:
    return LanguageSpec(id, name, extensions, lsp_ids, line_comment, module, function)


LANGUAGES: dict[str, LanguageSpec] = {
    spec.id: spec
    for spec in (
        _spec("python", "Python", (".py", ".pyi"), ("python",), "#", "tree_sitter_python"),
        _spec(
            "javascript",
            "JavaScript",
            (".js", ".mjs", ".cjs", ".jsx"),
            ("javascript", "javascriptreact"),
            "//",
            "tree_sitter_javascript",
        ),
        _spec(
            "typescript",
            "TypeScript",
            (".ts", ".mts", ".cts"),
            ("typescript",),
            "//",
            "tree_sitter_typescript",
            "language_typescript",
        ),
        _spec(
            "tsx",
            "TypeScript JSX",
            (".tsx",),
            ("typescriptreact",),
            "//",
            "tree_sitter_typescript",
            "language_tsx",
        ),
        _spec("go", "Go", (".go",), ("go",), "//", "tree_sitter_go"),
        _spec("rust", "Rust", (".rs",), ("rust",), "//", "tree_sitter_rust"),
        _spec("java", "Java", (".java",), ("java",), "//", "tree_sitter_java"),
        _spec("c", "C", (".c", ".h"), ("c",), "//", "tree_sitter_c"),
        _spec(
            "cpp",
            "C++",
            (".cpp", ".cc", ".cxx", ".hpp", ".hh", ".hxx"),
            ("cpp",),
            "//",
            "tree_sitter_cpp",
        ),
    )
}
"""All known languages by Kodama id."""

_BY_LSP_ID: dict[str, LanguageSpec] = {
    lsp_id: spec for spec in LANGUAGES.values() for lsp_id in spec.lsp_ids
}
_BY_EXTENSION: dict[str, LanguageSpec] = {
    ext: spec for spec in LANGUAGES.values() for ext in spec.extensions
}


def get(language_id: str) -> LanguageSpec | None:
    """Return the spec for a Kodama language id (e.g. ``"python"``), or None."""
    return LANGUAGES.get(language_id)


def _path_of(uri_or_path: str) -> str:
    if "://" in uri_or_path or uri_or_path.startswith(("file:", "untitled:")):
        parsed = urlparse(uri_or_path)
        return unquote(parsed.path or parsed.netloc or uri_or_path)
    return uri_or_path


def detect(uri_or_path: str, lsp_language_id: str | None = None) -> LanguageSpec | None:
    """Detect the language of a document.

    The LSP ``languageId`` wins when it is known; otherwise the file extension of
    the URI or path decides (case-insensitive).  Unknown → None.
    """
    if lsp_language_id:
        spec = _BY_LSP_ID.get(lsp_language_id) or LANGUAGES.get(lsp_language_id)
        if spec is not None:
            return spec
    suffix = PurePosixPath(_path_of(uri_or_path).replace("\\", "/")).suffix
    return _BY_EXTENSION.get(suffix.lower()) if suffix else None
