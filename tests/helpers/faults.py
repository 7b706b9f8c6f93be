"""Helpers of the fault-injection tests: a real full disk (a tiny tmpfs mounted where the test
says; skipped where mounting is not permitted) and an adapter installed before a run, which
every fault must leave in place."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kodama.model.finetune.store import AdapterStore, Installed


@contextlib.contextmanager
def tiny_disk(mount_point: Path, size_kb: int) -> Iterator[Path]:
    """``mount_point`` as a tmpfs of ``size_kb`` kB, unmounted afterwards; skips the test
    where mounting is not permitted (not root, or a container without the capability)."""
    mount_point.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs",
                              str(mount_point)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path, leave_bytes: int) -> Path:
    """Fill ``disk`` until about ``leave_bytes`` are free; the filler file."""
    import shutil

    filler = disk / "filler"
    free = shutil.disk_usage(disk).free
    with filler.open("wb") as f:
        f.write(b"\0" * max(free - leave_bytes, 0))
    return filler


def install_previous(root: Path, model: Path, work: Path) -> Installed:
    """A fresh LoRA adapter of ``model`` installed for ``root`` (its files made in ``work``)."""
    from kodama.model.config import FineTuneConfig
    from kodama.model.finetune.adapter import make_trainable
    from kodama.model.loader import load_model

    trainable = make_trainable(load_model(str(model), dtype="float32").model, FineTuneConfig())
    trainable.save_pretrained(str(work / "previous"))
    return AdapterStore().install(root, work / "previous", {"model": str(model), "method": "lora"})
