"""Kodama's cache of converted model folders: where it is, and how a folder gets into it safely.

A finished folder carries a completion marker written last (layout version, source SHA-256,
file sizes); :func:`is_complete` checks it cheaply on every start. :func:`ensure_folder` builds
a missing folder under a lock shared with other processes, in scratch space beside it, and
renames it into place, so a folder is either complete or absent.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Literal

from kodama.model.errors import ModelLoadError
from kodama.model.presets import Preset
from kodama.model.types import ProgressFn, report_progress

logger = logging.getLogger(__name__)

StoredDtype = Literal["bfloat16", "float32"]
"""Float types a converted folder can be stored in."""

STORED_DTYPE: StoredDtype = "bfloat16"
"""Float type of converted folders. bfloat16 halves disk and load time; a folder stored in it
and loaded as bfloat16 holds bit-identical weights to a float32 folder loaded as bfloat16."""

FORMAT_VERSION = 1
"""Version of the converted-folder layout; bump it to make every cache entry rebuild."""

MARKER_NAME = ".kodama-complete.json"
"""Completion marker, written last into a converted folder."""

READ_BLOCK_BYTES = 8 << 20
"""Bytes read at a time when streaming weights (hashing, assembling)."""
CACHE_ENV = "KODAMA_CACHE_DIR"
"""Environment variable that overrides the cache folder."""


def cache_root() -> Path:
    """Kodama's cache folder: ``$KODAMA_CACHE_DIR`` if set, else the per-user cache directory."""
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("kodama", appauthor=False))


def _folder_files(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): p.stat().st_size
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MARKER_NAME
    }


def _write_marker(folder: Path, sha256: str, source: str) -> None:
    import transformers

    marker = {
        "format": FORMAT_VERSION,
        "sha256": sha256,
        "source": source,
        "dtype": STORED_DTYPE,
        "transformers": transformers.__version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "files": _folder_files(folder),
    }
    tmp = folder / f"{MARKER_NAME}.tmp"
    tmp.write_text(json.dumps(marker, indent=1), encoding="utf-8")
    os.replace(tmp, folder / MARKER_NAME)


def is_complete(folder: Path, sha256: str | None = None) -> bool:
    """Whether ``folder`` is a finished conversion (of the GGUF with ``sha256``, if given).

    Checks the completion marker, the layout version and that every file it lists is there
    with its recorded size: cheap enough for every start.
    """
    try:
        marker = json.loads((folder / MARKER_NAME).read_text(encoding="utf-8"))
        if marker.get("format") != FORMAT_VERSION:
            return False
        if sha256 is not None and marker.get("sha256") != sha256.lower():
            return False
        files = marker["files"]
        return bool(files) and all(
            (folder / name).stat().st_size == size for name, size in files.items()
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


@contextlib.contextmanager
def _exclusive(lock_path: Path, progress: ProgressFn | None, what: str) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (blocking), so one process converts at a time."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle: IO[bytes] = lock_path.open("a+b")
    try:
        if sys.platform == "win32":  # pragma: no cover - Kodama's machines are POSIX
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
        else:
            import fcntl

            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                report_progress(
                    progress, f"Waiting for another Kodama process preparing {what}", None
                )
                logger.info("waiting for %s", lock_path)
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield
    finally:
        handle.close()  # closing releases the lock


def _remove_tree(path: Path) -> None:
    """Remove a folder, first renaming it out of the way so no reader sees it half-deleted."""
    if not path.exists():
        return
    trash = path.with_name(f".{path.name}.trash-{os.getpid()}-{time.monotonic_ns()}")
    os.replace(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def ensure_folder(
    final: Path,
    sha256: str,
    what: str,
    build: Callable[[Path, Path], None],
    progress: ProgressFn | None,
) -> Path:
    """Return ``final`` once it holds a complete conversion, running ``build`` if it does not.

    ``build(work_dir, out_dir)`` must create the model folder ``out_dir``; ``work_dir`` is
    scratch space. Both live beside ``final`` (same filesystem) and the finished folder is
    renamed into place, marker already inside, so ``final`` is either complete or absent.
    """
    if is_complete(final, sha256):
        return final
    parent = final.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ModelLoadError(
            f"Cannot create Kodama's model cache {parent}: {error}. "
            f"Set {CACHE_ENV} to a writable folder."
        ) from error
    with _exclusive(parent / f".{final.name}.lock", progress, what):
        if is_complete(final, sha256):  # another process finished it while we waited
            return final
        for stale in parent.glob(f".{final.name}.build-*"):  # left by a crashed conversion
            shutil.rmtree(stale, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix=f".{final.name}.build-", dir=parent))
        try:
            out = work / "model"
            build(work, out)
            _write_marker(out, sha256, what)
            _remove_tree(final)  # an incomplete folder from an older crash, or an old format
            os.replace(out, final)
        except ModelLoadError:
            raise
        except Exception as error:
            raise ModelLoadError(
                f"Converting {what} into {final} failed: {type(error).__name__}: "
                f"{str(error).rstrip('.')}. "
                "Check free disk space and memory (about 4 GB for the default model), then try "
                f"again; set {CACHE_ENV} to use another cache folder."
            ) from error
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return final


def converted_dir(preset: Preset, root: Path | None = None) -> Path:
    """Where ``preset``'s converted folder lives (whether or not it exists yet)."""
    base = root if root is not None else cache_root()
    return base / "models" / f"{preset.name}-{preset.sha256.lower()[:12]}"


def file_sha256(path: Path, progress: ProgressFn | None = None) -> str:
    """SHA-256 of a file, streamed."""
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as handle:
        while block := handle.read(READ_BLOCK_BYTES):
            digest.update(block)
            done += len(block)
            report_progress(progress, f"Hashing {path.name}", done / total if total else None)
    return digest.hexdigest()


def cached_sha256(path: Path, root: Path, progress: ProgressFn | None) -> str:
    """SHA-256 of ``path``, remembered in the cache by (path, size, mtime) to skip rehashing."""
    index_path = root / "gguf-sha256.json"
    stat = path.stat()
    key = str(path.resolve())
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
        entry = index.get(key, {})
        if entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns:
            return str(entry["sha256"])
    except (OSError, ValueError, KeyError, AttributeError):
        index = {}
    sha = file_sha256(path, progress)
    index[key] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha}
    with contextlib.suppress(OSError):
        root.mkdir(parents=True, exist_ok=True)
        tmp = index_path.with_name(f"{index_path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(index, indent=1), encoding="utf-8")
        os.replace(tmp, index_path)
    return sha

