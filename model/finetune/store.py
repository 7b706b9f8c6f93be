"""The installed LoRA adapters of ``kodama fine-tune``: one set per repository, in Kodama's cache.

Layout under ``<cache>/adapters/<repo key>/`` (see :func:`repo_key`)::

    versions/<version>/              one complete adapter: its files plus kodama-adapter.json
    versions/.incoming-<v>-<pid>/    an install in progress: never read, cleaned up later
    current.json                     {"version": v, "history": [older versions, newest last]}

An install copies the adapter into an ``.incoming-*`` folder and fsyncs it, renames the folder
into ``versions/`` in one step, and only then swaps the pointer (a temporary file, fsync,
``os.replace``): a crash at any point leaves the previous adapter current and usable.

The records (version names, pointer, per-version file list) are read by
:mod:`.adapter_versions`; the crash-safe file operations are :mod:`.durable_files`.

Readers check a version cheaply (every recorded file present with its recorded size) and fall
back along the pointer's history when it names a version that is missing or damaged;
:meth:`AdapterStore.verify` does the full SHA-256 check. Writers (install, rollback, uninstall,
prune) are meant to run one at a time, from the fine-tune command; readers (current, versions,
stamp, verify) are safe at any moment, from any process. Nothing here imports torch.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import itertools
import json
import logging
import os
import re
import stat
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kodama.model.finetune.adapter_versions import (
    METADATA_NAME,
    POINTER_NAME,
    VERSION_RE,
    Installed,
    is_version,
    load_version,
    read_pointer,
    recorded_files,
    safe_relpath,
    version_key,
)
from kodama.model.finetune.durable_files import (
    DELETING,
    clean_leftovers,
    copy_file,
    discard,
    fault_point,
    fsync_dir,
    remove_tree,
    reporting_full_disk,
    sha256_of,
    write_json,
)
from kodama.model.weights import cache_root

__all__ = [
    "METADATA_NAME",
    "POINTER_NAME",
    "AdapterStore",
    "Installed",
    "chosen_adapter",
    "repo_key",
]

logger = logging.getLogger(__name__)

_VERSIONS = "versions"
_INCOMING = ".incoming-"
_POINTER_TMP = ".current-"
_PUBLISH_ATTEMPTS = 100


def repo_key(root: Path) -> str:
    """The store's folder name for a repository: ``<sanitised folder name>-<12 hex of SHA-256>``.

    The hash is over the resolved path, so two checkouts with the same folder name differ.
    """
    resolved = root.resolve()
    name = re.sub(r"[^A-Za-z0-9._-]", "_", resolved.name)[:64] or "repo"
    digest = hashlib.sha256(str(resolved).encode("utf-8", "surrogateescape")).hexdigest()
    return f"{name}-{digest[:12]}"


@dataclass(frozen=True)
class _State:
    """What a repository's pointer amounts to once missing or damaged versions are skipped."""

    present: bool
    """Whether a pointer file exists (readable or not)."""
    corrupt: bool
    """Whether the pointer file could not be read or parsed."""
    current: Installed | None
    history: list[str]
    """The versions before ``current``, newest last."""


