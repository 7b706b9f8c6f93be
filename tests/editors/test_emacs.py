"""Emacs + eglot with the configuration editors/README.md documents, in ``emacs --batch``.

The eglot block of editors/README.md is loaded as written (only the command is replaced by
this environment's server on the tiny identifier model); ``emacs_driver.el`` then opens a Python
file, lets ``python-mode-hook`` start eglot, and checks completion (``completion-at-point`` with
eglot's capf), hover (eldoc's hover function) and the Generate docstring code action.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from helpers.repos import GEOMETRY
from kodama.syntax import docstrings
from kodama.syntax.analysis import parses

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "editors" / "README.md"
DRIVER = Path(__file__).with_name("emacs_driver.el")
MARKER = "<!-- kodama-eglot-config"


def documented_config() -> str:
    """The elisp block that follows the marker in editors/README.md."""
    text = README.read_text()
    assert MARKER in text, "editors/README.md lost its tested eglot configuration"
    match = re.search(r"```elisp\n(.*?)```", text[text.index(MARKER):], re.S)
    assert match is not None
    return match.group(1)


def elisp_string(value: str) -> str:
    return json.dumps(value)  # JSON string escapes are valid elisp string escapes here


def test_eglot_completion_hover_and_code_action(
    emacs_binary: Path, tmp_path: Path, identifier_model_dir: Path,
    editor_server_env: dict[str, str],
) -> None:
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    source = repo / "pkg" / "geometry.py"
    source.write_text(GEOMETRY)
    (repo / "pyproject.toml").write_text("[project]\nname = 'repo'\n")

    config = documented_config()
    command = [sys.executable, "-m", "kodama.server", "serve", "--model", str(identifier_model_dir)]
    assert '("kodama" "serve"' in config
    config = config.replace('("kodama" "serve"',
                            "(" + " ".join(elisp_string(part) for part in command), 1)
    (tmp_path / "kodama-eglot.el").write_text(config)
    spec = {"config": str(tmp_path / "kodama-eglot.el"), "file": str(source),
            "results": str(tmp_path / "results.json")}
    (tmp_path / "spec.json").write_text(json.dumps(spec))

    # --batch without -Q: Debian's site-lisp (where elpa-eglot lives) must load.
    done = subprocess.run(
        [str(emacs_binary), "--batch", "-l", str(DRIVER)],
        cwd=repo, capture_output=True, text=True, timeout=400, stdin=subprocess.DEVNULL,
        env={**os.environ, **editor_server_env, "HOME": str(tmp_path),
             "KODAMA_EMACS_TEST": str(tmp_path / "spec.json")})
    diagnostics = f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr[-6000:]}"
    assert (tmp_path / "results.json").exists(), diagnostics
    r: dict[str, Any] = json.loads((tmp_path / "results.json").read_text())
    assert r.get("ok") and done.returncode == 0, (r, diagnostics)

    assert r["major_mode"] == "python-mode"
    assert r["status"] == "ready" and r["mode_line"] == " Kodama:ready", r["mode_line"]

    # completion-at-point inserted Kodama's identifier (x and y) after "total = ".
    assert r["line_before"] == "    total = "
    candidates = r["capf_candidates"]
    assert len(candidates) == 1 and candidates[0] and set(candidates[0]) <= set("xy"), candidates
    assert r["line_after"] == "    total = " + candidates[0]

    # The hover (eldoc) text is Kodama's explanation of `area`.
    hover = r["hover"]
    assert "area" in hover and "Kodama" in hover, hover
    assert "Writing an explanation" not in hover
    assert len(hover.split("Kodama", 1)[1].strip()) > 0, "an explanation follows the title"

    # The code actions, and Generate docstring applied to the buffer.
    assert r["code_actions"] == ["Kodama: Explain function area",
                                 "Kodama: Generate docstring for function area",
                                 "Kodama: Generate tests for function area"]
    assert "geometry.py" in r["confirm_prompt"], "eglot asked to apply the server's edit"
    before, after = r["text_before_docstring"], r["text_after_docstring"]
    assert after.count('"""') == before.count('"""') + 2
    assert parses("python", after)
    target = docstrings.target_at("python", after, after.index("def area") + 4)
    assert target is not None and target.docstring, "the docstring is area's first statement"
