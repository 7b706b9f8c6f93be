"""Crash-safe file operations of fine-tuning: copies and JSON written and fsynced, folders
made durable and swapped in whole, what interrupted writers left behind cleaned up or
recovered, and a full disk reported as such.

A folder is deleted by first renaming it out of the readers' sight (:func:`discard`); a folder
is replaced by writing its successor next to it and renaming (:func:`swap_in`), and what a
process killed between those renames leaves is put right by :func:`recover_swap`.

:func:`fault_point` marks the places where the fault-injection tests kill the process: it does
nothing unless the environment variable :data:`FAULT_ENV` names that place.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import shutil
import signal
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

FAULT_ENV = "KODAMA_FAULT_AT"
"""Test hook: ``NAME`` or ``NAME@N`` makes the process kill itself (SIGKILL, as a power cut or
the out-of-memory killer would) at the :func:`fault_point` called ``NAME``, the first or the
``N``-th time it is reached. Only the fault-injection tests set it."""
_reached: dict[str, int] = {}

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


# ------------------------------------------------------------------------ faults
def fault_point(name: str) -> None:
    """A place where a crash must lose nothing: killed here when :data:`FAULT_ENV` says so."""
    wanted = os.environ.get(FAULT_ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition("@")
    if point != name:
        return
    _reached[name] = _reached.get(name, 0) + 1
    if _reached[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


class DiskFull(OSError):
    """A write ran out of disk space; the message names the folder, the space the write needs
    and what to do. What was there before the write is intact."""

    def __init__(self, what: str, folder: Path, needed: int, remedy: str) -> None:
        """``what`` failed to be written into ``folder``, which needs ``needed`` bytes."""
        free = free_bytes(folder)
        self.message = (f"{os.strerror(errno.ENOSPC)}: {what} needs about {_size(needed)} in "
                        f"{folder}" + (f" ({_size(free)} free)" if free is not None else "")
                        + f". Free some space, then {remedy}")
        super().__init__(errno.ENOSPC, self.message, str(folder))

    def __str__(self) -> str:
        """The message alone (not ``[Errno 28] ...``)."""
        return self.message


def _size(size: int) -> str:
    """``size`` bytes for a person: ``12.3 MB``."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{max(size, 0) / 1e3:,.1f} kB"


def free_bytes(folder: Path) -> int | None:
    """Free space on the disk holding ``folder`` (or its nearest existing parent)."""
    for candidate in (folder, *folder.parents):
        with contextlib.suppress(OSError):
            return shutil.disk_usage(candidate).free
    return None


def _says_disk_full(error: BaseException) -> bool:
    """Whether ``error`` (or what it wraps) says that the disk or the quota is full."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "No space left on device" in str(seen) or "os error 28" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@contextlib.contextmanager
def reporting_full_disk(what: str, folder: Path, needed: int, remedy: str,
                        partial: Path | None = None) -> Iterator[None]:
    """Write inside this block: on failure ``partial`` (what was being written) is removed,
    and a full disk is raised as :class:`DiskFull`. Some writers (torch) do not say that the
    disk is full; less free space than ``needed`` when the write failed says it for them."""
    try:
        yield
    except DiskFull:
        raise
    except BaseException as exc:
        free = free_bytes(folder)
        if partial is not None:
            remove_tree(partial)
        if isinstance(exc, Exception) and (
                _says_disk_full(exc) or (free is not None and free < needed)):
            raise DiskFull(what, folder, needed, remedy) from exc
        raise


def tree_size(path: Path) -> int:
    """Bytes of the files under ``path`` (0 when it does not exist)."""
    total = 0
    for dirpath, _, filenames in os.walk(path):
        for name in filenames:
            with contextlib.suppress(OSError):
                total += (Path(dirpath) / name).lstat().st_size
    return total


# ------------------------------------------------------------------------ swapping folders
def _old(target: Path) -> Path:
    return target.with_name(target.name + ".old")


def swap_in(fresh: Path, target: Path) -> None:
    """Replace the folder ``target`` by the complete folder ``fresh``: ``target`` is renamed
    to ``target.old``, ``fresh`` to ``target``, and the old one deleted. A process killed
    between the two renames leaves ``target.old`` and ``fresh``: :func:`recover_swap`."""
    old = _old(target)
    remove_tree(old)
    if target.exists():
        os.rename(target, old)
        fault_point(f"swap:{target.name}")
    os.rename(fresh, target)
    remove_tree(old)


def recover_swap(fresh: Path, target: Path) -> None:
    """Put right what an interrupted :func:`swap_in` of ``fresh`` into ``target`` (or the
    write of ``fresh`` before it) left: without ``target`` but with ``target.old``, the swap
    was cut between its renames and ``fresh`` is complete (or, gone, ``target.old`` comes
    back); otherwise a ``fresh`` left over was never finished. Call it while nothing writes."""
    old = _old(target)
    if not target.exists() and old.exists():
        os.rename(fresh if fresh.exists() else old, target)
        logger.info("recovered %s, left between two renames by an interrupted run", target)
    remove_tree(old)
    remove_tree(fresh)


def replace_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON into ``path`` atomically: a reader (or a resumed run) sees the
    previous file or the new one, never a part."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(json.dumps(data))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def first_link(folder: Path) -> Path | None:
    """The first symbolic link anywhere below ``folder`` (a file or a folder), or None: a folder
    Kodama wrote holds its own files, and nothing is read from elsewhere through it."""
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in (*dirnames, *filenames):
            entry = Path(dirpath) / name
            if entry.is_symlink():
                return entry
    return None
