"""The workspace index: per-file definitions, imports and BM25 chunks, incremental and cached.

``WorkspaceIndex(root)`` walks the repository (honouring ``.gitignore``, skipping version
control, dependency, virtual-environment and build folders, binary and minified files and files
over :data:`MAX_FILE_BYTES`; at most ``max_files`` files and ``max_total_bytes`` bytes, shallow
source files first) and records for each file its content hash, language, definitions (from
``kodama.syntax.tags``), imports and BM25 term counts of its chunks (windows of
:data:`CHUNK_MIN_LINES`–:data:`CHUNK_MAX_LINES` lines split at definitions).

It is persisted as JSON under ``cache_root()/index/<hash of the root>.json``; on the next start a
file whose size and modification time are unchanged — or, failing that, whose content hash is —
is not parsed again. ``update(path, text)`` and ``remove(path)`` keep it current one file at a
time, so an updated index equals a rebuilt one.

Thread-safe: one lock guards the tables; parsing happens outside it. Pure: no torch, no pygls.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import posixpath
import re
import tempfile
import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tree_sitter

from kodama.model.context.bm25 import BM25, tokenize
from kodama.syntax import languages, tags
from kodama.syntax.ignore import CODE_EXTENSIONS, IGNORE_FILES, Ignorer
from kodama.syntax.languages import GrammarUnavailableError, LanguageSpec
from kodama.syntax.tags import Definition, Import

__all__ = [
    "CACHE_VERSION",
    "BuildStats",
    "Chunk",
    "FileEntry",
    "WorkspaceIndex",
    "analyze",
    "chunk_ranges",
    "default_cache_path",
]

log = logging.getLogger(__name__)

CACHE_VERSION = 1
MAX_FILE_BYTES = 512 * 1024
MAX_FILES = 5000
MAX_TOTAL_BYTES = 50 * 1024 * 1024
CHUNK_MIN_LINES = 12
CHUNK_MAX_LINES = 25
_MAX_LINE_CHARS = 2000
"""A line longer than this marks a minified or generated file (not indexed)."""

ChunkKey = tuple[str, int]
ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class Chunk:
    """A window of lines of a file, with its BM25 term counts."""

    start_line: int
    end_line: int
    """Exclusive."""
    terms: dict[str, int] = field(compare=False, repr=False)


@dataclass(frozen=True)
class FileEntry:
    """What the index knows about one file."""

    path: str
    """Repository-relative, ``/`` separators."""
    digest: str
    """SHA-1 of the UTF-8 content."""
    size: int
    mtime_ns: int
    language: str | None
    definitions: tuple[Definition, ...]
    imports: tuple[Import, ...]
    chunks: tuple[Chunk, ...]


@dataclass
class BuildStats:
    """What a build did."""

    files: int = 0
    reused: int = 0
    """Files taken from the cache without parsing."""
    parsed: int = 0
    skipped: int = 0
    """Binary, minified, unreadable or too large files."""
    capped: int = 0
    """Files left out because of the file or size caps."""
    bytes: int = 0
    seconds: float = 0.0
    definitions: int = 0
    chunks: int = 0
    cache_bytes: int = 0

    @property
    def truncated(self) -> bool:
        """Whether the caps left files out."""
        return self.capped > 0

    def summary(self) -> str:
        """One line for logs and the progress bar."""
        text = (f"{self.files} files ({self.bytes / 1e6:.1f} MB), {self.definitions} "
                f"definitions, {self.chunks} chunks in {self.seconds:.1f} s "
                f"({self.reused} from cache)")
        if self.capped:
            text += f"; {self.capped} more files left out (index capped)"
        return text


def default_cache_path(root: Path) -> Path:
    """Where the index of the repository at ``root`` is cached."""
    from kodama.model.weights import cache_root

    key = hashlib.sha256(str(root.resolve()).encode("utf-8")).hexdigest()[:20]
    return cache_root() / "index" / f"{key}.json"


def digest_of(data: bytes) -> str:
    """Content hash used to invalidate cached entries."""
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


# ------------------------------------------------------------------ analysis
def chunk_ranges(
    line_count: int,
    boundaries: Iterable[int],
    blank: Iterable[int] = (),
    min_lines: int = CHUNK_MIN_LINES,
    max_lines: int = CHUNK_MAX_LINES,
) -> list[tuple[int, int]]:
    """Split ``line_count`` lines into windows of ``min_lines``..``max_lines`` lines.

    A window ends before the first ``boundaries`` line (a definition's start) past its minimum
    size, else after the last ``blank`` line in reach, else at the maximum size.
    """
    strong = sorted(set(boundaries))
    weak = sorted(set(blank))
    ranges: list[tuple[int, int]] = []
    start = 0
    while start < line_count:
        if line_count - start <= max_lines:
            ranges.append((start, line_count))
            break
        low, high = start + min_lines, start + max_lines
        end = next((b for b in strong if low <= b <= high), None)
        if end is None:
            blanks = [b + 1 for b in weak if low <= b + 1 <= high]
            end = blanks[-1] if blanks else high
        ranges.append((start, end))
        start = end
    return ranges


def analyze(
    path: str,
    text: str,
    spec: LanguageSpec | None,
    *,
    tree: tree_sitter.Tree | None = None,
    digest: str | None = None,
    size: int | None = None,
    mtime_ns: int = 0,
) -> FileEntry:
    """Index one file's text: definitions and imports (with a grammar), BM25 chunks."""
    data = text.encode("utf-8", "surrogatepass")
    if tree is None and spec is not None:
        try:
            tree = languages.thread_parser(spec).parse(data)
        except GrammarUnavailableError:
            tree = None
    defs: list[Definition] = []
    imports: list[Import] = []
    boundaries: set[int] = set()
    if tree is not None and spec is not None:
        defs = tags.definitions(spec, tree, text)
        imports = tags.imported_names(spec, tree, text)
        boundaries = {d.start_line for d in defs}
        boundaries.update(child.start_point[0] for child in tree.root_node.named_children)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    blank = [i for i, line in enumerate(lines) if not line.strip()]
    chunks: list[Chunk] = []
    for start, end in chunk_ranges(len(lines), boundaries, blank):
        terms = Counter(tokenize("\n".join(lines[start:end])))
        if terms:
            chunks.append(Chunk(start, end, dict(terms)))
    return FileEntry(
        path=path,
        digest=digest or digest_of(data),
        size=len(data) if size is None else size,
        mtime_ns=mtime_ns,
        language=spec.id if spec is not None else None,
        definitions=tuple(defs),
        imports=tuple(imports),
        chunks=tuple(chunks),
    )


def _entry_to_json(entry: FileEntry) -> list[Any]:
    return [
        entry.digest, entry.size, entry.mtime_ns, entry.language,
        [[d.name, d.kind, d.start_line, d.end_line, d.signature_text] for d in entry.definitions],
        [[i.module, i.name] for i in entry.imports],
        [[c.start_line, c.end_line, c.terms] for c in entry.chunks],
    ]


def _entry_from_json(path: str, raw: list[Any]) -> FileEntry:
    digest, size, mtime_ns, language, defs, imports, chunks = raw
    return FileEntry(
        path=path,
        digest=str(digest),
        size=int(size),
        mtime_ns=int(mtime_ns),
        language=language,
        definitions=tuple(Definition(str(n), str(k), int(s), int(e), str(sig))
                          for n, k, s, e, sig in defs),
        imports=tuple(Import(str(m), None if n is None else str(n)) for m, n in imports),
        chunks=tuple(Chunk(int(s), int(e), {str(t): int(c) for t, c in terms.items()})
                     for s, e, terms in chunks),
    )


def _visible(definitions: Iterable[Definition]) -> list[Definition]:
    """Definitions other files can refer to: not those nested inside a function's body."""
    out: list[Definition] = []
    open_functions: list[int] = []  # end lines of the enclosing functions
    for d in sorted(definitions, key=lambda d: (d.start_line, -d.end_line)):
        while open_functions and open_functions[-1] < d.start_line:
            open_functions.pop()
        if not open_functions:
            out.append(d)
        if d.kind in ("function", "method") and d.end_line > d.start_line:
            open_functions.append(d.end_line)
    return out


def _looks_generated(text: str) -> bool:
    """Minified or generated: very long lines."""
    if len(text) < 4096:
        return False
    longest = max((len(line) for line in text.split("\n")), default=0)
    return longest > _MAX_LINE_CHARS


def _module_keys(path: str) -> list[str]:
    """Keys under which ``path`` answers an import (``a/b/c.py`` → ``c``, ``b/c``, ``a/b/c``).

    Package entry files (``__init__``, ``index``, ``mod``) also answer for their folder.
    """
    stem = path.rsplit(".", 1)[0] if "." in path.rsplit("/", 1)[-1] else path
    parts = stem.split("/")
    if len(parts) > 1 and parts[-1] in ("__init__", "index", "mod", "lib"):
        parts = parts[:-1]
    return ["/".join(parts[-k:]) for k in range(1, min(4, len(parts)) + 1)]


def _dir_keys(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[-k:]) for k in range(1, min(4, len(parts)) + 1)]


