"""The Neovim plugin (editors/nvim) inside real headless Neovim 0.12, on the tiny model.

``nvim_driver.lua`` calls ``require("kodama").setup{...}`` with the server command, opens a
Python file in a temporary repository and goes through the real UI paths: ghost text appears
while typing and <Tab> accepts it, hover opens a float with Kodama's explanation,
:KodamaExplain shows it too, the code action menu offers Kodama's actions and Generate docstring
edits the buffer, and ``:checkhealth kodama`` reports OK. It writes what it saw to a JSON file
that this test checks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from helpers.repos import GEOMETRY
from kodama.syntax import docstrings
from kodama.syntax.analysis import parses

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "editors" / "nvim"
DRIVER = Path(__file__).with_name("nvim_driver.lua")
GATED_SERVER = Path(__file__).with_name("gated_server.py")


def repository(root: Path, text: str) -> Path:
    """A small git-less repository (pyproject.toml marks its root) with pytest tests."""
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "geometry.py").write_text(text)
    (root / "tests").mkdir()
    (root / "tests" / "test_other.py").write_text("def test_nothing():\n    assert True\n")
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\ntestpaths = ['tests']\n")
    return root / "pkg" / "geometry.py"


def run_driver(nvim: Path, tmp_path: Path, model: Path, env: dict[str, str],
               simulate: str | None = None, expect_error: bool = False,
               gate: Path | None = None) -> dict[str, Any]:
    """Run nvim_driver.lua in headless Neovim (as Neovim ``simulate`` would run the plugin,
    when given; with a ``gate``, on a server whose model loads only once that file exists);
    the results it wrote."""
    text = GEOMETRY if simulate is None else GEOMETRY.replace("    total = \n", "    total =\n")
    source = repository(tmp_path / "repo", text)
    server = ([str(GATED_SERVER), str(gate)] if gate else ["-m", "kodama.server"])
    spec = {
        "simulate": simulate,
        "expect_error": expect_error,
        "gate": str(gate) if gate else None,
        "plugin": str(PLUGIN),
        "cmd": [sys.executable, *server, "serve", "--model", str(model)],
        "file": str(source),
        "results": str(tmp_path / "results.json"),
        "settings": {"completion": {"debounceMs": 10}, "tasks": {"hoverWaitMs": 120000}},
        "timeout_s": 300,
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    done = subprocess.run(
        [str(nvim), "--headless", "--clean", "-u", "NONE", "-c", f"luafile {DRIVER}"],
        cwd=source.parent, capture_output=True, text=True, timeout=400, stdin=subprocess.DEVNULL,
        env={**os.environ, **env, "KODAMA_NVIM_TEST": str(tmp_path / "spec.json")})
    log = Path(env["XDG_STATE_HOME"]) / "nvim" / "lsp.log"
    diagnostics = (f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}\n"
                   f"lsp.log: {log.read_text()[-4000:] if log.exists() else '(none)'}")
    results_file = tmp_path / "results.json"
    assert results_file.exists(), diagnostics
    results: dict[str, Any] = json.loads(results_file.read_text())
    assert not results["errors"] and results.get("ok"), (results, diagnostics)
    assert "stack traceback" not in results["messages"], results["messages"]
    assert done.returncode == 0, diagnostics
    return results


def test_plugin_in_headless_neovim(
    nvim_binary: Path, tmp_path: Path, identifier_model_dir: Path,
    editor_server_env: dict[str, str],
) -> None:
    r = run_driver(nvim_binary, tmp_path, identifier_model_dir, editor_server_env)

    # setup() attached the server to the Python buffer at the repository root; model ready.
    assert r["inline_supported"] and r["inline_enabled"]
    assert r["filetype"] == "python"
    assert Path(r["root_dir"]) == (tmp_path / "repo").resolve()
    assert r["status_line"] == "Kodama: ready"

    # Ghost text: the identifier model writes x/y identifiers; <Tab> inserts exactly that.
    ghost = r["ghost"]["text"]
    assert ghost and set(ghost) <= set("xy"), r["ghost"]
    assert r["mode_before_accept"] == "i"
    assert r["line_before"] == "    total = "
    assert r["line_after"] == "    total = " + ghost
    assert r.get("ghost_after_accept") is None, "the ghost text is gone once accepted"
    # <Tab> with no suggestion shown is an ordinary <Tab> (noexpandtab: a tab character).
    assert r["tab_fallthrough_line"] == "\t", r["tab_fallthrough_line"]

    # Hover on `def area`: a float with Kodama's explanation of the function.
    hover = "\n".join(r["hover_lines"])
    assert "function `area`" in hover and "Kodama" in hover, hover
    assert "Writing an explanation" not in hover
    assert len(hover.split("Kodama", 1)[1].strip()) > 0, "an explanation follows the title"
    explained = "\n".join(r["explain_lines"])
    assert "function `area`" in explained and "Kodama" in explained, explained
    explained = "\n".join(r["explain_range_lines"])
    assert "selected code `lines 5–6`" in explained and "Kodama" in explained, explained

    # The code action menu offers Kodama's actions; Generate docstring edits the buffer.
    assert r["code_actions"] == ["Kodama: Explain function area",
                                 "Kodama: Generate docstring for function area",
                                 "Kodama: Generate tests for function area"]
    before = "\n".join(r["lines_before_docstring"]) + "\n"
    after = "\n".join(r["lines_after_docstring"]) + "\n"
    assert after.count('"""') == before.count('"""') + 2
    assert parses("python", after)
    target = docstrings.target_at("python", after, after.index("def area") + 4)
    assert target is not None and target.docstring, "the docstring is area's first statement"
    assert r["lines_after_docstring"][r["lines_before_docstring"].index(
        "def area(width, height):") + 1].startswith('    """')

    # :KodamaDocstring documented `scale`; :KodamaTests reported that no tests were written.
    assert r["scale_lines"][0] == "def scale(factor):" and r["scale_lines"][1].startswith(
        '    """'), r["scale_lines"]
    assert "wrote no pytest tests for 'area'; nothing was changed" in r["tests_message"]
    assert not r["tests_changed_buffer"]

    # :checkhealth kodama: every check OK, no warning or error.
    health = "\n".join(r["health_lines"])
    assert "kodama" in health.lower()
    for expected in ("inline completion (ghost text) available", "--version",
                     "kodama 0.1.0", "attached to", "model ready", "ghost text enabled"):
        assert expected in health, (expected, health)
    assert "ERROR" not in health and "WARNING" not in health, health

    # :KodamaFineTune --dry-run ran `kodama fine-tune` on the repository with the same model.
    assert r["fine_tune_buftype"] == "terminal"
    root = str((tmp_path / "repo").resolve())
    assert r["fine_tune_cmd"][-2:] == ["--dry-run", root], r["fine_tune_cmd"]
    assert r["fine_tune_cmd"][r["fine_tune_cmd"].index("--model") + 1] == str(identifier_model_dir)
    output = "\n".join(r["fine_tune_lines"])
    assert f"data: {root}" in output and "plan:" in output, output

    # :KodamaRestart: the old server stopped, a new one serves the buffer, ghost text still on.
    restart = r["restart"]
    assert restart["new_id"] != restart["old_id"] and restart["old_stopped"], restart
    assert restart["root_dir"] == root and restart["inline_enabled"], restart


