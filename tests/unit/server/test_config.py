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


def test_the_model_layer_settings_are_branches_of_the_one_tree() -> None:
    from kodama.model import config as model_config
    from kodama.server import config as server_config

    config = KodamaConfig()
    for branch, kind in (("model", "ModelConfig"), ("remote", "RemoteConfig"),
                         ("completion", "CompletionConfig"), ("context", "ContextConfig"),
                         ("fine_tune", "FineTuneConfig")):
        assert type(getattr(config, branch)) is getattr(model_config, kind)
        assert getattr(server_config, kind) is getattr(model_config, kind), "re-exported"
    rows = {key: doc for key, _, doc in describe()}
    assert rows["fine_tune.lora_rank"] == "Rank of the LoRA matrices."
    assert rows["context.tokens"] == (
        "Token budget for the snippets from other files in a multi-line prompt (0 = none).")
    errors: list[str] = []
    tuned = merge(config, {"fineTune": {"loraRank": 8}, "context": {"tokens": 99}}, errors)
    assert errors == [] and tuned.fine_tune.lora_rank == 8 and tuned.context.tokens == 99
