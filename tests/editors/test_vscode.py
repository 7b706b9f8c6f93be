"""The VS Code extension (editors/vscode) inside real VS Code: code-server in headless Chromium.

``scripts/install-vscode-test`` (run by the ``vscode_tools`` fixture when something is missing)
installs Node 24, code-server 4.139.1, playwright-core and Debian's chromium, and builds the
``.vsix`` with ``editors/vscode/build.sh``. Each end-to-end test installs that ``.vsix`` into a
fresh code-server, configures it in the workspace settings and drives the real UI with
``editors/vscode/test/drive-code-server.mjs`` (Playwright):

- on the tiny identifier-writing model: the status bar goes from loading to ready, ghost text
  appears while typing and Tab accepts it into the file, hovering a function name shows Kodama's
  explanation, the Generate docstring code action (Ctrl+.) inserts a docstring, Kodama: Explain
  opens the explanation in a panel, and Kodama: Fine-tune This Repository runs in a terminal
  (status bar: fine-tuning) until Ctrl+C there interrupts the training;
- typing while the model loads (``gated_server.py`` holds the loading back): no ghost text;
  once the server reports ready, the ghost text comes with no further keystroke;
- with ``kodama.serverPath`` pointing nowhere: an error notification that names the setting with
  its fix buttons, "Kodama: error" in the status bar, and clicking it shows the output.

A screenshot of each step is kept in ``tests/editors/artifacts/vscode/{session,not-found}/``
(printed with ``-s``). A fast test type-checks the TypeScript and checks package.json against the
extension's README and the server's contract.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Protocol

import pytest

from kodama.syntax import docstrings
from kodama.syntax.analysis import parses

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "editors" / "vscode"
DRIVER = EXTENSION / "test" / "drive-code-server.mjs"
ARTIFACTS = Path(__file__).with_name("artifacts") / "vscode"
GATED_SERVER = Path(__file__).with_name("gated_server.py")


class VSCodeTools(Protocol):
    """The ``vscode_tools`` fixture's value (``conftest.VSCodeTools``)."""

    node_bin: Path
    code_server: Path
    playwright_dir: Path
    vsix: Path

SOURCE = (
    '"""Shapes."""\n\n\n'
    "def area(width, height):\n"
    "    if width < 0:\n"
    "        raise ValueError(width)\n"
    "    return width * height\n\n\n"
    "def total(values):\n"
    "    count = len(values)\n"
    "    "
)
"""The file the test edits: it types ``return `` at the very end (inside ``total``)."""

WORDS = ("alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "theta", "iota", "zeta",
         "rho", "tau", "phi", "chi", "psi", "eta")


def helper_modules(package: Path) -> None:
    """16 small, distinct modules: enough for ``kodama fine-tune`` to hold out test files and
    train for a while (so the test can interrupt it)."""
    package.mkdir(parents=True)
    for i, word in enumerate(WORDS):
        lines = [f'"""Helpers for {word}."""', "", ""]
        for j in range(6):
            a, b = WORDS[(i + j + 1) % len(WORDS)], WORDS[(i * 3 + j + 5) % len(WORDS)]
            if a == b:
                b = "other"
            op = "+-*%"[(i + j) % 4]
            lines += [f"def {a}_{b}_{i}_{j}({a}, {b}):", f"    if {a} < {j}:",
                      f"        return {b} {op} {i + j}", f"    total = {a} {op} {b}",
                      f"    for k in range({j + 2}):", f"        total += k * {a}",
                      "    return total", "", ""]
        (package / f"mod_{word}.py").write_text("\n".join(lines))


