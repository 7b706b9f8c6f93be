"""``kodama eval`` end to end with the tiny model: table, JSON, baseline, leak-free repo context."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from kodama.model.evaluation import pick_holes
from kodama.model.types import Snippet
from kodama.server.commands import eval as eval_command
from kodama.server.commands.cli import build_parser, config_from_args, main

FILES = {
    "app/models.py": '''"""Models."""


class User:
    def __init__(self, name, email):
        self.name = name
        self.email = email

    def display(self):
        label = self.name.title()
        return f"{label} <{self.email}>"
''',
    "app/views.py": '''from app.models import User


def show(name, email):
    user = User(name, email)
    text = user.display()
    print(text)
    return text
''',
    "app/util.py": '''def clamp(value, low, high):
    if value < low:
        return low
    if value > high:
        return high
    return value
''',
    "web/main.js": '''export function greet(name) {
  const text = "hello " + name;
  console.log(text);
  return text;
}
''',
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_eval_prints_a_table_and_writes_json_and_markdown(
    repo: Path, tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_json, out_md = tmp_path / "run.json", tmp_path / "run.md"
    argv = ["eval", str(repo), "--model", str(tiny_model_dir), "--holes", "6",
            "--held-out-files", "2", "--threads", "1", "--seed", "3",
            "--json", str(out_json), "--markdown", str(out_md), "--quantization", "none,int8"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    table = out_md.read_text(encoding="utf-8")
    assert table.strip() in captured.out
    assert "| config | kind | holes | exact | edit sim |" in table
    assert "context=file | all | 6 |" in table
    assert "6/6" in captured.err  # the progress line

    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert data["hole_set"]["holes"] == 6
    assert (data["hole_set"]["single"], data["hole_set"]["multi"]) == (4, 2)
    assert len(data["hole_set"]["held_out_files"]) == 2
    run, int8 = data["runs"]
    assert run["config"]["context"] == int8["config"]["context"] == "file"
    assert (run["config"]["quantization"], int8["config"]["quantization"]) == ("none", "int8")
    assert [r["expected"] for r in int8["results"]] == [r["expected"] for r in run["results"]]
    assert "quantization=int8 context=file | all | 6 |" in table
    assert run["config"]["model"] == tiny_model_dir.name
    assert len(run["results"]) == 6
    held = set(data["hole_set"]["held_out_files"])
    for result in run["results"]:
        assert result["path"] in held and result["expected"].strip()
        assert result["latency_ms"] > 0 and result["snippets"] == 0
    assert run["summary"]["all"]["holes"] == 6

    # Same seed ⇒ same holes: the library picks exactly the set the command ran.
    assert pick_holes(repo, holes=6, held_out=2, seed=3).hash == data["hole_set"]["hash"]


class FakeRepositoryContext:
    """Stands in for kodama.model.context: records the workspace it indexes and its queries."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                            if p.is_file())
        self.queries: list[tuple[str, str, int]] = []

    def snippets(self, path: str, text: str, offset: int) -> tuple[Snippet, ...]:
        self.queries.append((path, text, offset))
        return tuple(Snippet(f, (self.root / f).read_text("utf-8")[:80]) for f in self.files[:2])


def test_repo_context_never_indexes_held_out_files_and_compares_with_a_baseline(
    repo: Path, tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = [str(repo), "--model", str(tiny_model_dir), "--holes", "3", "--held-out-files",
              "2", "--threads", "1", "--seed", "1", "--quantization", "none"]
    baseline = tmp_path / "file.json"
    assert main(["eval", *common, "--json", str(baseline)]) == 0
    held = set(json.loads(baseline.read_text("utf-8"))["hole_set"]["held_out_files"])

    built: list[FakeRepositoryContext] = []

    def factory(root: Path, exclude: Sequence[str]) -> FakeRepositoryContext:
        assert set(exclude) == held
        built.append(FakeRepositoryContext(root))
        return built[-1]

    out = tmp_path / "repo.json"
    args = build_parser().parse_args(["eval", *common, "--context", "repo", "--baseline",
                                      str(baseline), "--json", str(out)])
    assert eval_command.run(args, config_from_args(args, []), provider_factory=factory) == 0
    (provider,) = built
    assert provider.files == sorted(set(FILES) - held), "the index holds no held-out file"
    assert not provider.root.exists(), "the held-out-free copy is removed afterwards"
    assert len(provider.queries) == 3

    data = json.loads(out.read_text("utf-8"))
    assert [r["config"]["context"] for r in data["runs"]] == ["file", "repo"]
    repo_run = data["runs"][1]
    assert all(r["snippets"] == 2 for r in repo_run["results"])
    assert repo_run["dropped_snippets"] == 0
    assert "context=repo | all | 3 |" in capsys.readouterr().out


def test_baseline_on_other_holes_is_refused(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = tmp_path / "other.json"
    baseline.write_text(json.dumps({"hole_set": {"hash": "0123456789abcdef"}, "runs": []}),
                        encoding="utf-8")
    rc = main(["eval", str(repo), "--model", "never-loaded", "--holes", "3",
               "--baseline", str(baseline)])
    assert rc == 2
    assert "measured on other holes" in capsys.readouterr().err


def test_bad_arguments_are_rejected(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["eval", str(repo), "--context", "web"])
    with pytest.raises(SystemExit):
        main(["eval", str(repo), "--held-out-files", "2.5"])
    assert main(["eval", str(repo / "missing")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_raw_baseline_runs_the_bare_model_on_the_same_holes(
    repo: Path, tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_json = tmp_path / "raw.json"
    argv = ["eval", str(repo), "--model", str(tiny_model_dir), "--holes", "8",
            "--held-out-files", "2", "--threads", "1", "--seed", "3", "--mid-fraction", "0.5",
            "--multi-fraction", "0.25", "--context", "raw,file", "--quantization", "int8",
            "--json", str(out_json)]
    assert main(argv) == 0
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert (data["hole_set"]["single"], data["hole_set"]["mid"], data["hole_set"]["multi"]) == (
        2, 4, 2)
    raw, served = data["runs"]
    # The baseline is the bare model whatever else is asked: unquantised bf16, no context.
    assert (raw["config"]["context"], raw["config"]["dtype"], raw["config"]["quantization"]) == (
        "raw", "bfloat16", "none")
    assert (served["config"]["context"], served["config"]["quantization"]) == ("file", "int8")
    assert [r["expected"] for r in raw["results"]] == [r["expected"] for r in served["results"]]
    for result in raw["results"]:
        assert result["snippets"] == 0
        if result["kind"] != "multi":
            assert "\n" not in result["completion"], "a single-line hole gets the first line"
    table = capsys.readouterr().out
    assert "context=raw | mid | 4 |" in table and "| +" in table
    assert pick_holes(repo, holes=8, held_out=2, seed=3, mid_fraction=0.5,
                      multi_fraction=0.25).hash == data["hole_set"]["hash"]
