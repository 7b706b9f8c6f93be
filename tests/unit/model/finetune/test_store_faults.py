"""The adapter store under faults: a full disk during an install (simulated, and on a real
tiny tmpfs where it can be mounted) is reported with the folder and the space needed and
loses nothing; a version holding a link out of the store is never current."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from helpers.faults import fill, tiny_disk
from kodama.model.finetune import store as store_module
from kodama.model.finetune.durable_files import DiskFull
from kodama.model.finetune.store import AdapterStore, Installed, repo_key


def adapter(folder: Path, tag: str, size: int = 20_000) -> Path:
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps({"tag": tag}))
    (folder / "adapter_model.safetensors").write_bytes(tag.encode()[:1] * size)
    return folder


def assert_intact(store: AdapterStore, root: Path, first: Installed) -> None:
    current = store.current(root)
    assert current is not None and current.version == first.version
    assert store.verify(current) is None
    versions = store.base / repo_key(root) / "versions"
    assert [p.name for p in versions.iterdir()] == [first.version], "nothing left behind"


def test_a_full_disk_during_the_copy_is_reported_and_keeps_the_current_adapter(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, root = AdapterStore(tmp_path / "adapters"), tmp_path / "repo"
    root.mkdir()
    first = store.install(root, adapter(tmp_path / "a", "a"), {})
    real_copy = store_module.copy_file

    def copy_until_full(source: Path, target: Path) -> tuple[int, str]:
        if source.name == "adapter_model.safetensors":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_copy(source, target)

    monkeypatch.setattr(store_module, "copy_file", copy_until_full)
    source = adapter(tmp_path / "b", "b", size=2_500_000)
    with pytest.raises(DiskFull) as raised:
        store.install(root, source, {}, remedy="run it again")
    message = str(raised.value)
    assert message.startswith("No space left on device: installing the adapter needs about "
                              f"2.5 MB in {store.base / repo_key(root)} (")
    assert message.endswith("Free some space, then run it again")
    assert_intact(store, root, first)


def test_a_full_pointer_write_keeps_the_current_adapter(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, root = AdapterStore(tmp_path / "adapters"), tmp_path / "repo"
    root.mkdir()
    first = store.install(root, adapter(tmp_path / "a", "a"), {})

    real_write = store_module.write_json

    def full_for_the_pointer(path: Path, data: dict[str, object]) -> None:
        if path.name.startswith(".current-"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_write(path, data)

    monkeypatch.setattr(store_module, "write_json", full_for_the_pointer)
    with pytest.raises(DiskFull):
        store.install(root, adapter(tmp_path / "b", "b"), {})
    assert_intact(store, root, first)


def test_a_real_full_disk_during_an_install_loses_nothing(tmp_path: Path) -> None:
    with tiny_disk(tmp_path / "disk", 1024) as disk:
        store, root = AdapterStore(disk / "adapters"), tmp_path / "repo"
        root.mkdir()
        first = store.install(root, adapter(tmp_path / "a", "a"), {})
        filler = fill(disk, 100_000)
        with pytest.raises(DiskFull, match=r"needs about 400\.0 kB in"):
            store.install(root, adapter(tmp_path / "b", "b", size=400_000), {})
        assert_intact(store, root, first)
        filler.unlink()
        second = store.install(root, adapter(tmp_path / "c", "c", size=400_000), {})
        assert store.verify(second) is None


@pytest.mark.parametrize("link", ["file", "folder", "version"])
def test_a_version_holding_a_link_out_of_the_store_is_never_current(
        tmp_path: Path, link: str) -> None:
    store, root = AdapterStore(tmp_path / "adapters"), tmp_path / "repo"
    root.mkdir()
    first = store.install(root, adapter(tmp_path / "a", "a"), {})
    source = adapter(tmp_path / "b", "b")
    (source / "extra").mkdir()
    (source / "extra" / "notes.txt").write_text("notes")
    second = store.install(root, source, {})
    outside = tmp_path / "outside"
    outside.mkdir()
    if link == "file":  # same size, elsewhere
        secret = outside / "secret"
        secret.write_bytes((second.path / "adapter_model.safetensors").read_bytes())
        (second.path / "adapter_model.safetensors").unlink()
        (second.path / "adapter_model.safetensors").symlink_to(secret)
    elif link == "folder":
        (outside / "notes.txt").write_text("notes")
        os.rename(second.path / "extra", tmp_path / "gone")
        (second.path / "extra").symlink_to(outside)
    else:
        os.rename(second.path, outside / second.version)
        second.path.symlink_to(outside / second.version)
    current = store.current(root)
    assert current is not None and current.version == first.version