USER_SETTINGS: dict[str, Any] = {
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "workbench.enableExperiments": False,
    "security.workspace.trust.enabled": False,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
    "extensions.ignoreRecommendations": True,
    "chat.disableAIFeatures": True,
    "editor.inlineSuggest.enabled": True,
    # Only Kodama's ghost text: no suggestion list that Tab could accept instead.
    "editor.quickSuggestions": {"other": "off", "comments": "off", "strings": "off"},
    "editor.suggestOnTriggerCharacters": False,
    "editor.wordBasedSuggestions": "off",
    "editor.hover.delay": 300,
    "editor.minimap.enabled": False,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "files.trimTrailingWhitespace": False,
    "files.insertFinalNewline": False,
    "terminal.integrated.gpuAcceleration": "off",  # DOM rows the driver can read
}


def test_extension_typechecks_and_matches_its_readme_and_the_server(
    vscode_tools: VSCodeTools,
) -> None:
    """Fast (no editor): the TypeScript type-checks; every command and setting package.json
    contributes is in the extension's README and the other way round; the server keys it sends,
    the notification and the command ids it uses are the server's."""
    checked = subprocess.run(
        [str(vscode_tools.node_bin / "node"), str(EXTENSION / "node_modules" / "typescript" / "bin"
                                                  / "tsc"), "-p", str(EXTENSION), "--noEmit"],
        capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    package = json.loads((EXTENSION / "package.json").read_text())
    readme = (EXTENSION / "README.md").read_text()
    contributes = package["contributes"]
    titles = {f"{c['category']}: {c['title']}" for c in contributes["commands"]}
    documented_titles = set(re.findall(r"^\| (Kodama: [^|]+?) \|", readme, re.MULTILINE))
    assert titles == documented_titles
    settings = set(contributes["configuration"]["properties"])
    documented_settings = set(re.findall(r"^\| `(kodama\.[\w.]+)` \|", readme, re.MULTILINE))
    assert settings == documented_settings
    for language in contributes["configuration"]["properties"]["kodama.languages"]["default"]:
        assert f"onLanguage:{language}" in package["activationEvents"]

    from kodama.server import code_actions
    from kodama.server.config import describe
    from kodama.server.protocol import STATUS_NOTIFICATION

    source = "".join(p.read_text() for p in sorted((EXTENSION / "src").glob("*.ts")))
    sent = {f"{a}.{b}" for a, b in re.findall(r'section\("(\w+)"\)\.(\w+) =', source)}
    keys = {key for key, _, _ in describe()}
    assert sent == {"model.name", "model.adapter", "context.tokens"} and sent <= keys
    assert f'"{STATUS_NOTIFICATION}"' in source
    for command in code_actions.COMMANDS:
        assert f'"{command}"' in source
    # The palette commands must not take the ids vscode-languageclient registers for the
    # server's commands.
    assert not {c["command"] for c in contributes["commands"]} & set(code_actions.COMMANDS)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_healthy(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"code-server exited ({proc.returncode}):\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"code-server did not answer within {timeout:.0f} s:\n{log.read_text()[-4000:]}")


def _logs(user_data: Path) -> str:
    """The Kodama output channel and the extension host log, for failure messages."""
    parts = []
    for path in sorted(user_data.glob("logs/**/*.log")):
        if "Kodama" in path.name or path.name.startswith(("exthost", "remoteexthost")):
            parts.append(f"--- {path.relative_to(user_data)}\n{path.read_text()[-6000:]}")
    return "\n".join(parts)


def _tool_env(tools: VSCodeTools, home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{tools.node_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "KODAMA_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
    }


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop code-server and everything it started (its own process group)."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 20)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def drive(tools: VSCodeTools, tmp_path: Path, workspace: Path, settings: dict[str, Any],
          file_name: str, shots: Path, mode: str, extra_env: dict[str, str] | None = None
          ) -> tuple[dict[str, Any], str]:
    """Install the .vsix into a fresh code-server, write the workspace ``settings``, start
    code-server on a free port and run the Playwright driver in ``mode``; its result (asserted
    ``ok``) and a description of everything seen, for assertion messages."""
    (workspace / ".vscode").mkdir(parents=True, exist_ok=True)
    (workspace / ".vscode" / "settings.json").write_text(json.dumps(settings, indent=2))
    user_data, extensions = tmp_path / "user-data", tmp_path / "extensions"
    (user_data / "User").mkdir(parents=True)
    (user_data / "User" / "settings.json").write_text(json.dumps(USER_SETTINGS, indent=2))
    env = _tool_env(tools, tmp_path / "home")
    common = ["--user-data-dir", str(user_data), "--extensions-dir", str(extensions)]

    installed = subprocess.run(
        [str(tools.code_server), *common, "--install-extension", str(tools.vsix)],
        capture_output=True, text=True, env=env, timeout=300)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert any(p.name.startswith("kodama.kodama-") for p in extensions.iterdir()), \
        installed.stdout + installed.stderr

    port = _free_port()
    log = tmp_path / "code-server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(tools.code_server), *common, "--bind-addr", f"127.0.0.1:{port}",
             "--auth", "none", "--disable-telemetry", "--disable-update-check",
             "--disable-workspace-trust", "--disable-getting-started-override",
             "--config", str(tmp_path / "code-server.yaml"), str(workspace)],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        _wait_healthy(port, proc, log, timeout=180)
        driven = subprocess.run(
            [str(tools.node_bin / "node"), str(DRIVER),
             f"http://127.0.0.1:{port}/?folder={workspace}", file_name, str(shots), mode],
            capture_output=True, text=True, timeout=900,
            env={**env, "PLAYWRIGHT_DIR": str(tools.playwright_dir), **(extra_env or {})})
        lines = driven.stdout.strip().splitlines()
        result: dict[str, Any] = json.loads(lines[-1]) if lines else {}
        context = (f"driver exit {driven.returncode}\n{json.dumps(result, indent=1)}\n"
                   f"{driven.stderr[-4000:]}\n{_logs(user_data)}\n"
                   f"code-server log:\n{log.read_text()[-3000:]}\nscreenshots: {shots}")
        assert result.get("ok"), context
    finally:
        _stop(proc)
    return result, context


def _shots(name: str) -> Path:
    """tests/editors/artifacts/vscode/NAME, emptied."""
    folder = ARTIFACTS / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"\nVS Code screenshots: {folder}")
    return folder


