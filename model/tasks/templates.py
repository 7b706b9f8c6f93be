"""Prompt templates of the tasks, loaded from ``prompts.toml`` and rendered into chat messages."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources
from string import Template
from typing import Literal

TaskName = Literal["explain", "docstring", "tests", "tests_repair", "implement"]

Message = dict[str, str]
"""A chat message: ``{"role": "system" | "user" | "assistant", "content": ...}``."""


@dataclass(frozen=True)
class TaskTemplate:
    """One task's messages and answer budget."""

    name: str
    system: Template
    user: Template
    max_new_tokens: int


@functools.cache
def template(name: TaskName) -> TaskTemplate:
    """The template of task ``name`` (the file is read once)."""
    data = tomllib.loads(resources.files(__package__).joinpath("prompts.toml").read_text(
        encoding="utf-8"))
    entry = data[name]
    return TaskTemplate(name=name, system=Template(entry["system"]), user=Template(entry["user"]),
                        max_new_tokens=int(entry["max_new_tokens"]))


def render(name: TaskName, /, **values: str) -> list[Message]:
    """The chat messages of task ``name``; KeyError names a placeholder left unfilled."""
    task = template(name)
    return [
        {"role": "system", "content": task.system.substitute(values)},
        {"role": "user", "content": task.user.substitute(values)},
    ]


FENCES = {"python": "python", "javascript": "javascript", "typescript": "typescript",
          "tsx": "tsx", "go": "go", "rust": "rust", "java": "java", "c": "c", "cpp": "cpp"}
"""Markdown code-fence language of each language id."""


def fence(language: str) -> str:
    """The Markdown fence tag for ``language`` (empty when unknown)."""
    return FENCES.get(language, "")
