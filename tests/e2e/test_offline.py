"""Offline by proof: ``kodama serve`` (a completion and a hover explanation over LSP) and
``kodama complete`` on a local model attempt no network connection at all, unless a remote
backend is configured.

Every Python process of the run is traced: a ``sitecustomize`` module, first on the child's
``PYTHONPATH``, installs an audit hook (:func:`sys.addaudithook`) that appends every
``socket.connect``, ``socket.sendto`` and ``socket.getaddrinfo`` (a name lookup is the first
step of a connection) to a log file. Where unprivileged network namespaces are available the
child runs inside one too (``unshare -rn``: no interface but a down loopback), so native code
the hook cannot see could not reach the network either. The hub is left *allowed*
(``HF_HUB_OFFLINE=0``): an attempt to reach it would be recorded, not silently skipped.

The positive controls configure a remote backend at ``127.0.0.1:<a closed port>`` in the same
setting and find its connection attempt in the log, so the trace is known to see connections.
"""

from __future__ import annotations

import ast
import asyncio
import errno
import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from lsprotocol import types

from helpers.llama_server import free_port
from helpers.lsp import open_and_complete, start_client

SOURCE = (
    "def area(width, height):\n"
    "    return width * height\n\n\n"
    "def perimeter(width, height):\n"
    "    total = \n"
)
LOG_VARIABLE = "KODAMA_TEST_CONNECT_LOG"
SITECUSTOMIZE = f'''"""Test instrumentation: record every network attempt of this process."""
import os
import sys

_LOG = os.environ.get("{LOG_VARIABLE}")
_EVENTS = ("socket.connect", "socket.sendto", "socket.getaddrinfo")


def _record(event, args):
    if _LOG and event in _EVENTS:
        if event == "socket.getaddrinfo":
            family, where = "lookup", args[:2]
        else:
            family = getattr(getattr(args[0], "family", None), "name", "?")
            where = args[1]
        line = repr((os.getpid(), event, family, where)) + "\\n"
        handle = os.open(_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(handle, line.encode())
        finally:
            os.close(handle)


sys.addaudithook(_record)
'''


@cache
def network_namespace() -> tuple[str, ...]:
    """``("unshare", "-rn")`` when this machine lets a user make a network namespace."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    try:
        ran = subprocess.run([unshare, "-rn", "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return (unshare, "-rn") if ran.returncode == 0 else ()


def traced_env(tmp_path: Path, server_env: dict[str, str]) -> tuple[dict[str, str], Path]:
    """The child's environment with the tracing ``sitecustomize`` first on its path, and the
    log it writes (empty until something is attempted)."""
    hook = tmp_path / "audit"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE)
    log = tmp_path / "connections.log"
    log.touch()
    path = os.pathsep.join([str(hook), *filter(None, [os.environ.get("PYTHONPATH")])])
    env = {**server_env, "PYTHONPATH": path, LOG_VARIABLE: str(log),
           "HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0",
           "KODAMA_CACHE_DIR": str(tmp_path / "cache")}
    return env, log


def attempts(log: Path) -> list[tuple[int, str, str, object]]:
    """The network attempts recorded: (pid, event, address family or "lookup", address)."""
    return [ast.literal_eval(line) for line in log.read_text().splitlines()]


def network(log: Path) -> list[tuple[int, str, str, object]]:
    """The attempts that could leave the machine: internet sockets and name lookups (a local
    ``AF_UNIX`` socket is no network)."""
    return [a for a in attempts(log) if a[2] != "AF_UNIX"]


def project(root: Path) -> Path:
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'shapes'\n")
    (root / "shapes.py").write_text(SOURCE)
    return root / "shapes.py"


async def serve_once(model: Path, env: dict[str, str], source: Path,
                     options: dict[str, object] | None = None) -> tuple[list[str], str | None]:
    """A traced ``kodama serve``: an inline completion and a hover explanation, then exit."""
    client = await start_client(str(model), "visual-studio-code", env,
                                {"tasks": {"hoverWaitMs": 120000}, **(options or {})},
                                root=source.parent, wrapper=network_namespace())
    try:
        uri = source.as_uri()
        completion = await open_and_complete(client, uri, SOURCE, 5, 12)
        hover = await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=0, character=5)))
    finally:
        await client.shutdown_session()
        await client.stop()
    items = completion.items if isinstance(completion, types.InlineCompletionList) else []
    text = hover.contents.value if hover and isinstance(hover.contents,
                                                         types.MarkupContent) else None
    return [str(item.insert_text) for item in items], text


def complete_once(model: Path, env: dict[str, str], source: Path,
                  *flags: str) -> subprocess.CompletedProcess[str]:
    """A traced ``kodama complete`` at the end of ``total = ``."""
    command = [*network_namespace(), sys.executable, "-m", "kodama.server", "complete",
               f"{source}:6:13", "--model", str(model), *flags]
    return subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=300)


async def test_serve_attempts_no_connection_without_a_remote_backend(
    tmp_path: Path, identifier_model_dir: Path, server_env: dict[str, str]
) -> None:
    env, log = traced_env(tmp_path, server_env)
    items, hover = await serve_once(identifier_model_dir, env, project(tmp_path / "project"))
    assert items and items[0], "the server completed"
    assert hover is not None and hover.startswith("**function `area`**"), "and explained"
    assert network(log) == [], f"network attempts: {network(log)}"


def test_complete_attempts_no_connection_without_a_remote_backend(
    tmp_path: Path, identifier_model_dir: Path, server_env: dict[str, str]
) -> None:
    env, log = traced_env(tmp_path, server_env)
    done = complete_once(identifier_model_dir, env, project(tmp_path / "project"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip(), "it printed a completion"
    assert network(log) == [], f"network attempts: {network(log)}"


async def test_a_configured_remote_backend_is_seen_connecting(
    tmp_path: Path, identifier_model_dir: Path, server_env: dict[str, str]
) -> None:
    env, log = traced_env(tmp_path, server_env)
    port = free_port()
    remote = {"remote": {"url": f"http://127.0.0.1:{port}/v1", "fallback": "local",
                         "retries": 0, "timeoutMs": 2000}}
    source = project(tmp_path / "project")
    items, _ = await asyncio.wait_for(serve_once(identifier_model_dir, env, source, remote), 300)
    assert items, "the local fallback still completed"
    served = [a for a in network(log) if a[1] == "socket.connect"]
    assert any(a[3] == ("127.0.0.1", port) for a in served), f"not traced: {attempts(log)}"

    log.write_text("")
    complete_once(identifier_model_dir, env, source, "--remote", f"http://127.0.0.1:{port}/v1")
    completed = [a for a in network(log) if a[1] == "socket.connect"]
    assert any(a[3] == ("127.0.0.1", port) for a in completed), f"not traced: {attempts(log)}"


@pytest.mark.skipif(not network_namespace(), reason="no unprivileged network namespaces here")
def test_the_namespace_has_no_network(tmp_path: Path) -> None:
    """Inside the namespace even the loopback is down: nothing could be reached from it."""
    probe = ("import socket\ns = socket.socket()\ns.settimeout(2)\n"
             "print(s.connect_ex(('127.0.0.1', 9)))")
    ran = subprocess.run([*network_namespace(), sys.executable, "-c", probe],
                         capture_output=True, text=True, timeout=30)
    assert ran.returncode == 0, ran.stderr
    assert int(ran.stdout) == errno.ENETUNREACH, f"connect gave errno {ran.stdout.strip()}"