def test_code_server_ghost_text_hover_docstring_and_fine_tune(
    vscode_tools: VSCodeTools, identifier_model_dir: Path, tmp_path: Path
) -> None:
    """Status ready → ghost text → Tab accepts → hover explanation → docstring code action →
    Kodama: Explain → Kodama: Fine-tune This Repository, interrupted with Ctrl+C."""
    workspace = tmp_path / "project"
    workspace.mkdir()
    source = workspace / "app.py"
    source.write_text(SOURCE)
    helper_modules(workspace / "pkg")
    settings = {
        "kodama.pythonPath": sys.executable,
        "kodama.model": str(identifier_model_dir),
        "kodama.initializationOptions": {"tasks": {"hoverWaitMs": 60000}},
    }
    result, context = drive(vscode_tools, tmp_path, workspace, settings, source.name,
                            _shots("session"), "full")

    # The status bar went from starting/loading to ready.
    assert "Kodama: ready" in result["statusReady"], context
    # Ghost text: the tiny model writes an identifier of x and y; Tab put it into the file.
    ghost = result["ghost"].strip()
    assert re.fullmatch(r"[xy]+", ghost), context
    text = source.read_text()
    assert f"    return {ghost}" in text.splitlines(), context
    # Hover on `area` shows Kodama's explanation (its heading names the function).
    assert "function area" in result["hover"] and "Kodama" in result["hover"], context
    assert "Generate docstring for function area" in " ".join(result["actions"]), context
    # The docstring action inserted a docstring as the first statement of `area`.
    assert parses("python", text), text
    target = docstrings.target_at("python", text, text.index("def area") + 4)
    assert target is not None and target.docstring, text
    assert text.count('"""') == SOURCE.count('"""') + 2, text
    assert text.startswith(SOURCE.split("def area")[0]), text
    # Kodama: Explain (palette) showed the explanation in a side panel.
    assert "function area" in result["explanation"], context
    # The status bar followed the server: generating while the explanation / docstring ran
    # ($/progress), fine-tuning while the fine-tune task ran, ready at the end.
    seen = result["statusSeen"]
    ready_at = next(i for i, s in enumerate(seen) if "Kodama: ready" in s)
    assert any("Kodama: loading" in s for s in seen[:ready_at]), seen
    assert any("Kodama: generating" in s for s in seen), seen
    assert any("Kodama: fine-tuning" in s for s in seen), seen
    assert "Kodama: ready" in result["statusEnd"], context
    # Ctrl+C in the fine-tune terminal interrupted the training, and the extension said so.
    assert "interrupted after step" in result["terminal"], context
    assert any("Kodama: fine-tuning stopped" in t for t in result["notifications"]), context
    # A PNG for each step.
    names = [Path(p).name for p in result["screenshots"]]
    assert [n.split("-", 1)[1] for n in names] == [
        "ready.png", "ghost-text.png", "accepted.png", "hover.png", "code-actions.png",
        "docstring.png", "explain-command.png", "fine-tuning.png", "fine-tune-stopped.png"], names
    for shot in map(Path, result["screenshots"]):
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


