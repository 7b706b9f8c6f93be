"""Crash-safe folders of fine-tuning: a swap cut between its two renames is recovered, a full
disk is reported as such and cleans up what it was writing, and the fault hook kills only
where and when it is told to."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kodama.model.finetune import durable_files
from kodama.model.finetune.durable_files import (
    FAULT_ENV,
    DiskFull,
    recover_swap,
    replace_json,
    reporting_full_disk,
    swap_in,
)


def folder(path: Path, tag: str) -> Path:
    path.mkdir(parents=True)
    (path / "state.json").write_text(json.dumps({"tag": tag}))
    return path


def tag(path: Path) -> str:
    return str(json.loads((path / "state.json").read_text())["tag"])


def test_swap_in_replaces_the_folder_whole(tmp_path: Path) -> None:
    target = folder(tmp_path / "checkpoint", "25")
    swap_in(folder(tmp_path / "checkpoint.new", "50"), target)
    assert tag(target) == "50"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint"]


def test_killed_between_the_renames_the_new_complete_folder_is_taken(tmp_path: Path) -> None:
    # What swap_in leaves when killed after its first rename: old + new, no target.
    target = tmp_path / "checkpoint"
    folder(tmp_path / "checkpoint.old", "25")
    fresh = folder(tmp_path / "checkpoint.new", "50")
    recover_swap(fresh, target)
    assert tag(target) == "50"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint"]


def test_without_the_new_folder_the_old_one_comes_back(tmp_path: Path) -> None:
    target = tmp_path / "checkpoint"
    folder(tmp_path / "checkpoint.old", "25")
    recover_swap(tmp_path / "checkpoint.new", target)
    assert tag(target) == "25"


@pytest.mark.parametrize("left", ["checkpoint.new", "checkpoint.old"])
def test_with_the_target_in_place_leftovers_are_dropped(tmp_path: Path, left: str) -> None:
    # A write cut short (.new) or an old copy not yet deleted (.old): the target stands.
    target = folder(tmp_path / "checkpoint", "25")
    folder(tmp_path / left, "partial")
    recover_swap(tmp_path / "checkpoint.new", target)
    assert tag(target) == "25"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint"]


def test_a_first_write_cut_short_leaves_nothing(tmp_path: Path) -> None:
    fresh = folder(tmp_path / "best.new", "partial")
    recover_swap(fresh, tmp_path / "best")
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_is_reported_with_the_folder_and_the_space_needed(tmp_path: Path) -> None:
    partial = folder(tmp_path / "checkpoint.new", "partial")
    with pytest.raises(DiskFull) as raised, reporting_full_disk(
            "the checkpoint", tmp_path, 3_500_000, "resume later", partial=partial):
        raise OSError(errno.ENOSPC, "No space left on device")
    message = str(raised.value)
    assert message.startswith("No space left on device: the checkpoint needs about 3.5 MB in "
                              f"{tmp_path} (")
    assert message.endswith("free). Free some space, then resume later")
    assert raised.value.errno == errno.ENOSPC
    assert not partial.exists()


def test_a_writer_that_hides_the_cause_is_judged_by_the_free_space(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # torch.save says "unexpected pos 576 vs 534" when the disk fills up.
    monkeypatch.setattr(durable_files, "free_bytes", lambda _folder: 1000)
    with pytest.raises(DiskFull), reporting_full_disk("the checkpoint", tmp_path, 5000, "retry"):
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 576")
    with pytest.raises(RuntimeError, match="unexpected pos"), reporting_full_disk(
            "the checkpoint", tmp_path, 500, "retry"):
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 576")


def test_other_failures_pass_through_and_still_clean_up(tmp_path: Path) -> None:
    partial = folder(tmp_path / "install", "partial")
    with pytest.raises(PermissionError), reporting_full_disk(
            "the install", tmp_path, 10, "retry", partial=partial):
        raise PermissionError(errno.EACCES, "Permission denied")
    assert not partial.exists()


def test_replace_json_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    replace_json(target, {"steps": 3})
    replace_json(target, {"steps": 4})
    assert json.loads(target.read_text()) == {"steps": 4}
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def _reach(points: str, env: str | None) -> subprocess.CompletedProcess[str]:
    code = ("import sys; from kodama.model.finetune.durable_files import fault_point\n"
            f"for p in {points!r}.split(','):\n    fault_point(p); print(p, flush=True)\n")
    environ = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    if env is not None:
        environ[FAULT_ENV] = env
    return subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True,
                          text=True, timeout=60)


def test_the_fault_hook_kills_at_the_named_point_and_count_only() -> None:
    assert _reach("a,b,a", None).stdout.split() == ["a", "b", "a"]
    killed = _reach("a,b,a,b", "b@2")
    assert killed.returncode == -signal.SIGKILL
    assert killed.stdout.split() == ["a", "b", "a"]
    assert _reach("a,b", "c").stdout.split() == ["a", "b"]
