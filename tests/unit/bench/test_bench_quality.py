"""The completion-quality panel: pairing, bootstrap, pooling, tables, reuse, the fetch helpers."""

from __future__ import annotations

import io
import json
import math
import shlex
import stat
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root

from benchmarks.common import npm_folder, sdist_folders
from benchmarks.quality import (
    PANEL,
    Repository,
    choose_panel,
    eval_arguments,
    local_repositories,
    main,
    parse_args,
    tabulate,
    warn_all_held_out,
)
from benchmarks.quality_stats import (
    COLUMNS,
    HoleMismatch,
    Paired,
    bootstrap_interval,
    by_kind,
    figures,
    markdown_table,
    pair,
    paired_from_report,
)


def result(number: int, exact: bool, *, kind: str = "single", similarity: float | None = None,
           parses: bool | None = True, empty: bool = False, latency: float = 100.0,
           path: str = "a.py") -> dict[str, Any]:
    """One hole result as ``kodama eval --json`` writes it."""
    return {"path": path, "kind": kind, "line": number, "expected": f"line {number}",
            "completion": "" if empty else "x", "exact": exact,
            "edit_similarity": (1.0 if exact else 0.5) if similarity is None else similarity,
            "parses": None if empty else parses, "empty": empty, "latency_ms": latency}


def report(raw: list[dict[str, Any]], served: list[dict[str, Any]],
           digest: str = "abc123") -> dict[str, Any]:
    """A ``report_json``-shaped document with a raw and a repo run."""
    return {"version": 1, "repository": "/r", "seed": 0,
            "hole_set": {"hash": digest, "holes": len(raw)},
            "runs": [{"config": {"context": "raw"}, "results": raw},
                     {"config": {"context": "repo", "quantization": "int8"}, "results": served}]}


def paired(name: str, raw_exact: list[bool], served_exact: list[bool],
           kinds: list[str] | None = None) -> Paired:
    kinds = kinds or ["single"] * len(raw_exact)
    raw = [result(i, e, kind=k) for i, (e, k) in enumerate(zip(raw_exact, kinds, strict=True))]
    served = [result(i, e, kind=k)
              for i, (e, k) in enumerate(zip(served_exact, kinds, strict=True))]
    return paired_from_report(name, report(raw, served))


# ---------------------------------------------------------------------------- pairing
def test_identical_runs_have_a_zero_interval() -> None:
    p = paired("r", [True, False, True, False, True], [True, False, True, False, True])
    f = figures([p])
    assert (f.delta_points, f.delta_low, f.delta_high) == (0.0, 0.0, 0.0)
    assert (f.wins, f.losses, f.raw_exact, f.served_exact) == (0, 0, 3, 3)


def test_winning_every_hole_is_a_hundred_points() -> None:
    p = paired("r", [False] * 6, [True] * 6)
    f = figures([p])
    assert (f.delta_points, f.delta_low, f.delta_high) == (100.0, 100.0, 100.0)
    assert (f.wins, f.losses) == (6, 0)


def test_wins_and_losses_are_paired_per_hole() -> None:
    p = paired("r", [True, False, True, False, False], [True, True, False, False, True])
    f = figures([p], resamples=500)
    assert (f.wins, f.losses) == (2, 1)
    assert f.delta_points == pytest.approx(20.0)
    assert f.delta_low <= 20.0 <= f.delta_high
    assert p.differences() == [0, 1, -1, 0, 1]


def test_bootstrap_is_reproducible_and_widens_with_noise() -> None:
    values = [1, -1, 0, 1, 0, 0, 1, -1, 1, 0]
    first = bootstrap_interval([values], resamples=1000, seed=3)
    assert first == bootstrap_interval([values], resamples=1000, seed=3)
    assert first[0] < 0.2 < first[1]
    assert all(math.isnan(x) for x in bootstrap_interval([], resamples=10))


def test_stratified_pooling_keeps_each_repository_size() -> None:
    # Unstratified, a resample could draw the lone 0 several times; stratified it is drawn
    # exactly once and the three 1s three times: every resample's mean is 3/4.
    assert bootstrap_interval([[1, 1, 1], [0]], resamples=500) == (0.75, 0.75)
    a, b = paired("a", [False] * 3, [True] * 3), paired("b", [False, False], [False, False])
    f = figures([a, b])
    assert (f.holes, f.wins, f.delta_points) == (5, 3, 60.0)
    assert (f.delta_low, f.delta_high) == (60.0, 60.0)


def test_other_holes_raise_a_clear_error() -> None:
    raw = [result(0, True), result(1, False)]
    with pytest.raises(HoleMismatch, match="hole set abc and the served path on def"):
        pair("r", ("abc", raw), ("def", raw))
    with pytest.raises(HoleMismatch, match="2 results and the served path 1"):
        paired_from_report("r", report(raw, raw[:1]))
    moved = [result(0, True, path="b.py"), result(1, False)]
    with pytest.raises(HoleMismatch, match=r"hole 1 differs .*path"):
        paired_from_report("r", report(raw, moved))
    unfinished = report(raw, raw)
    unfinished["runs"] = unfinished["runs"][:1]
    with pytest.raises(ValueError, match="no repo run"):
        paired_from_report("r", unfinished)


