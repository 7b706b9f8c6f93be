"""End-to-end fixtures: the real ``kodama serve`` process driven by pytest-lsp's client,
initialised with the capabilities recorded from real VS Code, Neovim and Emacs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from pytest_lsp import LanguageClient

from helpers.lsp import start_client

CLIENTS = ["visual-studio-code", "neovim", "emacs"]


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
    request: pytest.FixtureRequest, identifier_model_dir: Path, server_env: dict[str, str]
) -> AsyncIterator[LanguageClient]:
    """A server on the tiny identifier-writing model, initialised as each recorded client."""
    lsp = await start_client(str(identifier_model_dir), request.param, server_env)
    yield lsp
    await lsp.shutdown_session()
    await lsp.stop()
