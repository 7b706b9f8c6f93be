"""``kodama serve --tcp HOST:PORT``: the same server over a loopback socket."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys

from lsprotocol import types
from pygls.lsp.client import LanguageClient


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_serve_over_tcp() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kodama.server", "serve", "--no-model", "--tcp",
         f"127.0.0.1:{port}"], stderr=subprocess.DEVNULL)
    client = LanguageClient("tcp-test", "1")
    try:
        for _ in range(100):  # wait for the listener (the interpreter needs a moment)
            try:
                await client.start_tcp("127.0.0.1", port)
                break
            except OSError:
                await asyncio.sleep(0.1)
        result = await asyncio.wait_for(client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities())), timeout=30)
        assert result.capabilities.inline_completion_provider is not None
        await client.shutdown_async(None)
        client.exit(None)
    finally:
        await client.stop()
        proc.terminate()
        proc.wait(timeout=10)