def test_code_server_ghost_text_once_the_model_is_ready(
    vscode_tools: VSCodeTools, identifier_model_dir: Path, tmp_path: Path
) -> None:
    """Typing while the model loads gets no ghost text (the server answers empty); when the
    server reports ready, the extension asks again at the cursor by itself and the ghost text
    shows with no further keystroke."""
    workspace = tmp_path / "project"
    workspace.mkdir()
    (workspace / "app.py").write_text(SOURCE)
    gate = tmp_path / "load-now"
    server = tmp_path / "kodama-gated"
    server.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{GATED_SERVER}" "{gate}" "$@"\n')
    server.chmod(0o755)
    settings = {"kodama.serverPath": str(server), "kodama.model": str(identifier_model_dir)}
    result, context = drive(vscode_tools, tmp_path, workspace, settings, "app.py",
                            _shots("reask"), "reask", {"GATE_FILE": str(gate)})
    assert "Kodama: loading" in result["statusWhileTyping"], context
    assert not result["ghostWhileLoading"].strip(), context
    assert "Kodama: ready" in result["statusReady"], context
    assert re.fullmatch(r"[xy]+", result["ghost"].strip()), context


def test_code_server_server_not_found_then_fixed(
    vscode_tools: VSCodeTools, identifier_model_dir: Path, tmp_path: Path
) -> None:
    """kodama.serverPath pointing nowhere: an error notification that names the setting and
    offers the fixes, "Kodama: error" in the status bar, and clicking it shows the output. Then
    the workspace settings are fixed on disk: the server restarts by itself and gets ready."""
    workspace = tmp_path / "project"
    workspace.mkdir()
    (workspace / "app.py").write_text(SOURCE)
    missing = tmp_path / "nowhere" / "kodama"
    fixed = {"kodama.pythonPath": sys.executable, "kodama.model": str(identifier_model_dir)}
    result, context = drive(
        vscode_tools, tmp_path, workspace, {"kodama.serverPath": str(missing)}, "app.py",
        _shots("not-found"), "not-found",
        {"SETTINGS_FILE": str(workspace / ".vscode" / "settings.json"),
         "FIXED_SETTINGS": json.dumps(fixed)})
    assert "Kodama: error" in result["statusError"], context
    message = next(t for t in result["notifications"] if "kodama.serverPath" in t)
    assert str(missing) in message and "not an executable file" in message, context
    assert {"Open Settings", "Copy Install Command", "Show Output"} <= set(result["buttons"]), \
        context
    assert str(missing) in result["output"], context
    assert "Kodama: ready" in result["statusFixed"], context
