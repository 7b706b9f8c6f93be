"""The "explain" task: a short Markdown explanation of a function, method or class."""

from __future__ import annotations

from kodama.model.errors import TaskError
from kodama.model.tasks.answers import tidy_markdown
from kodama.model.tasks.generate import ChatRequest
from kodama.model.tasks.subject import Code, values
from kodama.model.tasks.templates import render, template


def request(subject: Code) -> ChatRequest:
    """The chat asking for the explanation."""
    return ChatRequest(messages=render("explain", **values(subject)),
                       max_new_tokens=template("explain").max_new_tokens)


def finish(subject: Code, answer: str) -> str:
    """The hover's Markdown: a title line naming the definition, then the model's explanation.

    Raises TaskError when the model said nothing.
    """
    body = tidy_markdown(answer)
    if not body:
        raise TaskError(f"the model gave no explanation of {subject.kind} {subject.name!r}")
    return f"**{subject.kind} `{subject.qualified_name}`** · *Kodama*\n\n{body}"