class AdapterStore:
    """The installed adapters of every repository, under one base folder."""

    def __init__(self, base: Path | None = None) -> None:
        """Use ``base``, by default ``<Kodama's cache>/adapters``."""
        self.base = base if base is not None else cache_root() / "adapters"

    # -- writing ---------------------------------------------------------------------------

    def install(self, root: Path, source: Path, meta: Mapping[str, Any], *,
                remedy: str = "install it again") -> Installed:
        """Install the adapter files of folder ``source`` as ``root``'s new current version.

        Atomic: until the pointer is swapped at the very end, the previous version stays
        current, and an interrupted install leaves only an ``.incoming-*`` folder that no reader
        looks at and the next install removes. ``meta`` must be JSON-serialisable; the keys
        ``version``, ``root``, ``installed_at``, ``files`` and ``sizes`` are set by the store.
        A top-level ``kodama-adapter.json`` in ``source`` is not copied.

        Raises ValueError when ``source`` is not a folder of regular files, TypeError when
        ``meta`` cannot be written as JSON, OSError when the copy or the pointer fails:
        :class:`~kodama.model.finetune.durable_files.DiskFull` when the disk is full, saying
        how much space the install needs and then ``remedy``.
        """
        record: dict[str, Any] = dict(meta)
        json.dumps(record)  # fail before touching the disk when JSON cannot hold it
        files = _source_files(source)
        key_dir = self._key_dir(root)
        versions_dir = key_dir / _VERSIONS
        needed = sum(file.stat().st_size for file, _ in files)
        with reporting_full_disk("installing the adapter", key_dir, needed, remedy):
            versions_dir.mkdir(parents=True, exist_ok=True)
            return self._install(root, files, record, versions_dir)

    def _install(self, root: Path, files: list[tuple[Path, str]], record: dict[str, Any],
                 versions_dir: Path) -> Installed:
        """:meth:`install` once the source is listed and ``versions_dir`` exists."""
        key_dir = versions_dir.parent
        clean_leftovers(key_dir, _POINTER_TMP)
        clean_leftovers(versions_dir, _INCOMING, DELETING)
        now = datetime.now(UTC)
        version, incoming = _claim(versions_dir, now.strftime("%Y%m%d-%H%M%S"))
        published: Path | None = None
        try:
            hashes: dict[str, str] = {}
            sizes: dict[str, int] = {}
            folders = {incoming}
            for file, rel in files:
                target = incoming / rel
                if target.parent not in folders:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    folders.update(p for p in target.parents if incoming in p.parents)
                sizes[rel], hashes[rel] = copy_file(file, target)
            record.update(
                version=version,
                root=str(root.resolve()),
                installed_at=now.isoformat(timespec="seconds"),
                files=hashes,
                sizes=sizes,
            )
            write_json(incoming / METADATA_NAME, record)
            for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
                fsync_dir(folder)
            fault_point("install-copied")
            published, version = _publish(incoming, versions_dir, version, record)
            fsync_dir(versions_dir)
            fault_point("install-published")
            state = self._state(root, ignore=version)
            history = list(state.history)
            if state.current is not None:
                history.append(state.current.version)
            self._write_pointer(key_dir, version, history)
        except BaseException:
            if published is None:
                remove_tree(incoming)
            else:
                pointer, _ = read_pointer(key_dir / POINTER_NAME)
                if pointer is None or pointer.version != version:
                    discard(published)
            raise
        return Installed(str(root.resolve()), version, published, record)

    def rollback(self, root: Path, *, to: str | None = None) -> Installed | None:
        """Make an earlier version current again and return it.

        Without ``to``: the newest complete version in the history before the current one; the
        version rolled back from stays on disk but leaves the history, so repeated rollbacks
        walk further back. Returns None, changing nothing, when there is nothing to roll back to.

        With ``to``: that version, which must be complete on disk (ValueError otherwise). When
        it is in the history, the history is cut back to what came before it, as above; when it
        is not (a version rolled back from, or any other one on disk), the current version goes
        onto the history as an install would put it. Naming the current version changes nothing.
        """
        state = self._state(root)
        key_dir = self._key_dir(root)
        if to is None:
            if state.current is None:
                return None
            for index in range(len(state.history) - 1, -1, -1):
                earlier = self._load_version(root, state.history[index])
                if earlier is not None:
                    self._write_pointer(key_dir, earlier.version, state.history[:index])
                    return earlier
            return None
        target = self._load_version(root, to) if is_version(to) else None
        if target is None:
            raise ValueError(f"no complete adapter version {to!r} is installed for {root}")
        if state.current is not None and state.current.version == to:
            return state.current
        if to in state.history:
            history = state.history[: len(state.history) - 1 - state.history[::-1].index(to)]
        else:
            history = list(state.history)
            if state.current is not None:
                history.append(state.current.version)
        self._write_pointer(key_dir, to, history)
        return target

    def uninstall(self, root: Path) -> bool:
        """Remove ``root``'s pointer, so no adapter is current; the versions stay on disk until
        :meth:`prune`. Returns whether an adapter was current."""
        state = self._state(root)
        key_dir = self._key_dir(root)
        try:
            (key_dir / POINTER_NAME).unlink()
        except FileNotFoundError:
            return False
        fsync_dir(key_dir)
        return state.current is not None

    def prune(self, root: Path, keep: int = 3) -> list[str]:
        """Delete the complete versions that are neither current nor among the ``keep`` newest of
        the history; return the deleted versions, oldest first.

        Deletes nothing while the pointer is unreadable (it could not tell what to keep).
        """
        if keep < 0:
            raise ValueError(f"keep must be 0 or more, not {keep}")
        state = self._state(root)
        if state.corrupt:
            logger.warning("not pruning the adapters of %s: their pointer is unreadable", root)
            return []
        protected = set(state.history[-keep:]) if keep else set()
        if state.current is not None:
            protected.add(state.current.version)
        removed: list[str] = []
        for installed in self.versions(root):
            if installed.version not in protected:
                discard(installed.path)
                removed.append(installed.version)
        history = [v for v in state.history if v not in removed]
        if state.current is not None and history != state.history:
            self._write_pointer(self._key_dir(root), state.current.version, history)
        return removed

    # -- reading ---------------------------------------------------------------------------

    def current(self, root: Path) -> Installed | None:
        """``root``'s current adapter, or None when none is installed.

        Checks cheaply that every recorded file is there with its recorded size; when the
        pointer names a version that is missing or damaged, falls back to the newest complete
        version of its history (and when the pointer itself is unreadable, to the newest
        complete version on disk), with a warning. Never raises.
        """
        try:
            return self._state(root).current
        except Exception as exc:
            logger.warning("cannot read the installed adapter of %s: %s", root, exc, exc_info=True)
            return None

    def versions(self, root: Path) -> list[Installed]:
        """``root``'s complete versions on disk, oldest first (current or not)."""
        versions_dir = self._key_dir(root) / _VERSIONS
        try:
            names = [p.name for p in versions_dir.iterdir() if is_version(p.name)]
        except FileNotFoundError:
            return []
        found = (self._load_version(root, name) for name in sorted(names, key=version_key))
        return [installed for installed in found if installed is not None]

    def verify(self, installed: Installed) -> str | None:
        """Check every file of ``installed`` against its recorded size and SHA-256.

        Returns a message naming the first problem, or None when the adapter is intact.
        """
        entries = recorded_files(installed.meta, installed.version)
        if entries is None:
            return f"{installed.path}: the adapter's record is not valid"
        if not (installed.path / METADATA_NAME).is_file():
            return f"{installed.path / METADATA_NAME}: missing"
        for rel, (size, digest) in sorted(entries.items()):
            file = installed.path / rel
            try:
                actual = file.stat().st_size
                if actual != size:
                    return f"{file}: {actual} bytes where {size} were installed"
                if sha256_of(file) != digest:
                    return f"{file}: its SHA-256 differs from the installed file's"
            except FileNotFoundError:
                return f"{file}: missing"
            except OSError as exc:
                return f"{file}: unreadable ({exc})"
        return None

    def stamp(self, root: Path) -> str | None:
        """A cheap token that changes whenever ``root``'s pointer is replaced or removed (None
        when there is none): compare it to notice a new install without reading anything."""
        try:
            st = os.stat(self._key_dir(root) / POINTER_NAME)
        except FileNotFoundError:
            return None
        except Exception as exc:
            logger.warning("cannot read the adapter pointer of %s: %s", root, exc)
            return None
        return f"{st.st_ino}:{st.st_mtime_ns}:{st.st_size}"

    # -- internals -------------------------------------------------------------------------

    def _key_dir(self, root: Path) -> Path:
        return self.base / repo_key(root)

    def _load_version(self, root: Path, version: str) -> Installed | None:
        return load_version(str(root.resolve()), self._key_dir(root) / _VERSIONS / version)

    def _state(self, root: Path, *, ignore: str | None = None) -> _State:
        """Read the pointer and skip what is missing or damaged; ``ignore`` is never current."""
        pointer_file = self._key_dir(root) / POINTER_NAME
        pointer, corrupt = read_pointer(pointer_file)
        if corrupt:
            found = [i for i in self.versions(root) if i.version != ignore]
            if found:
                logger.warning(
                    "using the newest complete adapter %s of %s instead", found[-1].version, root
                )
            return _State(True, True, found[-1] if found else None, [])
        if pointer is None:
            return _State(False, False, None, [])
        chain = [*pointer.history, pointer.version]
        for index in range(len(chain) - 1, -1, -1):
            if chain[index] == ignore:
                continue
            installed = self._load_version(root, chain[index])
            if installed is not None:
                if index != len(chain) - 1:
                    logger.warning(
                        "adapter version %s of %s is missing or incomplete; using %s",
                        pointer.version,
                        root,
                        installed.version,
                    )
                return _State(True, False, installed, chain[:index])
        logger.warning("no complete adapter version of %s is left (%s)", root, pointer_file)
        return _State(True, False, None, [])

    def _write_pointer(self, key_dir: Path, version: str, history: list[str]) -> None:
        """Replace the pointer atomically: a temporary file, fsync, ``os.replace``."""
        unique: list[str] = []
        for name in reversed(history):
            if name != version and name not in unique:
                unique.append(name)
        unique.reverse()
        tmp = key_dir / f"{_POINTER_TMP}{threading.get_ident()}-{os.getpid()}.tmp"
        try:
            write_json(tmp, {"version": version, "history": unique})
            os.replace(tmp, key_dir / POINTER_NAME)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        fsync_dir(key_dir)


