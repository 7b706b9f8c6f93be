"""The command line: help, version, locations, configuration precedence, and the README table."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from kodama.server.commands.cli import build_parser, config_from_args, main
from kodama.server.commands.common import parse_location
from kodama.server.config import describe

ROOT = Path(__file__).resolve().parents[4]


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    for command in ("serve", "complete", "demo", "version"):
        assert command in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("kodama ")


def test_parse_location() -> None:
    assert parse_location("src/a b.py:12:9") == (Path("src/a b.py"), 12, 9)
    with pytest.raises(ValueError, match="FILE:LINE:COL"):
        parse_location("a.py:12")
    assert parse_location("c:/x.py:7", column=False) == (Path("c:/x.py"), 7, 1)
    assert parse_location("x.py:7:3", column=False) == (Path("x.py"), 7, 3)
    with pytest.raises(ValueError, match="FILE:LINE or FILE:LINE:COL"):
        parse_location("x.py", column=False)


@pytest.mark.parametrize("command", ["explain", "docstring", "tests"])
def test_definition_commands_reject_bad_positions_before_loading_a_model(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "m.py"
    source.write_text("import os\n\n\ndef f(a):\n    return a\n")
    assert main([command, f"{source}:1"]) == 1
    assert "not inside a function, method or class" in capsys.readouterr().err
    assert main([command, f"{source}:99"]) == 2
    assert "line 99 is outside it" in capsys.readouterr().err
    (tmp_path / "b.py").write_bytes(b"\0\1")
    assert main([command, f"{tmp_path / 'b.py'}:1"]) == 2
    assert "binary" in capsys.readouterr().err
    (tmp_path / "notes.xyz").write_text("hello\n")
    assert main([command, f"{tmp_path / 'notes.xyz'}:1"]) == 2
    assert "does not know this language" in capsys.readouterr().err


def test_definition_commands_have_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["docstring", "--help"])
    out = capsys.readouterr().out
    assert "--apply" in out and "FILE:LINE[:COL]" in out


def _commands() -> list[str]:
    return sorted(next(action._name_parser_map for action in build_parser()._actions
                       if isinstance(action, argparse._SubParsersAction)))


@pytest.mark.parametrize("command", _commands())
def test_every_command_prints_its_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert f"usage: kodama {command}" in capsys.readouterr().out


def test_flags_override_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KODAMA_MODEL", "from-env")
    monkeypatch.setenv("KODAMA_THREADS", "3")
    args = build_parser().parse_args(["serve", "--model", "from-flag"])
    errors: list[str] = []
    config = config_from_args(args, errors)
    assert errors == []
    assert config.model.name == "from-flag" and config.model.threads == 3


def test_remote_flags_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KODAMA_REMOTE_URL", "http://env-box:8000/v1")
    monkeypatch.setenv("KODAMA_REMOTE_MODEL", "from-env")
    errors: list[str] = []
    config = config_from_args(build_parser().parse_args(["serve"]), errors)
    assert (config.remote.url, config.remote.model) == ("http://env-box:8000/v1", "from-env")
    args = build_parser().parse_args(["complete", "a.py:1:1", "--remote", "http://gpu:8000/v1",
                                      "--remote-model", "kodama-repo"])
    config = config_from_args(args, errors)
    assert errors == []
    assert (config.remote.url, config.remote.model) == ("http://gpu:8000/v1", "kodama-repo")


def test_complete_reports_bad_locations_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "a.py"
    source.write_text("x = 1\n")
    assert main(["complete", f"{source}:9:1"]) == 2
    assert "line 9 is outside" in capsys.readouterr().err
    binary = tmp_path / "b.bin"
    binary.write_bytes(b"\0\1\2")
    assert main(["complete", f"{binary}:1:1"]) == 2
    assert "binary" in capsys.readouterr().err
    assert main(["complete", f"{tmp_path / 'missing.py'}:1:1"]) == 2
    assert "missing.py" in capsys.readouterr().err


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    for key, default, _doc in describe():
        assert f"| `{key}` | `{default}` |" in readme, key