@pytest.mark.parametrize("simulate", ["0.11", "0.10"])
def test_plugin_falls_back_to_the_completion_menu(
    nvim_binary: Path, tmp_path: Path, identifier_model_dir: Path,
    editor_server_env: dict[str, str], simulate: str,
) -> None:
    """Without vim.lsp.inline_completion (and, for 0.10, without vim.lsp.config/enable and
    vim.lsp.completion), the plugin starts the server itself and the suggestion comes through
    the completion menu (0.11: opened by typing a space; 0.10: by the trigger key)."""
    r = run_driver(nvim_binary, tmp_path, identifier_model_dir, editor_server_env, simulate)

    assert Path(r["root_dir"]) == (tmp_path / "repo").resolve()
    assert r["status_line"] == "Kodama: ready"
    assert r["line_before"] == "    total ="
    words = r["menu_words"]
    assert words and all(set(w) <= set("xy") for w in words), words
    assert r["line_after"] == "    total = " + words[0]
    explained = "\n".join(r["explain_lines"])
    assert "function `area`" in explained and "Kodama" in explained, explained
    health = "\n".join(r["health_lines"])
    assert "no vim.lsp.inline_completion" in health and "Upgrade to Neovim 0.12+" in health
    assert "model ready" in health and "ERROR" not in health, health


