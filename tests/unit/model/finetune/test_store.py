"""The adapter store: atomic installs, the pointer, fallbacks, rollback, prune."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from kodama.model.finetune import store as store_module
from kodama.model.finetune.store import (
    METADATA_NAME,
    POINTER_NAME,
    AdapterStore,
    Installed,
    repo_key,
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "work" / "my repo!"
    root.mkdir(parents=True)
    return root


@pytest.fixture
def store(tmp_path: Path) -> AdapterStore:
    return AdapterStore(tmp_path / "adapters")


def make_adapter(folder: Path, tag: str) -> Path:
    """A fake adapter: a config, weights and a nested file, all marked with ``tag``."""
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps({"tag": tag}))
    (folder / "adapter_model.safetensors").write_bytes(tag.encode() * 1000)
    (folder / "extra").mkdir()
    (folder / "extra" / "notes.txt").write_text(f"notes {tag}")
    return folder


def install(store: AdapterStore, root: Path, tmp_path: Path, tag: str) -> Installed:
    return store.install(root, make_adapter(tmp_path / "src" / tag, tag), {"tag": tag, "steps": 7})


def key_dir(store: AdapterStore, root: Path) -> Path:
    return store.base / repo_key(root)


def weights(installed: Installed) -> bytes:
    return (installed.path / "adapter_model.safetensors").read_bytes()


def leftovers(store: AdapterStore, root: Path) -> list[str]:
    return sorted(
        p.name
        for p in (key_dir(store, root) / "versions").iterdir()
        if p.name.startswith((".incoming-", ".deleting-"))
    )


# -- repo_key ------------------------------------------------------------------------------


def test_repo_key_is_stable_sanitised_and_tells_same_named_folders_apart(tmp_path: Path) -> None:
    first = tmp_path / "a" / "my repo!"
    second = tmp_path / "b" / "my repo!"
    first.mkdir(parents=True)
    second.mkdir(parents=True)
    key = repo_key(first)
    assert key == repo_key(first)
    assert key == repo_key(tmp_path / "a" / ".." / "a" / "my repo!")
    name, digest = key.rsplit("-", 1)
    assert name == "my_repo_"
    assert len(digest) == 12
    assert int(digest, 16) >= 0
    assert repo_key(second) != key
    assert repo_key(second).startswith("my_repo_-")


# -- install and current -------------------------------------------------------------------


def test_install_copies_records_and_becomes_current(
    store: AdapterStore, repo: Path, tmp_path: Path
) -> None:
    assert store.current(repo) is None
    assert store.stamp(repo) is None
    installed = install(store, repo, tmp_path, "one")

    assert installed.path == key_dir(store, repo) / "versions" / installed.version
    assert installed.root == str(repo.resolve())
    assert weights(installed) == b"one" * 1000
    assert (installed.path / "extra" / "notes.txt").read_text() == "notes one"
    on_disk = json.loads((installed.path / METADATA_NAME).read_text())
    assert on_disk == installed.meta
    assert on_disk["tag"] == "one"
    assert on_disk["steps"] == 7
    assert on_disk["version"] == installed.version
    assert on_disk["root"] == str(repo.resolve())
    assert on_disk["installed_at"].endswith("+00:00")
    assert sorted(on_disk["files"]) == [
        "adapter_config.json",
        "adapter_model.safetensors",
        "extra/notes.txt",
    ]
    assert on_disk["sizes"]["adapter_model.safetensors"] == 3000
    assert store.verify(installed) is None

    assert store.current(repo) == installed
    pointer = json.loads((key_dir(store, repo) / POINTER_NAME).read_text())
    assert pointer == {"version": installed.version, "history": []}
    assert leftovers(store, repo) == []


def test_second_install_is_current_and_first_goes_to_history(
    store: AdapterStore, repo: Path, tmp_path: Path
) -> None:
    first = install(store, repo, tmp_path, "one")
    second = install(store, repo, tmp_path, "two")
    assert second.version != first.version
    current = store.current(repo)
    assert current is not None
    assert current.version == second.version
    assert weights(current) == b"two" * 1000
    assert [v.version for v in store.versions(repo)] == [first.version, second.version]
    pointer = json.loads((key_dir(store, repo) / POINTER_NAME).read_text())
    assert pointer == {"version": second.version, "history": [first.version]}


def test_versions_in_the_same_second_get_numbered_and_sort_in_order(
    store: AdapterStore, repo: Path, tmp_path: Path
) -> None:
    installed = [install(store, repo, tmp_path, f"t{i}") for i in range(12)]
    names = [i.version for i in installed]
    assert len(set(names)) == 12
    assert [v.version for v in store.versions(repo)] == sorted(
        names, key=lambda n: (n[:15], int(n[16:] or 0))
    )
    current = store.current(repo)
    assert current is not None
    assert current.version == names[-1]


def test_source_must_be_a_folder_with_files(
    store: AdapterStore, repo: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no adapter files"):
        store.install(repo, empty, {})
    with pytest.raises(ValueError, match="not a folder"):
        store.install(repo, tmp_path / "missing", {})
    with pytest.raises(TypeError):
        store.install(repo, make_adapter(tmp_path / "src", "x"), {"bad": object()})
    assert store.current(repo) is None


# -- rollback ------------------------------------------------------------------------------


def test_rollback_walks_back_and_then_changes_nothing(
    store: AdapterStore, repo: Path, tmp_path: Path
) -> None:
    first = install(store, repo, tmp_path, "one")
    second = install(store, repo, tmp_path, "two")

    back = store.rollback(repo)
    assert back is not None
    assert back.version == first.version
    current = store.current(repo)
    assert current is not None
    assert current.version == first.version
    assert weights(current) == b"one" * 1000
    assert second.path.is_dir()  # rolled back from, still on disk
    assert [v.version for v in store.versions(repo)] == [first.version, second.version]

    stamp = store.stamp(repo)
    assert store.rollback(repo) is None
    assert store.stamp(repo) == stamp
    current = store.current(repo)
    assert current is not None
    assert current.version == first.version


def test_rollback_with_three_versions_walks_back_one_at_a_time(
    store: AdapterStore, repo: Path, tmp_path: Path
) -> None:
    one, two, _three = (install(store, repo, tmp_path, t) for t in ("one", "two", "three"))
    first = store.rollback(repo)
    assert first is not None
    assert first.version == two.version
    second = store.rollback(repo)
    assert second is not None
    assert second.version == one.version
    assert store.rollback(repo) is None


def test_rollback_to_a_named_version(store: AdapterStore, repo: Path, tmp_path: Path) -> None:
    one, two, three = (install(store, repo, tmp_path, t) for t in ("one", "two", "three"))

    back = store.rollback(repo, to=one.version)
    assert back is not None
    assert back.version == one.version
    current = store.current(repo)
    assert current is not None
    assert current.version == one.version
    assert store.rollback(repo) is None  # nothing older than "one" in the history

    # Forward to a version rolled back from: the current one goes onto the history.
    forward = store.rollback(repo, to=three.version)
    assert forward is not None
    assert forward.version == three.version
    pointer = json.loads((key_dir(store, repo) / POINTER_NAME).read_text())
    assert pointer == {"version": three.version, "history": [one.version]}
    again = store.rollback(repo)
    assert again is not None
    assert again.version == one.version

    same = store.rollback(repo, to=one.version)
    assert same is not None
    assert same.version == one.version

    with pytest.raises(ValueError, match="no complete adapter version"):
        store.rollback(repo, to="20000101-000000")
    with pytest.raises(ValueError, match="no complete adapter version"):
        store.rollback(repo, to="../../etc")
    current = store.current(repo)
    assert current is not None
    assert current.version == one.version
    assert two.path.is_dir()


# -- crash safety --------------------------------------------------------------------------


def test_failure_during_the_copy_keeps_the_old_current(
    store: AdapterStore, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = install(store, repo, tmp_path, "one")
    stamp = store.stamp(repo)
    real_copy = store_module.copy_file
    seen: list[Installed | None] = []

    def copy_then_fail(source: Path, target: Path) -> tuple[int, str]:
        # Mid-install, readers still see the old adapter and never the incoming folder.
        seen.append(store.current(repo))
        if len(seen) == 2:
            raise OSError(28, "No space left on device")
        return real_copy(source, target)

    monkeypatch.setattr(store_module, "copy_file", copy_then_fail)
    with pytest.raises(OSError, match="No space left"):
        install(store, repo, tmp_path, "two")

    assert seen == [old, old]
    assert store.current(repo) == old
    assert store.stamp(repo) == stamp
    assert [v.version for v in store.versions(repo)] == [old.version]
    assert leftovers(store, repo) == []


def test_failure_renaming_the_version_into_place_keeps_the_old_current(
    store: AdapterStore, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = install(store, repo, tmp_path, "one")
    real_rename = os.rename

    def rename(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if Path(src).name.startswith(".incoming-"):
            raise OSError(5, "Input/output error")
        real_rename(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(OSError, match="Input/output"):
        install(store, repo, tmp_path, "two")
    monkeypatch.undo()

    assert store.current(repo) == old
    assert [v.version for v in store.versions(repo)] == [old.version]
    assert leftovers(store, repo) == []


def test_failure_replacing_the_pointer_keeps_the_old_current(
    store: AdapterStore, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = install(store, repo, tmp_path, "one")
    stamp = store.stamp(repo)
    real_replace = os.replace

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if Path(dst).name == POINTER_NAME:
            raise OSError(5, "Input/output error")
        real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="Input/output"):
        install(store, repo, tmp_path, "two")
    monkeypatch.undo()

    assert store.current(repo) == old
    assert store.stamp(repo) == stamp
    assert json.loads((key_dir(store, repo) / POINTER_NAME).read_text()) == {
        "version": old.version,
        "history": [],
    }
    # The half-installed version is taken away again, and no temporary pointer is left.
    assert [v.version for v in store.versions(repo)] == [old.version]
    assert leftovers(store, repo) == []
    assert sorted(p.name for p in key_dir(store, repo).iterdir()) == [POINTER_NAME, "versions"]


def test_leftovers_of_a_crashed_install_are_never_read_and_are_cleaned_next_time(
    store: AdapterStore, repo: Path, tmp_path: Path
) -> None:
    old = install(store, repo, tmp_path, "one")
    versions = key_dir(store, repo) / "versions"
    # What a process killed mid-install leaves: a complete-looking incoming folder, a pointer
    # temporary file. The pid 999999999 is above any kernel's pid_max, so it is not alive.
    crashed = versions / ".incoming-29990101-000000-999999999"
    make_adapter(crashed, "crashed")
    meta = dict(old.meta, version="29990101-000000")
    (crashed / METADATA_NAME).write_text(json.dumps(meta))
    tmp_pointer = key_dir(store, repo) / ".current-1-999999999.tmp"
    tmp_pointer.write_text('{"version": "29990101-000000", "hist')

    assert store.current(repo) == old
    assert [v.version for v in store.versions(repo)] == [old.version]

    new = install(store, repo, tmp_path, "two")
    assert not crashed.exists()
    assert not tmp_pointer.exists()
    assert store.current(repo) == new


# -- fallbacks -----------------------------------------------------------------------------


def test_corrupt_pointer_falls_back_without_raising(
    store: AdapterStore, repo: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    install(store, repo, tmp_path, "one")
    second = install(store, repo, tmp_path, "two")
    pointer = key_dir(store, repo) / POINTER_NAME
    pointer.write_text('{"version": "2024')
    current = store.current(repo)
    assert current is not None
    assert current.version == second.version  # the newest complete version on disk
    assert any("not valid JSON" in r.getMessage() for r in caplog.records)
    assert store.stamp(repo) is not None
    assert store.prune(repo, keep=0) == []  # refuses to guess what to keep

    pointer.write_text(json.dumps({"version": "../../../etc", "history": []}))
    current = store.current(repo)
    assert current is not None
    assert current.version == second.version

    third = install(store, repo, tmp_path, "three")  # an install repairs the pointer
    assert store.current(repo) == third
    back = store.rollback(repo)
    assert back is not None
    assert back.version == second.version


def test_unreadable_pointer_does_not_raise(store: AdapterStore, repo: Path, tmp_path: Path) -> None:
    install(store, repo, tmp_path, "one")
    pointer = key_dir(store, repo) / POINTER_NAME
    pointer.unlink()
    pointer.mkdir()  # reading it fails with an OSError
    current = store.current(repo)
    assert current is not None
    assert weights(current) == b"one" * 1000


def test_pointer_to_a_missing_version_falls_back_along_the_history(
    store: AdapterStore, repo: Path, tmp_path: Path
) -> None:
    first = install(store, repo, tmp_path, "one")
    second = install(store, repo, tmp_path, "two")
    pointer = key_dir(store, repo) / POINTER_NAME
    pointer.write_text(
        json.dumps({"version": "29990101-000000", "history": [first.version, second.version]})
    )
    current = store.current(repo)
    assert current is not None
    assert current.version == second.version
    back = store.rollback(repo)
    assert back is not None
    assert back.version == first.version


def test_missing_file_falls_back_to_the_older_complete_version(
    store: AdapterStore, repo: Path, tmp_path: Path
) -> None:
    first = install(store, repo, tmp_path, "one")
    second = install(store, repo, tmp_path, "two")
    (second.path / "extra" / "notes.txt").unlink()
    current = store.current(repo)
    assert current is not None
    assert current.version == first.version
    assert [v.version for v in store.versions(repo)] == [first.version]
    assert store.rollback(repo) is None  # nothing older than the fallback


def test_truncated_file_falls_back_and_nothing_left_means_none(
    store: AdapterStore, repo: Path, tmp_path: Path
) -> None:
    first = install(store, repo, tmp_path, "one")
    second = install(store, repo, tmp_path, "two")
    (second.path / "adapter_model.safetensors").write_bytes(b"two")
    current = store.current(repo)
    assert current is not None
    assert current.version == first.version
    (first.path / METADATA_NAME).write_text("{")
    assert store.current(repo) is None
    assert store.versions(repo) == []


def test_verify_detects_a_modified_file_of_the_same_size(
    store: AdapterStore, repo: Path, tmp_path: Path
) -> None:
    installed = install(store, repo, tmp_path, "one")
    assert store.verify(installed) is None
    weights_file = installed.path / "adapter_model.safetensors"
    weights_file.write_bytes(b"eno" * 1000)
    assert store.current(repo) == installed  # the cheap check cannot tell
    problem = store.verify(installed)
    assert problem is not None
    assert "adapter_model.safetensors" in problem
    assert "SHA-256" in problem

    weights_file.write_bytes(b"x")
    problem = store.verify(installed)
    assert problem is not None
    assert "bytes" in problem
    weights_file.unlink()
    problem = store.verify(installed)
    assert problem is not None
    assert "missing" in problem


# -- stamp, uninstall, prune ---------------------------------------------------------------


def test_stamp_changes_with_every_pointer_change(
    store: AdapterStore, repo: Path, tmp_path: Path
) -> None:
    assert store.stamp(repo) is None
    install(store, repo, tmp_path, "one")
    first = store.stamp(repo)
    assert first is not None
    assert store.stamp(repo) == first
    install(store, repo, tmp_path, "two")
    second = store.stamp(repo)
    assert second is not None
    assert second != first
    store.rollback(repo)
    third = store.stamp(repo)
    assert third not in (None, first, second)
    assert store.uninstall(repo) is True
    assert store.stamp(repo) is None


def test_uninstall_keeps_the_files_until_prune(
    store: AdapterStore, repo: Path, tmp_path: Path
) -> None:
    first = install(store, repo, tmp_path, "one")
    second = install(store, repo, tmp_path, "two")
    assert store.uninstall(repo) is True
    assert store.current(repo) is None
    assert store.uninstall(repo) is False
    assert store.rollback(repo) is None
    assert [v.version for v in store.versions(repo)] == [first.version, second.version]

    # A named version can be made current again after an uninstall.
    again = store.rollback(repo, to=first.version)
    assert again is not None
    assert store.current(repo) == again
    assert store.uninstall(repo) is True

    assert store.prune(repo) == [first.version, second.version]
    assert store.versions(repo) == []
    assert not first.path.exists()


def test_prune_keeps_current_and_the_newest_of_the_history(
    store: AdapterStore, repo: Path, tmp_path: Path
) -> None:
    installed = [install(store, repo, tmp_path, f"v{i}") for i in range(5)]
    names = [i.version for i in installed]

    assert store.prune(repo, keep=2) == names[:2]
    assert [v.version for v in store.versions(repo)] == names[2:]
    pointer = json.loads((key_dir(store, repo) / POINTER_NAME).read_text())
    assert pointer == {"version": names[4], "history": names[2:4]}
    assert leftovers(store, repo) == []

    # The current version survives even keep=0, also when it is an older one.
    back = store.rollback(repo)
    assert back is not None
    assert back.version == names[3]
    assert store.prune(repo, keep=0) == [names[2], names[4]]
    current = store.current(repo)
    assert current is not None
    assert current.version == names[3]
    assert store.verify(current) is None
    assert [v.version for v in store.versions(repo)] == [names[3]]
    with pytest.raises(ValueError):
        store.prune(repo, keep=-1)


def test_repositories_are_kept_apart(store: AdapterStore, tmp_path: Path) -> None:
    first = tmp_path / "a" / "repo"
    second = tmp_path / "b" / "repo"
    first.mkdir(parents=True)
    second.mkdir(parents=True)
    mine = install(store, first, tmp_path / "x", "one")
    assert store.current(second) is None
    assert store.versions(second) == []
    theirs = install(store, second, tmp_path / "y", "two")
    assert store.current(first) == mine
    assert store.current(second) == theirs


def test_default_base_is_in_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KODAMA_CACHE_DIR", str(tmp_path / "cache"))
    assert AdapterStore().base == tmp_path / "cache" / "adapters"
