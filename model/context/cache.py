"""The workspace index on disk: one JSON file per repository, read back on the next start.

The file lives under ``cache_root()/index/<hash of the root>.json`` and holds, per indexed file,
its content hash, size, modification time, language, definitions, imports and chunks. A file
of another :data:`CACHE_VERSION` or of another root is ignored; writes are atomic.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kodama.model.context.analysis import Chunk, FileEntry
from kodama.syntax.tags import Definition, Import

log = logging.getLogger(__name__)

CACHE_VERSION = 1
"""Version of the cache layout; a cache of another version is ignored (and rebuilt)."""


def default_cache_path(root: Path) -> Path:
    """Where the index of the repository at ``root`` is cached."""
    from kodama.model.weights import cache_root

    key = hashlib.sha256(str(root.resolve()).encode("utf-8")).hexdigest()[:20]
    return cache_root() / "index" / f"{key}.json"


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


def read_cache(cache_path: Path, root: Path) -> dict[str, FileEntry]:
    """The entries cached at ``cache_path`` for the repository at ``root`` (empty when there is
    no usable cache: missing, unreadable, of another version or another root)."""
    try:
        raw = json.loads(cache_path.read_text(encoding="utf-8"))
        if raw.get("version") != CACHE_VERSION or raw.get("root") != str(root):
            return {}
        return {path: _entry_from_json(path, item) for path, item in raw["files"].items()}
    except (OSError, ValueError, TypeError, KeyError) as exc:
        if not isinstance(exc, FileNotFoundError):
            log.warning("ignoring the index cache %s: %s", cache_path, exc)
        return {}


def write_cache(cache_path: Path, root: Path, entries: Mapping[str, FileEntry]) -> None:
    """Write ``entries`` as the cache of the repository at ``root`` (atomically; a failure is
    logged, not raised)."""
    files = {path: _entry_to_json(entry) for path, entry in entries.items()}
    payload = {"version": CACHE_VERSION, "root": str(root), "files": files}
    tmp: str | None = None
    try:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(payload, out, separators=(",", ":"))
        os.replace(tmp, cache_path)
    except OSError as exc:
        log.warning("could not write the index cache %s: %s", cache_path, exc)
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