def test_parse_empty_similarity_and_latency_figures() -> None:
    raw = [result(0, True), result(1, False, parses=False), result(2, False, empty=True),
           result(3, False, parses=None)]
    served = [result(0, True, latency=10), result(1, True, latency=30),
              result(2, False, parses=False, latency=20), result(3, False, empty=True,
                                                               latency=40)]
    f = figures([paired_from_report("r", report(raw, served))])
    assert (f.raw_parses, f.raw_parse_checked) == (1, 2)  # empty and None not counted
    assert (f.served_parses, f.served_parse_checked) == (2, 3)
    assert (f.raw_empty, f.served_empty) == (1, 1)
    assert f.raw_edit_similarity == pytest.approx((1 + 0.5 * 3) / 4)
    assert f.served_edit_similarity == pytest.approx((1 + 1 + 0.5 + 0.5) / 4)
    assert (f.served_p50_ms, f.served_p95_ms) == (20, 40)
    data = f.as_json()
    assert data["served_exact_rate"] == 0.5 and data["raw_parse_rate"] == 0.5
    json.dumps(data, allow_nan=False)


def test_figures_by_kind_in_table_order() -> None:
    kinds = ["multi", "single", "mid", "single"]
    a = paired("a", [False, True, False, False], [True, True, True, False], kinds)
    b = paired("b", [False, False], [False, True], ["mid", "mid"])
    found = by_kind([a, b], resamples=200)
    assert list(found) == ["single", "mid", "multi"]
    assert found["single"].holes == 2 and found["mid"].holes == 3
    assert (found["mid"].wins, found["multi"].wins) == (2, 1)
    assert a.of_kind("single").raw[0]["line"] == 1


def test_markdown_table_shows_counts_interval_and_parses() -> None:
    f = figures([paired("r", [False, True, False, False], [True, True, False, False])])
    table = markdown_table([("click 8.5.1", f)])
    header, rule, row = table.split("\n")
    assert header.count("|") == len(COLUMNS) + 1 and rule.startswith("|---|---:|")
    assert row.startswith("| click 8.5.1 | 4 | 25.0 % (1) | 50.0 % (2) | +25.0 [")
    assert "| +1 / -0 |" in row and "| 100 % (4/4) |" in row and "0.625 → 0.750" in row
    assert markdown_table([("single", f)], first="hole kind").startswith("| hole kind |")


# ------------------------------------------------------------------------------ the panel
def test_panel_choice_and_local_names(tmp_path: Path) -> None:
    assert [p.name for p in choose_panel("mocha,click")] == ["mocha", "click"]
    assert len(choose_panel(None)) == len(PANEL) == 9
    assert sum(p.registry == "npm" for p in PANEL) == 1
    with pytest.raises(ValueError, match="no nope in the panel"):
        choose_panel("click,nope")
    (tmp_path / "x" / "click").mkdir(parents=True)
    found = local_repositories([tmp_path / "x" / "click"], ["click"])
    assert [r.name for r in found] == ["click-2"]
    with pytest.raises(ValueError, match="not a folder"):
        local_repositories([tmp_path / "missing"], [])


def test_eval_arguments_pass_every_option_through() -> None:
    args = parse_args(["--holes", "7", "--threads", "2", "--held-out-files", "0.2"])
    assert eval_arguments(args) == [
        "--context", "raw,repo", "--holes", "7", "--mid-fraction", "0.5",
        "--multi-fraction", "0.25", "--held-out-files", "0.2", "--seed", "0", "--threads", "2"]
    assert "--threads" not in eval_arguments(parse_args([]))


def test_unseen_pool_only_when_some_were_tuned_on() -> None:
    a, b = paired("a", [False], [True]), paired("b", [True], [True])
    panel = tabulate([(Repository("a", Path("a"), "a"), a),
                      (Repository("b", Path("b"), "b (tuned on)", tuned=True), b)],
                     resamples=100, seed=0)
    labels = [label for label, _ in panel.rows()]
    assert labels == ["a", "b (tuned on)", "**pooled (2)**", "**pooled, unseen (1)**"]
    assert panel.unseen is not None and panel.unseen.wins == 1
    alone = tabulate([(Repository("a", Path("a"), "a"), a)], resamples=100, seed=0)
    assert [label for label, _ in alone.rows()] == ["a"] and alone.unseen is None


