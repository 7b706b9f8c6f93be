"""How one installed adapter version is recorded on disk and read back: version names, the
pointer naming the current version, and the record (``kodama-adapter.json``) listing each
file with its size and SHA-256.

Reading only, and cheap: :func:`load_version` checks that every recorded file is present with
its recorded size; :class:`~kodama.model.finetune.store.AdapterStore` builds on these.
"""

from __future__ import annotations

import json
import logging
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

logger = logging.getLogger(__name__)

METADATA_NAME = "kodama-adapter.json"
"""The record inside each version folder: the caller's metadata plus version, root, files."""
POINTER_NAME = "current.json"
"""The pointer naming a repository's current version and the history before it."""
VERSION_RE = re.compile(r"(\d{8}-\d{6})(?:-(\d+))?")
"""A version name: ``YYYYmmdd-HHMMSS`` (group 1) and an optional ``-N`` (group 2)."""
_SHA256_RE = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Installed:
    """One complete installed adapter version of a repository."""

    root: str
    """The repository's resolved path."""
    version: str
    """The version name, ``YYYYmmdd-HHMMSS`` (UTC) with a ``-N`` suffix when that was taken."""
    path: Path
    """The folder holding the adapter files (and ``kodama-adapter.json``)."""
    meta: dict[str, Any] = field(repr=False)
    """The stored metadata: the caller's plus ``version``, ``root``, ``installed_at``,
    ``files`` (relative path -> SHA-256) and ``sizes`` (relative path -> bytes)."""


@dataclass(frozen=True)
class Pointer:
    """What ``current.json`` says: the current version and the ones before it, newest last."""

    version: str
    history: list[str]


def is_version(name: str) -> bool:
    """Whether ``name`` is a version folder's name."""
    return VERSION_RE.fullmatch(name) is not None


def version_key(name: str) -> tuple[str, int]:
    """Sort key of a version name: oldest first, ``-N`` suffixes in number order."""
    match = VERSION_RE.fullmatch(name)
    assert match is not None
    return match[1], int(match[2] or 0)


def read_pointer(path: Path) -> tuple[Pointer | None, bool]:
    """The pointer, or None; and whether the file exists but cannot be used."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, False
    except OSError as exc:
        logger.warning("cannot read the adapter pointer %s: %s", path, exc)
        return None, True
    try:
        data = json.loads(raw)
    except ValueError as exc:
        logger.warning("the adapter pointer %s is not valid JSON: %s", path, exc)
        return None, True
    version = data.get("version") if isinstance(data, dict) else None
    history = data.get("history", []) if isinstance(data, dict) else None
    if (
        not isinstance(version, str)
        or not is_version(version)
        or not isinstance(history, list)
        or not all(isinstance(v, str) and is_version(v) for v in history)
    ):
        logger.warning("the adapter pointer %s does not name a version", path)
        return None, True
    return Pointer(version, [v for v in history if v != version]), False


def recorded_files(meta: Mapping[str, Any], version: str) -> dict[str, tuple[int, str]] | None:
    """The recorded files of a version's metadata (path -> size, SHA-256); None if invalid."""
    files = meta.get("files")
    sizes = meta.get("sizes")
    if meta.get("version") != version or not isinstance(files, dict) or not isinstance(sizes, dict):
        return None
    if set(files) != set(sizes):
        return None
    entries: dict[str, tuple[int, str]] = {}
    for rel, digest in files.items():
        size = sizes[rel]
        if not isinstance(digest, str) or not _SHA256_RE.fullmatch(digest):
            return None
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            return None
        if not safe_relpath(rel):
            return None
        entries[rel] = (size, digest)
    return entries


def safe_relpath(rel: object) -> bool:
    """Whether ``rel`` is a relative POSIX path that stays inside a version folder (and is not
    the record itself)."""
    if not isinstance(rel, str) or not rel or "\\" in rel or rel == METADATA_NAME:
        return False
    path = PurePosixPath(rel)
    return not path.is_absolute() and all(part not in ("", ".", "..") for part in rel.split("/"))


def load_version(root: str, folder: Path) -> Installed | None:
    """The version in ``folder`` when it is complete (cheap check: files and sizes), else None.
    A version is plain files only: a link in place of the folder, the record or a file (which
    could lead a reader out of the store) makes it incomplete."""
    try:
        if folder.is_symlink() or (folder / METADATA_NAME).is_symlink():
            return None
        meta = json.loads((folder / METADATA_NAME).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict):
        return None
    entries = recorded_files(meta, folder.name)
    if entries is None:
        return None
    inside = folder.resolve()
    for rel, (size, _) in entries.items():
        try:
            st = (folder / rel).lstat()
            if not (folder / rel).resolve().is_relative_to(inside):
                return None  # a linked folder on the way
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode) or st.st_size != size:
            return None
    return Installed(root, folder.name, folder, meta)
