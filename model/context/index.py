"""The workspace index: per-file definitions, imports and BM25 chunks, incremental and cached.

``WorkspaceIndex(root)`` walks the repository (honouring ``.gitignore``, skipping version
control, dependency, virtual-environment and build folders, binary and minified files and files
over :data:`MAX_FILE_BYTES`; at most ``max_files`` files and ``max_total_bytes`` bytes, shallow
source files first; :mod:`.scan`) and records for each file its content hash, language,
definitions (from ``kodama.syntax.tags``), imports and BM25 term counts of its chunks (windows
of :data:`CHUNK_MIN_LINES`–:data:`CHUNK_MAX_LINES` lines split at definitions; :mod:`.analysis`).

It is persisted as JSON under ``cache_root()/index/<hash of the root>.json`` (:mod:`.cache`);
on the next start a file whose size and modification time are unchanged — or, failing that,
whose content hash is — is not parsed again. ``update(path, text)`` and ``remove(path)`` keep it
current one file at a time, so an updated index equals a rebuilt one.

Thread-safe: one lock guards the tables; parsing happens outside it. Pure: no torch, no pygls.
"""

from __future__ import annotations

import logging
import posixpath
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterable
from pathlib import Path

import tree_sitter

from kodama.model.context.analysis import (
    CHUNK_MAX_LINES,
    CHUNK_MIN_LINES,
    Chunk,
    FileEntry,
    analyze,
    chunk_ranges,
    digest_of,
    looks_generated,
    visible_definitions,
)
from kodama.model.context.bm25 import BM25
from kodama.model.context.cache import CACHE_VERSION, default_cache_path, read_cache, write_cache
from kodama.model.context.modules import dir_keys, module_keys, module_tails, relative_candidates
from kodama.model.context.scan import (
    MAX_FILE_BYTES,
    MAX_FILES,
    MAX_TOTAL_BYTES,
    BuildStats,
    indexable_name,
    select_files,
    walk_files,
)
from kodama.model.types import ProgressFn
from kodama.syntax import languages
from kodama.syntax.ignore import IGNORE_FILES, Ignorer
from kodama.syntax.tags import Definition
from kodama.syntax.walk import admits

__all__ = [
    "CACHE_VERSION",
    "CHUNK_MAX_LINES",
    "CHUNK_MIN_LINES",
    "MAX_FILES",
    "MAX_FILE_BYTES",
    "MAX_TOTAL_BYTES",
    "BuildStats",
    "Chunk",
    "FileEntry",
    "WorkspaceIndex",
    "analyze",
    "chunk_ranges",
    "default_cache_path",
    "digest_of",
]

log = logging.getLogger(__name__)

ChunkKey = tuple[str, int]
"""A chunk in the BM25 table: its file's path and its position in the file's chunks."""


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
        candidates = relative_candidates(module, from_path)
        with self._lock:
            found = [c for c in candidates if c in self._files]
            if found:
                return found[:1]
            for key in module_tails(module):
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
        return indexable_name(path) and admits(self.root, self.ignorer, path)

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
        for key in module_keys(entry.path):
            self._discard(self._modules, key, entry.path)
        for key in dir_keys(entry.path):
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
            for d in visible_definitions(entry.definitions):
                self._by_name.setdefault(d.name, []).append((entry.path, d))
            for key in module_keys(entry.path):
                self._modules.setdefault(key, set()).add(entry.path)
            for key in dir_keys(entry.path):
                self._dirs.setdefault(key, set()).add(entry.path)
            self._bump(entry.path)

    # -------------------------------------------------------------- build
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
        if looks_generated(text):
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
        chosen = select_files(walk_files(self.root, self.ignorer), stats,
                              max_files=self.max_files, max_total_bytes=self.max_total_bytes,
                              max_file_bytes=self.max_file_bytes)
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
                progress(f"indexing: {done}/{total} files", done / max(total, 1))
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
        return read_cache(self.cache_path, self.root)

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
            entries = {path: entry for path, entry in self._files.items()
                       if path not in self._overlay}
            self._dirty = False
        write_cache(self.cache_path, self.root, entries)