def chosen_adapter(choice: str, root: Path | None,
                   store: AdapterStore | None = None) -> tuple[Path | None, str | None]:
    """(folder, label) of the adapter the setting ``model.adapter`` asks for: ``none`` → no
    adapter; ``auto`` → the one installed for ``root`` (none when there is no root or no
    install); anything else is the path of an adapter folder."""
    if choice == "none":
        return None, None
    if choice != "auto":
        folder = Path(choice).expanduser()
        return folder, folder.name
    if root is None:
        return None, None
    installed = (store or AdapterStore()).current(root)
    return (installed.path, installed.version) if installed is not None else (None, None)


def _source_files(source: Path) -> list[tuple[Path, str]]:
    """Every file under ``source`` with its relative POSIX path, in a stable order."""
    if not source.is_dir():
        raise ValueError(f"{source} is not a folder of adapter files")

    def fail(exc: OSError) -> None:
        raise exc

    found: list[tuple[Path, str]] = []
    for dirpath, dirnames, filenames in os.walk(source, onerror=fail):
        folder = Path(dirpath)
        for name in dirnames:
            if (folder / name).is_symlink():
                raise ValueError(f"{folder / name}: linked folders cannot be installed")
        dirnames.sort()
        for name in sorted(filenames):
            file = folder / name
            rel = file.relative_to(source).as_posix()
            if rel == METADATA_NAME:
                continue
            if not safe_relpath(rel):
                raise ValueError(f"{file}: its name cannot be stored portably")
            if not stat.S_ISREG(file.stat().st_mode):
                raise ValueError(f"{file} is not a regular file")
            found.append((file, rel))
    if not found:
        raise ValueError(f"{source} holds no adapter files")
    return found


