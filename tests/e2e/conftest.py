"""End-to-end fixtures: the real ``kodama serve`` process driven by pytest-lsp's client,
initialised with the capabilities recorded from real VS Code, Neovim and Emacs."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from kodama.server.protocol import STATUS_NOTIFICATION
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

CLIENTS = ["visual-studio-code", "neovim", "emacs"]


async def start_client(
    model: str | None, spec: str, env: dict[str, str], options: dict[str, Any] | None = None
) -> LanguageClient:
    """Start a server, initialise it as ``spec`` would, and wait until its model is settled."""
    command = [sys.executable, "-m", "kodama.server", "serve", "--log-level", "debug"]
    command += ["--model", model] if model else ["--no-model"]
    config = ClientServerConfig(server_command=command, server_env={**os.environ, **env})
    client = await config.start()
    assert isinstance(client, LanguageClient)
    statuses: list[Any] = []
    settled = asyncio.get_running_loop().create_future()

    @client.feature(STATUS_NOTIFICATION)
    def on_status(params: Any) -> None:
        statuses.append(params)
        if params.state in ("ready", "error", "disabled") and not settled.done():
            settled.set_result(params)

    client.kodama_statuses = statuses  # type: ignore[attr-defined]
    result = await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities(spec),
        initialization_options={"completion": {"debounceMs": 10}, **(options or {})},
        root_uri=Path.cwd().as_uri(),
    ))
    client.kodama_init = result  # type: ignore[attr-defined]
    await asyncio.wait_for(settled, timeout=120)
    return client


@pytest.fixture(scope="session")
def server_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for servers under test: a private cache, few threads, no hub access."""
    return {
        "KODAMA_CACHE_DIR": str(tmp_path_factory.mktemp("kodama-cache")),
        "KODAMA_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
    }


@pytest_asyncio.fixture(params=CLIENTS)
async def client(
    request: pytest.FixtureRequest, tiny_model_dir: Path, server_env: dict[str, str]
) -> AsyncIterator[LanguageClient]:
    """A server on the tiny test model, initialised as each recorded real client."""
    lsp = await start_client(str(tiny_model_dir), request.param, server_env)
    yield lsp
    await lsp.shutdown_session()
    await lsp.stop()
