"""What a task is about: the function, method or class at a position, its code, and the
repository definitions it uses (the grounding every task prompt carries)."""

from __future__ import annotations

import hashlib
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from kodama.model.tasks.templates import fence
from kodama.model.types import Snippet
from kodama.syntax import docstrings
from kodama.syntax.docstrings import Target

MAX_CODE_LINES = 160
"""Longer definitions are shown with their middle left out (the prompt stays within ~2k tokens)."""
CONTEXT_CHARS = 2400
"""Budget of repository definitions in a task prompt (about 600 tokens)."""


@dataclass(frozen=True)
class Subject:
    """A definition a task works on."""

    language: str
    path: str
    """Display path (repository-relative when known)."""
    target: Target
    text: str
    """The whole file, as the task saw it."""
    context: tuple[Snippet, ...] = ()

    @property
    def code(self) -> str:
        """The definition's source, decorators included, from the start of its first line and
        dedented (a method reads like a top-level function)."""
        data = self.text.encode("utf-8")
        start = data.rfind(b"\n", 0, self.target.start_byte) + 1
        return textwrap.dedent(data[start:self.target.end_byte].decode("utf-8", "replace"))

    @property
    def middle(self) -> int:
        """Code-point offset of the middle of the definition in :attr:`text` (where repository
        context is asked for: the provider looks at the lines around it)."""
        data = self.text.encode("utf-8")
        start = len(data[:self.target.start_byte].decode("utf-8", "replace"))
        end = len(data[:self.target.end_byte].decode("utf-8", "replace"))
        return (start + end) // 2

    @property
    def qualified_name(self) -> str:
        """``Class.method`` for a method, the plain name otherwise."""
        if self.kind != "method":
            return self.name
        owners = [t for t in docstrings.targets(self.language, self.text)
                  if t.kind == "class" and t.start_byte <= self.target.start_byte
                  and self.target.end_byte <= t.end_byte]
        return f"{owners[-1].name}.{self.name}" if owners else self.name

    @property
    def kind(self) -> str:
        """``function``, ``method`` or ``class``."""
        return self.target.kind

    @property
    def name(self) -> str:
        """The definition's name."""
        return self.target.name


@dataclass(frozen=True)
class Selection:
    """A stretch of code the user selected (explained as it is, whatever it contains)."""

    language: str
    path: str
    text: str
    """The whole file."""
    start: int
    end: int
    """Code-point offsets of the selection in :attr:`text`."""
    context: tuple[Snippet, ...] = ()

    @property
    def code(self) -> str:
        """The selected lines, dedented (a partial first line is taken from its start)."""
        start = self.text.rfind("\n", 0, self.start) + 1
        return textwrap.dedent(self.text[start:self.end].rstrip())

    @property
    def kind(self) -> str:
        """Always ``selected code``."""
        return "selected code"

    @property
    def name(self) -> str:
        """``lines A–B`` (1-based), how the selection is named to the user and the model."""
        first = self.text.count("\n", 0, self.start) + 1
        last = self.text.count("\n", 0, max(self.start, self.end - 1)) + 1
        return f"line {first}" if first == last else f"lines {first}–{last}"

    @property
    def qualified_name(self) -> str:
        """Same as :attr:`name`."""
        return self.name


Code = Subject | Selection
"""What can be explained: a definition or a selection."""


def subject_at(language: str, text: str, offset: int, *, path: str,
               context: Sequence[Snippet] = ()) -> Subject | None:
    """The innermost function, method or class around code-point ``offset``; None outside."""
    target = docstrings.target_at(language, text, offset)
    if target is None:
        return None
    return Subject(language=language, path=path, target=target, text=text, context=tuple(context))


def shown_code(code: str, max_lines: int = MAX_CODE_LINES) -> str:
    """``code``, with its middle replaced by a marker line when it is longer than ``max_lines``."""
    lines = code.splitlines()
    if len(lines) <= max_lines:
        return code
    head, tail = lines[: max_lines * 2 // 3], lines[-(max_lines // 3):]
    omitted = len(lines) - len(head) - len(tail)
    return "\n".join([*head, f"    ... ({omitted} lines left out) ...", *tail])


def context_block(subject: Code, budget: int = CONTEXT_CHARS) -> str:
    """The repository definitions the code uses, as Markdown (empty when there are none)."""
    parts: list[str] = []
    used = 0
    for snippet in sorted(subject.context, key=lambda s: -s.score):
        if snippet.kind not in {"definition", "scope"} or snippet.text.strip() in subject.code:
            continue
        if used + len(snippet.text) > budget:
            continue
        used += len(snippet.text)
        parts.append(f"From `{snippet.path}`:\n```{fence(subject.language)}\n"
                     f"{snippet.text.rstrip()}\n```")
    if not parts:
        return ""
    return "\nDefinitions it uses from the repository:\n" + "\n".join(parts) + "\n"


def values(subject: Code) -> dict[str, str]:
    """The placeholders every task template shares."""
    return {
        "kind": subject.kind, "name": subject.qualified_name, "language": subject.language,
        "path": subject.path, "fence": fence(subject.language),
        "code": shown_code(subject.code), "context": context_block(subject),
    }


def content_key(subject: Code, *extra: str) -> str:
    """A key that changes whenever what the model would see changes (code, context, ``extra``)."""
    digest = hashlib.sha256()
    for part in (subject.language, subject.code, context_block(subject), *extra):
        digest.update(part.encode("utf-8", "replace"))
        digest.update(b"\0")
    return digest.hexdigest()[:32]
