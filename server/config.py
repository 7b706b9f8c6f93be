"""One typed configuration tree for Kodama, fed from defaults, environment, CLI and the editor.

Precedence, lowest first: defaults → environment variables (``KODAMA_*``) → command-line flags →
the editor's ``initializationOptions``. Every source goes through ``merge``: unknown keys and
invalid values are reported (the server shows them to the user) and the previous value stays.

The branches the model layer reads (model, remote, completion, context, fine_tune) are defined
in :mod:`kodama.model.config` and re-exported here; this module adds the server's own branch
(tasks), the tree that nests them all, and the machinery that fills and describes it.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from kodama.model.config import (
    QUANTIZATION_NAMES,
    CompletionConfig,
    ContextConfig,
    Dtype,
    FineTuneConfig,
    ModelConfig,
    QuantizationName,
    RemoteConfig,
    TestRunConfig,
)

__all__ = [
    "ENV_VARS",
    "QUANTIZATION_NAMES",
    "CompletionConfig",
    "ContextConfig",
    "Dtype",
    "FineTuneConfig",
    "KodamaConfig",
    "ModelConfig",
    "QuantizationName",
    "RemoteConfig",
    "TasksConfig",
    "TestRunConfig",
    "describe",
    "from_env",
    "merge",
    "nest",
]


@dataclass(frozen=True)
class TasksConfig:
    """The understanding features: explanations on hover, docstrings, tests."""

    hover: bool = True
    """Explain a function, method or class when the pointer rests on its name or signature."""
    hover_wait_ms: int = 1500
    """How long a hover waits for an explanation that is not ready yet; after that it says one
    is being written (hover again to read it) and the generation goes on in the background."""
    docstring_style: Literal["auto", "google", "numpy", "rest", "plain"] = "auto"
    """Python docstring convention: ``auto`` follows the one most of the repository's
    docstrings use (Google when there are none)."""
    tests: TestRunConfig = field(default_factory=TestRunConfig)
    """How generated tests are checked."""


@dataclass(frozen=True)
class KodamaConfig:
    """The whole configuration."""

    model: ModelConfig = field(default_factory=ModelConfig)
    remote: RemoteConfig = field(default_factory=RemoteConfig)
    completion: CompletionConfig = field(default_factory=CompletionConfig)
    context: ContextConfig = field(default_factory=ContextConfig)
    tasks: TasksConfig = field(default_factory=TasksConfig)
    fine_tune: FineTuneConfig = field(default_factory=FineTuneConfig)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    """Level of the server's log (on stderr and in the editor's output panel)."""


ENV_VARS: dict[str, str] = {
    "KODAMA_MODEL": "model.name",
    "KODAMA_DTYPE": "model.dtype",
    "KODAMA_THREADS": "model.threads",
    "KODAMA_QUANTIZATION": "model.quantization",
    "KODAMA_ADAPTER": "model.adapter",
    "KODAMA_REMOTE_URL": "remote.url",
    "KODAMA_REMOTE_MODEL": "remote.model",
    "KODAMA_LOG_LEVEL": "log_level",
}
"""Environment variables and the configuration key each one sets."""


def _convert(value: Any, hint: Any, key: str) -> Any:
    """``value`` converted to the type ``hint``; ValueError with a user-facing message if not."""
    origin = typing.get_origin(hint)
    if origin is Literal:
        allowed = typing.get_args(hint)
        if value not in allowed:
            choices = ", ".join(repr(a) for a in allowed)
            raise ValueError(f"{key}: {value!r} is not one of {choices}")
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg, key)
            except ValueError as exc:
                errors.append(str(exc))
        raise ValueError(errors[0] if errors else f"{key}: invalid value {value!r}")
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false",
                                                         "no", "off"):
            return value.lower() in ("1", "true", "yes", "on")
        raise ValueError(f"{key}: expected true or false, got {value!r}")
    if hint is int:
        if isinstance(value, bool):
            raise ValueError(f"{key}: expected a whole number, got {value!r}")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"{key}: expected a whole number, got {value!r}") from None
        if number < 0 or (isinstance(value, float) and value != number):
            raise ValueError(f"{key}: expected a whole number ≥ 0, got {value!r}")
        return number
    if hint is float:
        if isinstance(value, bool):
            raise ValueError(f"{key}: expected a number, got {value!r}")
        try:
            real = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{key}: expected a number, got {value!r}") from None
        if not real >= 0 or real == float("inf"):
            raise ValueError(f"{key}: expected a finite number ≥ 0, got {value!r}")
        return real
    if hint is str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{key}: expected a non-empty string, got {value!r}")
        return value.strip()
    raise ValueError(f"{key}: unsupported setting type")


def merge(config: Any, values: Mapping[str, Any], errors: list[str], prefix: str = "") -> Any:
    """A copy of the dataclass ``config`` with ``values`` (a nested mapping) applied.

    Problems are appended to ``errors`` as messages; the offending key keeps its old value.
    """
    hints = typing.get_type_hints(type(config))
    names = {f.name for f in dataclasses.fields(config)}
    changes: dict[str, Any] = {}
    for raw_key, value in values.items():
        key = _snake(str(raw_key))
        dotted = f"{prefix}{raw_key}"
        if key not in names:
            errors.append(f"{dotted}: unknown setting (ignored)")
            continue
        current = getattr(config, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, Mapping):
                errors.append(f"{dotted}: expected an object, got {value!r}")
                continue
            changes[key] = merge(current, value, errors, prefix=f"{dotted}.")
            continue
        try:
            changes[key] = _convert(value, hints[key], dotted)
        except ValueError as exc:
            errors.append(f"{exc} (keeping {current!r})")
    return dataclasses.replace(config, **changes)


def _snake(name: str) -> str:
    """``debounceMs`` → ``debounce_ms`` (editors send camelCase)."""
    out = []
    for ch in name:
        if ch.isupper():
            out.append("_" + ch.lower())
        else:
            out.append(ch)
    return "".join(out)


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """``{"model.name": x}`` → ``{"model": {"name": x}}``."""
    out: dict[str, Any] = {}
    for dotted, value in flat.items():
        node = out
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def from_env(config: KodamaConfig, errors: list[str],
             environ: Mapping[str, str] | None = None) -> KodamaConfig:
    """``config`` with the ``KODAMA_*`` environment variables applied."""
    env = os.environ if environ is None else environ
    flat = {key: env[var] for var, key in ENV_VARS.items() if env.get(var)}
    merged: KodamaConfig = merge(config, nest(flat), errors)
    return merged


def describe(config: Any = None, prefix: str = "") -> list[tuple[str, str, str]]:
    """(key, default, documentation) for every setting — the README's reference table."""
    import ast
    import inspect

    config = KodamaConfig() if config is None else config
    docs: dict[str, str] = {}
    tree = ast.parse(inspect.getsource(type(config)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    for node, after in itertools.pairwise(body):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)):
            docs[node.target.id] = " ".join(str(after.value.value).split())
    rows: list[tuple[str, str, str]] = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            rows.extend(describe(value, f"{prefix}{f.name}."))
        else:
            rows.append((f"{prefix}{f.name}", repr(value), docs.get(f.name, "")))
    return rows
