"""The configuration tree: precedence, camelCase, validation with fallback."""

from __future__ import annotations

from kodama.server.config import KodamaConfig, describe, from_env, merge


def test_defaults() -> None:
    config = KodamaConfig()
    assert config.model.name == "default" and config.completion.enabled


def test_env_then_options_with_camel_case() -> None:
    errors: list[str] = []
    config = from_env(KodamaConfig(), errors, {"KODAMA_MODEL": "/m", "KODAMA_THREADS": "2"})
    config = merge(config, {"completion": {"debounceMs": 50, "maxLines": 3}}, errors)
    assert errors == []
    assert config.model.name == "/m" and config.model.threads == 2
    assert config.completion.debounce_ms == 50 and config.completion.max_lines == 3


def test_invalid_values_are_reported_and_old_values_kept() -> None:
    errors: list[str] = []
    config = merge(KodamaConfig(), {
        "model": {"dtype": "int3", "threads": -1},
        "completion": {"debounceMs": "soon", "enabled": "maybe"},
        "colour": "blue",
        "logLevel": "debug",
    }, errors)
    assert config.model.dtype == "auto" and config.model.threads is None
    assert config.completion.debounce_ms == KodamaConfig().completion.debounce_ms
    assert config.log_level == "debug"
    joined = "\n".join(errors)
    for key in ("model.dtype", "model.threads", "completion.debounceMs", "completion.enabled",
                "colour"):
        assert key in joined, joined
    assert len(errors) == 5


def test_describe_lists_every_leaf_with_its_doc() -> None:
    rows = {key: doc for key, _, doc in describe()}
    assert "completion.debounce_ms" in rows and "model.name" in rows
    assert all(doc for doc in rows.values())
