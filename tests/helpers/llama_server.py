"""llama.cpp's OpenAI-compatible server (PyPI ``llama-cpp-python[server]``) on this machine, for
the remote backend's real-server tests.

``ensure_installed`` runs ``scripts/install-llamacpp`` when the server is missing (it builds
llama.cpp from its sdist once, ~5 min on 2 cores, then installs from its wheel cache), so the
test command works on a fresh machine.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def ensure_installed() -> None:
    """Install llama-cpp-python with its server into this environment if it is missing."""
    probe = subprocess.run([sys.executable, "-c", "import llama_cpp.server.app"],
                           capture_output=True)
    if probe.returncode == 0:
        return
    done = subprocess.run(["bash", str(ROOT / "scripts" / "install-llamacpp")],
                          env={"PYTHON": sys.executable, "PATH": "/usr/bin:/bin",
                               "HOME": str(Path.home())},
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError("scripts/install-llamacpp failed:\n" + done.stdout[-3000:]
                           + done.stderr[-3000:])


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LlamaServer:
    """One ``python -m llama_cpp.server`` process serving a GGUF file under ``alias``."""

    def __init__(self, gguf: Path, alias: str, log: Path, port: int | None = None) -> None:
        self.gguf, self.alias, self.log_path = gguf, alias, log
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120) -> LlamaServer:
        """Start it and wait until it lists its model."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(self.gguf),
             "--model_alias", self.alias, "--host", "127.0.0.1", "--port", str(self.port),
             "--n_ctx", "4096", "--n_threads", "2"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama.cpp server exited:\n{self.log()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2) as answer:
                    if self.alias in json.dumps(json.load(answer)):
                        return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"llama.cpp server did not start:\n{self.log()[-3000:]}")

    def kill(self) -> None:
        """Kill it at once (SIGKILL), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def log(self) -> str:
        """What the server printed so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")
