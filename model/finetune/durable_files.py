"""Crash-safe file operations of the adapter store: copies and JSON written and fsynced,
folders made durable, and what interrupted writers left behind cleaned up.

A folder is deleted by first renaming it out of the readers' sight (:func:`discard`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DELETING = ".deleting-"
"""Name prefix of a folder being deleted (out of the readers' sight)."""
_STALE_AFTER_S = 24 * 3600.0
_CHUNK = 1 << 20


def copy_file(source: Path, target: Path) -> tuple[int, str]:
    """Copy one file and fsync it; return its size and SHA-256."""
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as src, target.open("xb") as dst:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    return size, digest.hexdigest()


def sha256_of(file: Path) -> str:
    """The file's SHA-256, in hex."""
    digest = hashlib.sha256()
    with file.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` as indented JSON and fsync the file."""
    text = json.dumps(data, indent=2) + "\n"
    with path.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def fsync_dir(folder: Path) -> None:
    """Make a folder's entries durable (best effort: not every system can fsync a folder)."""
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def clean_leftovers(folder: Path, *prefixes: str) -> None:
    """Remove what interrupted writers left in ``folder`` (names ``<prefix>...-<pid>``)."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        name = entry.name.removesuffix(".tmp")
        if not name.startswith(prefixes):
            continue
        pid = name.rsplit("-", 1)[-1]
        try:
            age = time.time() - entry.lstat().st_mtime
        except OSError:
            continue
        if age > _STALE_AFTER_S or not (pid.isdigit() and _pid_alive(int(pid))):
            logger.info("removing %s, left by an interrupted adapter install", entry)
            remove_tree(entry)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name == "nt":
        return True  # no harmless probe there: the age rule cleans up
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OverflowError:
        return False
    except OSError:
        return True  # exists, someone else's
    return True


def remove_tree(path: Path) -> None:
    """Delete a folder or a file, whatever is there (errors ignored)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


def discard(version_dir: Path) -> None:
    """Delete a version folder, first renaming it out of the readers' sight."""
    doomed = version_dir.with_name(f"{DELETING}{version_dir.name}-{time.time_ns()}-{os.getpid()}")
    try:
        os.rename(version_dir, doomed)
    except OSError:
        doomed = version_dir
    remove_tree(doomed)