_MODULE_SPLIT_RE = re.compile(r"::|[./\\:]+")
_RELATIVE_EXTENSIONS = ("", ".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".d.ts", ".py", ".h",
                        ".hpp", "/index.ts", "/index.tsx", "/index.js", "/__init__.py")


# --------------------------------------------------------------------- index
class WorkspaceIndex:
    """Definitions, imports and BM25 chunks of every indexed file of one repository."""

    def __init__(
        self,
        root: str | Path,
        exclude: Iterable[str] = (),
        *,
        max_files: int = MAX_FILES,
        max_total_bytes: int = MAX_TOTAL_BYTES,
        max_file_bytes: int = MAX_FILE_BYTES,
        cache_path: Path | None = None,
        persist: bool = True,
    ) -> None:
        """An empty index of ``root``; call :meth:`build` (or :meth:`update`) to fill it.

        ``exclude`` holds gitignore-style patterns (relative to ``root``) of files never to
        index, e.g. the held-out files of an evaluation. ``cache_path`` defaults to
        :func:`default_cache_path`; ``persist=False`` neither reads nor writes a cache.
        """
        self.root = Path(root).resolve()
        self.exclude = tuple(exclude)
        self.max_files = max_files
        self.max_total_bytes = max_total_bytes
        self.max_file_bytes = max_file_bytes
        self.persist = persist
        self.cache_path = cache_path if cache_path is not None else (
            default_cache_path(self.root) if persist else None)
        self.ignorer = Ignorer(self.root, self.exclude)
        self.stats = BuildStats()
        self.ready = False
        """True once a build has finished."""
        self._lock = threading.RLock()
        self._files: dict[str, FileEntry] = {}
        self._bm25: BM25[ChunkKey] = BM25()
        self._by_name: dict[str, list[tuple[str, Definition]]] = {}
        self._modules: dict[str, set[str]] = {}
        self._dirs: dict[str, set[str]] = {}
        self._overlay: dict[str, str] = {}
        """Texts given to :meth:`update` (open documents), newer than the disk."""
        self._texts: OrderedDict[str, tuple[str, str]] = OrderedDict()
        """Small LRU of file texts read from disk for rendering: path → (digest, text)."""
        self._generation = 0
        self._changes: deque[tuple[int, str]] = deque(maxlen=256)
        self._dirty = False

    # ------------------------------------------------------------ queries
    def __len__(self) -> int:
        """Number of indexed files."""
        return len(self._files)

    def __contains__(self, path: object) -> bool:
        """Whether ``path`` (repository-relative) is indexed."""
        return path in self._files

    def paths(self) -> list[str]:
        """Indexed paths, sorted."""
        with self._lock:
            return sorted(self._files)

    def entry(self, path: str) -> FileEntry | None:
        """The entry of an indexed file."""
        return self._files.get(path)

    @property
    def generation(self) -> int:
        """Increases with every change to the index."""
        return self._generation

    def changed_since(self, generation: int, ignore: str | None = None) -> bool:
        """Whether any file other than ``ignore`` changed after ``generation``."""
        with self._lock:
            if generation >= self._generation:
                return False
            if self._changes and self._changes[0][0] > generation + 1:
                return True  # older changes fell out of the log
            return any(g > generation and p != ignore for g, p in self._changes)

    def definitions_named(self, name: str) -> list[tuple[str, Definition]]:
        """Every (path, definition) of ``name``."""
        with self._lock:
            return list(self._by_name.get(name, ()))

    def search(
        self, query: Iterable[str], limit: int = 10, *, skip_path: str | None = None
    ) -> list[tuple[str, Chunk, float]]:
        """BM25 search of chunks for query tokens: (path, chunk, score), best first."""
        with self._lock:
            hits = self._bm25.search(
                query, limit,
                skip=None if skip_path is None else (lambda key: key[0] == skip_path),
            )
            return [(p, self._files[p].chunks[i], s) for (p, i), s in hits if p in self._files]

    def resolve_module(self, module: str, from_path: str) -> list[str]:
        """Indexed files an import of ``module`` in ``from_path`` may refer to (best guess).

        Relative imports (``./util``, ``..pkg.mod``, ``"local.h"``) are resolved against the
        importing file; others match the longest tail of the module path (``kodama.model.types``
        → ``model/types.py``; a Go package path → the files of that folder).
        """
        module = module.strip()
        if not module:
            return []
        folder = posixpath.dirname(from_path)
        candidates: list[str] = []
        if module.startswith("."):
            if module.startswith(("./", "../")) or module in (".", ".."):
                base = posixpath.normpath(posixpath.join(folder, module))
            else:  # Python relative import: one dot = this package
                dots = len(module) - len(module.lstrip("."))
                base = folder
                for _ in range(dots - 1):
                    base = posixpath.dirname(base)
                rest = module[dots:].replace(".", "/")
                base = posixpath.join(base, rest) if rest else base
            candidates = [base + ext for ext in _RELATIVE_EXTENSIONS]
        elif "/" in module and not module.startswith(("@", "/")) and folder:
            candidates = [posixpath.normpath(posixpath.join(folder, module))]
        with self._lock:
            found = [c for c in candidates if c in self._files]
            if found:
                return found[:1]
            parts = [p for p in _MODULE_SPLIT_RE.split(module)
                     if p and p not in ("crate", "self", "super", "@")]
            for k in range(min(4, len(parts)), 0, -1):
                key = "/".join(parts[-k:])
                files = self._modules.get(key)
                if files:
                    return sorted(files)[:4]
                files = self._dirs.get(key)
                if files:
                    return sorted(files)[:8]
            return []

    def text(self, path: str) -> str | None:
        """The current text of an indexed file (the editor's if open, else the disk's).

        When the disk no longer matches the indexed content, the file is indexed again.
        """
        with self._lock:
            overlay = self._overlay.get(path)
            if overlay is not None:
                return overlay
            entry = self._files.get(path)
            cached = self._texts.get(path)
            if entry is not None and cached is not None and cached[0] == entry.digest:
                self._texts.move_to_end(path)
                return cached[1]
        if entry is None:
            return None
        try:
            data = (self.root / path).read_bytes()
        except OSError:
            self.remove(path)
            return None
        text = data.decode("utf-8", "replace")
        digest = digest_of(data)
        if digest != entry.digest:
            self._install(self._analyze_text(path, text, digest=digest, size=len(data)))
        with self._lock:
            self._texts[path] = (digest, text)
            self._texts.move_to_end(path)
            while len(self._texts) > 64:
                self._texts.popitem(last=False)
        return text

    # ------------------------------------------------------------ updates
    def accepts(self, path: str) -> bool:
        """Whether ``path`` (repository-relative) is a file this index would hold."""
        if not path or path.startswith("../") or posixpath.isabs(path):
            return False
        suffix = posixpath.splitext(path)[1].lower()
        if languages.detect(path) is None and suffix not in CODE_EXTENSIONS:
            return False
        if path.endswith((".min.js", ".min.css", ".bundle.js")):
            return False
        return not self.ignorer.ignored(path)

    def update(
        self, path: str, text: str, *, tree: tree_sitter.Tree | None = None
    ) -> bool:
        """Index ``text`` as the content of ``path`` (an open document); False if not accepted.

        ``tree`` may be the document's current tree (saves a parse).
        """
        if not self.accepts(path) or len(text) > self.max_file_bytes:
            return False
        entry = self._analyze_text(path, text, tree=tree)
        with self._lock:
            self._overlay[path] = text
        self._install(entry)
        return True

    def refresh(self, path: str) -> bool:
        """Index ``path`` from the disk again (a watched file changed, or was closed)."""
        with self._lock:
            self._overlay.pop(path, None)
            self._texts.pop(path, None)
        if posixpath.basename(path) in IGNORE_FILES:
            self.ignorer.forget(posixpath.dirname(path))
            return False
        if not self.accepts(path):
            self.remove(path)
            return False
        entry = self._read_file(path, None)
        if entry is None:
            self.remove(path)
            return False
        self._install(entry)
        return True

    def remove(self, path: str) -> None:
        """Drop a file from the index (no-op when it is not there)."""
        with self._lock:
            self._overlay.pop(path, None)
            self._texts.pop(path, None)
            old = self._files.pop(path, None)
            if old is None:
                return
            self._unlink(old)
            self._bump(path)

    def _analyze_text(
        self, path: str, text: str, *, tree: tree_sitter.Tree | None = None,
        digest: str | None = None, size: int | None = None, mtime_ns: int = 0,
    ) -> FileEntry:
        return analyze(path, text, languages.detect(path), tree=tree, digest=digest, size=size,
                       mtime_ns=mtime_ns)

    def _bump(self, path: str) -> None:
        self._generation += 1
        self._changes.append((self._generation, path))
        self._dirty = True

    def _unlink(self, entry: FileEntry) -> None:
        for i in range(len(entry.chunks)):
            self._bm25.remove((entry.path, i))
        for d in entry.definitions:
            items = self._by_name.get(d.name)
            if items is not None:
                items[:] = [item for item in items if item[0] != entry.path]
                if not items:
                    del self._by_name[d.name]
        for key in _module_keys(entry.path):
            self._discard(self._modules, key, entry.path)
        for key in _dir_keys(entry.path):
            self._discard(self._dirs, key, entry.path)

    @staticmethod
    def _discard(table: dict[str, set[str]], key: str, path: str) -> None:
        paths = table.get(key)
        if paths is not None:
            paths.discard(path)
            if not paths:
                del table[key]

    def _install(self, entry: FileEntry) -> None:
        with self._lock:
            old = self._files.get(entry.path)
            if old is not None:
                if old == entry:
                    return
                self._unlink(old)
            self._files[entry.path] = entry
            for i, chunk in enumerate(entry.chunks):
                self._bm25.add((entry.path, i), chunk.terms)
            for d in _visible(entry.definitions):
                self._by_name.setdefault(d.name, []).append((entry.path, d))
            for key in _module_keys(entry.path):
                self._modules.setdefault(key, set()).add(entry.path)
            for key in _dir_keys(entry.path):
                self._dirs.setdefault(key, set()).add(entry.path)
            self._bump(entry.path)

    # -------------------------------------------------------------- build
    def _walk(self) -> Iterator[tuple[str, int, int]]:
        """(path, size, mtime_ns) of every candidate file, shallow folders first."""
        pending = [""]
        while pending:
            folder = pending.pop(0)
            try:
                with os.scandir(self.root / folder if folder else self.root) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError:
                continue
            subfolders: list[str] = []
            for item in entries:
                rel = f"{folder}/{item.name}" if folder else item.name
                try:
                    if item.is_symlink():
                        continue
                    if item.is_dir():
                        if not self.ignorer.skipped_dir(item.name, Path(item.path)) and \
                                not self.ignorer.verdict(rel, True):
                            subfolders.append(rel)
                        continue
                    if not item.is_file():
                        continue
                    suffix = os.path.splitext(item.name)[1].lower()
                    if languages.detect(item.name) is None and suffix not in CODE_EXTENSIONS:
                        continue
                    if item.name.endswith((".min.js", ".min.css", ".bundle.js")):
                        continue
                    if self.ignorer.verdict(rel, False):
                        continue
                    stat = item.stat()
                except OSError:
                    continue
                yield rel, stat.st_size, stat.st_mtime_ns
            pending.extend(subfolders)

    def _select(self, stats: BuildStats) -> list[tuple[str, int, int]]:
        """The files to index under the caps: files with a grammar first, shallow first."""
        limit = self.max_files * 4
        found: list[tuple[str, int, int]] = []
        for item in self._walk():
            if item[1] > self.max_file_bytes:
                stats.skipped += 1
                continue
            found.append(item)
            if len(found) >= limit:
                stats.capped += 1  # at least one more: the walk stops here
                break
        found.sort(key=lambda f: (languages.detect(f[0]) is None, f[0].count("/"), f[0]))
        chosen: list[tuple[str, int, int]] = []
        total = 0
        for item in found:
            if len(chosen) >= self.max_files or total + item[1] > self.max_total_bytes:
                stats.capped += 1
                continue
            chosen.append(item)
            total += item[1]
        chosen.sort(key=lambda f: f[0])
        return chosen

    def _read_file(self, path: str, cached: FileEntry | None) -> FileEntry | None:
        """The entry for ``path`` from the disk, reusing ``cached`` when the content matches;
        None for binary, minified, unreadable or too large files."""
        full = self.root / path
        try:
            stat = full.stat()
            if cached is not None and cached.size == stat.st_size and \
                    cached.mtime_ns == stat.st_mtime_ns:
                return cached
            if stat.st_size > self.max_file_bytes:
                return None
            data = full.read_bytes()
        except OSError:
            return None
        if b"\x00" in data[:8192]:
            return None
        digest = digest_of(data)
        if cached is not None and cached.digest == digest:
            return FileEntry(path, digest, len(data), stat.st_mtime_ns, cached.language,
                             cached.definitions, cached.imports, cached.chunks)
        text = data.decode("utf-8", "replace")
        if _looks_generated(text):
            return None
        return self._analyze_text(path, text, digest=digest, size=len(data),
                                  mtime_ns=stat.st_mtime_ns)

    def build(
        self, progress: ProgressFn | None = None, cancel: threading.Event | None = None
    ) -> BuildStats:
        """(Re)build from the disk, reusing the cache; returns what it did.

        Files updated from an editor (:meth:`update`) keep their editor text. Entries become
        visible as they are indexed, so lookups work (partially) during a build.
        """
        started = time.perf_counter()
        stats = BuildStats()
        cached = self._load_cache()
        chosen = self._select(stats)
        total = len(chosen)
        keep: set[str] = set()
        for done, (path, _size, _mtime) in enumerate(chosen, 1):
            if cancel is not None and cancel.is_set():
                break
            keep.add(path)
            with self._lock:
                if path in self._overlay:
                    continue
                previous = self._files.get(path) or cached.get(path)
            entry = self._read_file(path, previous)
            if entry is None:
                stats.skipped += 1
                keep.discard(path)
                self.remove(path)
            else:
                if entry is previous or (previous is not None and
                                         entry.definitions is previous.definitions):
                    stats.reused += 1
                else:
                    stats.parsed += 1
                self._install(entry)
            if progress is not None and (done % 25 == 0 or done == total):
                progress(done, total)
        if cancel is None or not cancel.is_set():
            with self._lock:
                for path in [p for p in self._files if p not in keep and p not in self._overlay]:
                    self.remove(path)
        with self._lock:
            stats.files = len(self._files)
            stats.bytes = sum(e.size for e in self._files.values())
            stats.definitions = sum(len(e.definitions) for e in self._files.values())
            stats.chunks = len(self._bm25)
        stats.seconds = time.perf_counter() - started
        if cancel is None or not cancel.is_set():
            self.save()
            self.ready = True
        if self.cache_path is not None and self.cache_path.exists():
            stats.cache_bytes = self.cache_path.stat().st_size
        self.stats = stats
        log.info("index of %s: %s", self.root, stats.summary())
        return stats

    # -------------------------------------------------------------- cache
    def _load_cache(self) -> dict[str, FileEntry]:
        if not self.persist or self.cache_path is None:
            return {}
        try:
            raw = json.loads(self.cache_path.read_text(encoding="utf-8"))
            if raw.get("version") != CACHE_VERSION or raw.get("root") != str(self.root):
                return {}
            return {path: _entry_from_json(path, item) for path, item in raw["files"].items()}
        except (OSError, ValueError, TypeError, KeyError) as exc:
            if not isinstance(exc, FileNotFoundError):
                log.warning("ignoring the index cache %s: %s", self.cache_path, exc)
            return {}

    def save(self) -> None:
        """Write the cache (atomically) if anything changed since the last save.

        Files holding an editor's text (:meth:`update`) are left out: the next start reads
        them from the disk.
        """
        if not self.persist or self.cache_path is None:
            return
        with self._lock:
            if not self._dirty:
                return
            files = {path: _entry_to_json(entry) for path, entry in self._files.items()
                     if path not in self._overlay}
            self._dirty = False
        payload = {"version": CACHE_VERSION, "root": str(self.root), "files": files}
        tmp: str | None = None
        try:
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.cache_path.parent, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(payload, out, separators=(",", ":"))
            os.replace(tmp, self.cache_path)
        except OSError as exc:
            log.warning("could not write the index cache %s: %s", self.cache_path, exc)
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