def test_holding_out_every_file_is_warned(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text("x = 1\n")
    repo = Repository("r", tmp_path, "r")
    warn_all_held_out(repo, "10")
    assert "all 2 source files are held out" in capsys.readouterr().err
    for held_out in ("1", "0.5"):
        warn_all_held_out(repo, held_out)
    assert capsys.readouterr().err == ""


FAKE_KODAMA = """
import json, sys
argv = sys.argv[1:]
open({calls!r}, "a").write(" ".join(argv) + "\\n")
holes = int(argv[argv.index("--holes") + 1])
kinds = ["single", "mid", "multi"]
def results(exact):
    return [{{"path": "m.py", "kind": kinds[i % 3], "line": i, "expected": "e",
             "completion": "c", "exact": exact(i), "edit_similarity": 0.5, "parses": True,
             "empty": False, "latency_ms": 5.0}} for i in range(holes)]
doc = {{"hole_set": {{"hash": "h"}}, "runs": [
    {{"config": {{"context": "raw"}}, "results": results(lambda i: i % 2 == 0)}},
    {{"config": {{"context": "repo"}}, "results": results(lambda i: True)}}]}}
open(argv[argv.index("--json") + 1], "w").write(json.dumps(doc))
print("kodama's own table")
"""


def test_main_runs_each_repository_once_and_reuses(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    calls = tmp_path / "calls.txt"
    fake = tmp_path / "fake_kodama.py"
    fake.write_text(FAKE_KODAMA.format(calls=str(calls)))
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
    out, pooled = tmp_path / "out", tmp_path / "pooled.json"
    argv = ["--repo", str(tmp_path / "one"), "--repo", str(tmp_path / "two"), "--out", str(out),
            "--holes", "6", "--kodama", shlex.join([sys.executable, str(fake)]),
            "--resamples", "200", "--json", str(pooled), "--reuse"]
    assert main(argv) == 0
    printed = capsys.readouterr()
    assert "kodama's own table" not in printed.out and "kodama's own table" in printed.err
    assert "| **pooled (2)** | 12 | 50.0 % (6) | 100.0 % (12) | +50.0 [" in printed.out
    assert "| hole kind (pooled) |" in printed.out and "| mid | 4 |" in printed.out
    assert len(calls.read_text().splitlines()) == 2
    assert json.loads((out / "one.args.json").read_text())["path"] == str(tmp_path / "one")
    data = json.loads(pooled.read_text())
    assert data["pooled"]["wins"] == 6 and set(data["by_kind"]) == {"single", "mid", "multi"}
    assert main(argv) == 0  # all reused: kodama not started again
    assert len(calls.read_text().splitlines()) == 2
    assert main([*argv, "--holes", "3"]) == 0  # other options: both run again
    assert len(calls.read_text().splitlines()) == 4


def test_a_failed_repository_is_left_out(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "r").mkdir()
    argv = ["--repo", str(tmp_path / "r"), "--out", str(tmp_path / "out"),
            "--kodama", shlex.join([sys.executable, "-c", "raise SystemExit(3)"])]
    with pytest.raises(SystemExit, match="no repository was evaluated"):
        main(argv)
    assert "kodama eval failed (exit 3)" in capsys.readouterr().err


# ------------------------------------------------------------------------- fetch helpers
def _executable(path: Path, code: str) -> str:
    path.write_text(f"#!{sys.executable}\n{code}")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_npm_packages_are_packed_once_and_unpacked_by_name(tmp_path: Path) -> None:
    cache, calls = tmp_path / "cache", tmp_path / "calls.txt"
    npm = _executable(tmp_path / "npm", f"""
import io, sys, tarfile
open({str(calls)!r}, "a").write(" ".join(sys.argv[1:]) + "\\n")
with tarfile.open("mocha-12.0.3.tgz", "w:gz") as archive:  # npm pack writes into its cwd
    data = b"module.exports = 1;\\n"
    info = tarfile.TarInfo("package/lib/a.js")
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))
""")
    folder = npm_folder(cache, "mocha", "12.0.3", npm=npm)
    assert folder == cache / "mocha-12.0.3"
    assert (folder / "lib" / "a.js").read_text() == "module.exports = 1;\n"
    assert calls.read_text().split() == ["pack", "--silent", "mocha@12.0.3"]
    assert npm_folder(cache, "mocha", "12.0.3", npm=npm) == folder
    assert len(calls.read_text().splitlines()) == 1
    assert not any(p.name.endswith(".unpacking") for p in cache.iterdir())


def test_sdists_with_normalised_names_are_found(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    with tarfile.open(cache / "more_itertools-11.2.1.tar.gz", "w:gz") as archive:
        info = tarfile.TarInfo("more_itertools-11.2.1/more_itertools/more.py")
        archive.addfile(info, io.BytesIO(b""))
    python = _executable(tmp_path / "python", "raise SystemExit('pip must not run')")
    found = sdist_folders(cache, [("more-itertools", "11.2.1")], python=python)
    assert found == [cache / "more_itertools-11.2.1"]
    assert sdist_folders(cache, [("more-itertools", "11.2.1")], python=python) == found