def _claim(versions_dir: Path, stamp: str) -> tuple[str, Path]:
    """A free version name for ``stamp`` and the ``.incoming-*`` folder made for it."""
    for n in itertools.count():
        version = stamp if n == 0 else f"{stamp}-{n}"
        if os.path.lexists(versions_dir / version):
            continue
        incoming = versions_dir / f"{_INCOMING}{version}-{os.getpid()}"
        try:
            incoming.mkdir()
        except FileExistsError:
            continue
        return version, incoming
    raise AssertionError("unreachable")


def _publish(
    incoming: Path, versions_dir: Path, version: str, record: dict[str, Any]
) -> tuple[Path, str]:
    """Rename ``incoming`` into place, taking the next free name if another install took it."""
    stamp = VERSION_RE.fullmatch(version)
    assert stamp is not None
    n = int(stamp[2] or 0)
    for _ in range(_PUBLISH_ATTEMPTS):
        target = versions_dir / version
        try:
            os.rename(incoming, target)
            return target, version
        except OSError as exc:
            if not isinstance(exc, FileExistsError) and exc.errno != errno.ENOTEMPTY:
                raise
        while os.path.lexists(versions_dir / version):
            n += 1
            version = f"{stamp[1]}-{n}"
        record["version"] = version
        write_json(incoming / METADATA_NAME, record)
    raise FileExistsError(f"no free version name for the adapter in {versions_dir}")