@pytest.mark.parametrize("simulate", [None, "0.11", "0.10"])
def test_a_suggestion_comes_by_itself_once_the_model_is_ready(
    nvim_binary: Path, tmp_path: Path, identifier_model_dir: Path,
    editor_server_env: dict[str, str], simulate: str | None,
) -> None:
    """Insert mode entered (and, on 0.10 / 0.11, the menu asked for) while the model loads: that
    request is answered empty. When the server reports ready, the plugin asks again at the
    cursor by itself: with no keystroke, the ghost text (0.12) or the completion menu (0.10 /
    0.11) shows Kodama's suggestion."""
    r = run_driver(nvim_binary, tmp_path, identifier_model_dir, editor_server_env, simulate,
                   gate=tmp_path / "load-now")
    method = "textDocument/completion" if simulate else "textDocument/inlineCompletion"
    asked = [q for q in r["requests"] if q["method"] == method]
    loading = asked[:r["requests_while_loading"]]
    assert loading and all(q["state"] == "loading" and q["items"] == 0 for q in loading), asked
    assert not r["shown_while_loading"], r
    again = asked[r["requests_while_loading"]:]
    assert again and again[-1]["state"] == "ready" and again[-1]["items"] > 0, asked
    assert r["mode_once_ready"].startswith("i"), r  # still typing: "ic" with the menu open
    if simulate:
        words = r["menu_words"]
        assert words and all(set(w) <= set("xy") for w in words), words
        # The menu shows the first item in the line (completeopt without noinsert).
        assert r["line_once_ready"] in (r["line_before"], r["line_before"] + words[0]), r
    else:
        assert set(r["ghost"]["text"]) <= set("xy") and r["ghost"]["text"], r["ghost"]
        assert r["line_once_ready"] == r["line_before"], r


def test_packadd_install_and_checkhealth_with_kodama_missing(
    nvim_binary: Path, tmp_path: Path, editor_server_env: dict[str, str],
) -> None:
    """The README's `packadd` install loads the plugin; with a wrong executable path,
    :checkhealth kodama reports the error together with how to fix it."""
    pack = tmp_path / "site" / "pack" / "kodama" / "opt"
    pack.mkdir(parents=True)
    (pack / "kodama").symlink_to(PLUGIN)
    out = tmp_path / "health.txt"
    lua = (
        f"vim.opt.packpath:prepend({json.dumps(str(tmp_path / 'site'))}) "
        "vim.cmd.packadd('kodama') "
        "require('kodama').setup({ executable = '/nowhere/bin/kodama' }) "
        "vim.cmd('checkhealth kodama') "
        f"vim.fn.writefile(vim.api.nvim_buf_get_lines(0, 0, -1, false), {json.dumps(str(out))})"
    )
    done = subprocess.run(
        [str(nvim_binary), "--headless", "--clean", "-u", "NONE", "-c", f"lua {lua}", "-c", "qa!"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        env={**os.environ, **editor_server_env})
    assert out.exists(), (done.returncode, done.stdout, done.stderr)
    health = out.read_text()
    assert "ERROR `/nowhere/bin/kodama` not found" in health, health
    assert "setup({ executable = '/path/to/kodama/.venv/bin/kodama' })" in health, health
    assert "no Kodama server is running" in health, health
    assert "OK Neovim" in health, health


def test_a_model_that_cannot_load_is_reported(
    nvim_binary: Path, tmp_path: Path, editor_server_env: dict[str, str],
) -> None:
    """The server's ``kodama/status`` error reaches the user: vim.notify, the statusline
    function and :checkhealth kodama (with what to do)."""
    missing = tmp_path / "no-such-model"
    r = run_driver(nvim_binary, tmp_path, missing, editor_server_env, expect_error=True)
    assert r["status_line"] == "Kodama: error"
    assert str(missing) in r["state_message"]
    assert r["messages"].count(r["state_message"]) == 1, "shown once: " + r["messages"]
    health = "\n".join(r["health_lines"])
    assert "ERROR model failed to load" in health and str(missing) in health, health
    assert ":KodamaRestart" in health, health
