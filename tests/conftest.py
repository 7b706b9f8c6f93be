"""Shared fixtures: a tiny offline model, an isolated Kodama cache, and the real default model.

Every test runs with ``KODAMA_CACHE_DIR`` pointing at a session temp folder, so nothing writes
to the user's cache, except tests marked ``real_model``: they use the normal per-user cache, so
the default model's ~1 minute conversion happens once per machine, not once per run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # makes `helpers` importable in any layout

from helpers.tiny_model import make_tiny_model


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse tests that use the real model without saying so with ``@pytest.mark.real_model``."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "default_model_dir" in fixtures and item.get_closest_marker("real_model") is None:
            raise pytest.UsageError(f"{item.nodeid} uses default_model_dir: mark it real_model")


@pytest.fixture(scope="session")
def kodama_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's private Kodama cache folder."""
    return tmp_path_factory.mktemp("kodama-cache")


@pytest.fixture(autouse=True)
def _isolated_kodama_cache(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, kodama_cache_dir: Path
) -> None:
    """Point KODAMA_CACHE_DIR at the session cache, except for real-model tests."""
    if request.node.get_closest_marker("real_model") is None:
        monkeypatch.setenv("KODAMA_CACHE_DIR", str(kodama_cache_dir))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Qwen2 model folder with a real BPE tokenizer (see helpers.tiny_model)."""
    return make_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def identifier_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model that always writes an identifier of x and y (see helpers.tiny_model)."""
    return make_tiny_model(tmp_path_factory.mktemp("identifier-model"), emit=("x", "y"))


@pytest.fixture(scope="session")
def default_model_dir() -> Path:
    """The default preset converted in the normal user cache (slow the first time per machine).

    Only for tests marked ``@pytest.mark.real_model``.
    """
    from kodama.model.presets import DEFAULT_PRESET, PRESETS
    from kodama.model.weights import ensure_converted

    return ensure_converted(PRESETS[DEFAULT_PRESET])
