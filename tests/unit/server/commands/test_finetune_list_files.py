"""``kodama fine-tune PATH --list-files [--json]``: every file the run would read with its
split, every path skipped with the reason, in a stable line format or JSON, without loading
a model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.repos import module
from kodama.server.commands.cli import main

NO_MODEL = ["--model", "/nonexistent/model"]  # loading any model would fail


def repository(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    for i in range(5):
        (root / "pkg" / f"mod{i}.py").write_text(module(i))
    (root / "pkg" / "odd\tname.py").write_text(module(9))
    (root / ".env").write_text("X=1\n")
    token = "ghp_" + "a1B2" * 9
    (root / "pkg" / "release.py").write_text(f'TOKEN = "{token}"\n')
    (root / "node_modules").mkdir()
    return root


def test_lines_name_every_path_sorted_with_split_or_reason(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = repository(tmp_path)
    assert main(["fine-tune", str(root), "--dry-run", "--list-files", *NO_MODEL]) == 0
    out, err = capsys.readouterr()
    rows = [line.split("\t") for line in out.splitlines()]
    assert [row[1] for row in rows] == sorted(row[1] for row in rows)
    skipped = {row[1]: row[2] for row in rows if row[0] == "skip"}
    assert skipped == {".env": "secret: secret file (.env)",
                       "node_modules/": "vendored, build or environment folder",
                       "pkg/release.py": "secret: GitHub token"}
    read = {row[1]: row[0] for row in rows if row[0] != "skip"}
    assert set(read) == {*(f"pkg/mod{i}.py" for i in range(5)), "pkg/odd\\tname.py"}
    assert set(read.values()) == {"train", "validation", "test"}
    assert all(len(row) == 2 for row in rows if row[0] != "skip")
    assert "6 files read (train " in err and "3 paths skipped (" in err and "secret 2" in err


def test_json_holds_the_same_with_exact_paths(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    root = repository(tmp_path)
    assert main(["fine-tune", str(root), "--list-files", *NO_MODEL]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert main(["fine-tune", str(root), "--list-files", "--json", *NO_MODEL]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["format"] == 1 and listing["root"] == str(root.resolve())
    as_lines = ["\t".join([entry.get("split", "skip"),
                           entry["path"].replace("\t", "\\t"),
                           *([entry["skipped"]] if "skipped" in entry else [])])
                for entry in listing["files"]]
    assert as_lines == lines
    assert any(entry["path"] == "pkg/odd\tname.py" and "split" in entry
               for entry in listing["files"])


def test_the_seed_flag_moves_files_between_splits(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    root = repository(tmp_path)
    splits = []
    for seed in ("0", "1", "2"):
        assert main(["fine-tune", str(root), "--list-files", "--seed", seed, *NO_MODEL]) == 0
        splits.append(capsys.readouterr().out)
    assert len(set(splits)) > 1


def test_mistakes_are_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fine-tune", str(tmp_path / "missing"), "--list-files", *NO_MODEL]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert main(["fine-tune", str(tmp_path), "--json", *NO_MODEL]) == 2
    assert "--json goes with --list-files" in capsys.readouterr().err
