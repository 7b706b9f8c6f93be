"""The "docstring" task: documentation for a function, method or class, placed where its
language expects it, in the repository's convention, and checked to keep the file parsing.

Code models answer "document this" by rewriting the whole function, so the answer is started
for the model (:func:`prefill`): the definition's signature and the opening of its documentation
(``\"\"\"`` in Python, ``/**`` in JS/TS/Java/C/C++, ``// Name`` in Go, ``///`` in Rust). The model
writes the documentation only, and generation stops where it closes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator
from dataclasses import dataclass

from kodama.model.errors import TaskError
from kodama.model.tasks import docparts
from kodama.model.tasks.generate import ChatRequest, StopRule
from kodama.model.tasks.subject import Subject, values
from kodama.model.tasks.templates import fence, render, template
from kodama.syntax import docstrings
from kodama.syntax.docstrings import DocEdit

PLACEHOLDER = re.compile(r"<[^<>\n]*(summary|parameter|exception|what it)[^<>\n]*>")
"""The prompt's layout placeholders, which a confused model may copy."""


@dataclass(frozen=True)
class Opening:
    """How the answer is started for the model, and how the documentation ends."""

    prefill: str
    """The answer's start: a code fence, the signature, the documentation's opening."""
    doc_start: str
    """The part of the prefill that belongs to the documentation (read with the answer)."""
    closing: str | None = None
    """The marker that ends a block documentation (``\"\"\"``, ``*/``)."""
    line_marker: str | None = None
    """The marker every line of a line-comment documentation starts with (``//``, ``///``)."""


def _indent(line: str) -> str:
    return line[:len(line) - len(line.lstrip(" \t"))]


def opening(subject: Subject) -> Opening:
    """The answer's opening for ``subject``'s language."""
    target = subject.target
    header = target.signature.rstrip()
    first = header.splitlines()[0] if header else ""
    indent = _indent(first)
    start = f"```{fence(subject.language)}\n"
    if subject.language == "python":
        inner = _body_indent(subject, indent)
        return Opening(prefill=f"{start}{header}\n{inner}\"\"\"", doc_start="",
                       closing='"""')
    if subject.language == "go":
        doc = f"// {subject.name} "
        return Opening(prefill=f"{start}{indent}{doc}", doc_start=doc, line_marker="//")
    if subject.language == "rust":
        return Opening(prefill=f"{start}{indent}/// ", doc_start="/// ", line_marker="///")
    return Opening(prefill=f"{start}{indent}/**\n{indent} * ", doc_start="/**\n * ",
                   closing="*/")


def _body_indent(subject: Subject, indent: str) -> str:
    """The indentation of the definition's body in the file (its signature's plus four spaces,
    or a tab, when the body shares the signature's line)."""
    lines = subject.text.splitlines()
    first = subject.target.line + subject.target.signature.count("\n") + 1
    body = [line for line in lines[first:first + 20] if line.strip()]
    if body and len(_indent(body[0])) > len(indent):
        return _indent(body[0])
    return indent + ("\t" if indent.startswith("\t") else "    ")


def stop_rule(doc: Opening) -> StopRule:
    """Where the documentation ends in the model's answer (after the prefill)."""
    closing, marker = doc.closing, doc.line_marker

    def check(text: str) -> int | None:
        if closing is not None:
            at = text.find(closing)
            return None if at < 0 else at
        assert marker is not None
        pos = text.find("\n")
        while pos >= 0:
            rest = text[pos + 1:]
            line = rest.split("\n", 1)[0].lstrip(" \t")
            complete = "\n" in rest
            if (complete or len(line) >= len(marker)) and not line.startswith(marker):
                return pos
            if not complete:
                return None
            pos = text.find("\n", pos + 1)
        return None

    return check


def request(subject: Subject) -> ChatRequest:
    """The chat asking for the documentation (in one neutral layout, see docparts)."""
    target = subject.target
    params = target.parameters
    if params:
        names = ", ".join(f"`{p}`" for p in params)
        parameters = f"Document exactly these parameters under Args, in this order: {names}."
    else:
        parameters = "It takes no parameters: leave out the Args section."
    returns = ("It returns a value: describe it under Returns." if target.returns_value
               else "It returns nothing: leave out the Returns section.")
    raises = (f"It raises {', '.join(target.raises)}: say when under Raises." if target.raises
              else "Leave out the Raises section unless the code raises an exception.")
    messages = render("docstring", parameters=parameters, returns=returns, raises=raises,
                      **values(subject))
    doc = opening(subject)
    return ChatRequest(messages=messages, max_new_tokens=template("docstring").max_new_tokens,
                       prefill=doc.prefill, stop=stop_rule(doc))


def _written(subject: Subject, answer: str) -> str:
    """The answer up to where the documentation closes."""
    cut = stop_rule(opening(subject))(answer)
    return answer if cut is None else answer[:cut]


def follow_up(subject: Subject, answer: str) -> tuple[ChatRequest, str] | None:
    """A second request when the first answer left out parameters or the return value the code
    has (small models often stop after the summary): the answer so far is given back to the
    model with the next section started (``Args:`` and the first missing parameter, or
    ``Returns:``; ``@param``/``@returns`` in block comments). Returns the request and the text
    it adds before the model's new words, or None when nothing is missing (or the language
    documents parameters in prose: Go, Rust).
    """
    doc = opening(subject)
    if doc.closing is None:
        return None
    written = _written(subject, answer).rstrip()
    parts = docparts.parse(doc.doc_start + written)
    target = subject.target
    missing = [p for p in target.parameters if p not in parts.params]
    needs_return = target.returns_value and not parts.returns
    if not parts.summary or not (missing or needs_return):
        return None
    if subject.language == "python":
        indent = _body_indent(subject, _indent(target.signature.splitlines()[0]))
        added = (f"\n\n{indent}Args:\n{indent}    {missing[0]}:" if missing
                 else f"\n\n{indent}Returns:\n{indent}    ")
    else:
        indent = _indent(target.signature.splitlines()[0])
        added = (f"\n{indent} * @param {missing[0]}" if missing
                 else f"\n{indent} * @returns")
    first = request(subject)
    return ChatRequest(messages=first.messages, max_new_tokens=first.max_new_tokens,
                       prefill=doc.prefill + written + added, stop=first.stop), written + added


def conversation(subject: Subject) -> Generator[ChatRequest, str, str]:
    """The requests of the model's whole answer, one at a time: send each request's answer
    (the text after its prefill) back in; the generator returns the whole answer.

    :func:`request` first, then the :func:`follow_up` if one is due. :func:`full_answer` drives
    it with a plain function; the language server drives it with its own asynchronous one.
    """
    answer = yield request(subject)
    more = follow_up(subject, answer)
    if more is None:
        return answer
    follow, written = more
    return written + (yield follow)


def full_answer(subject: Subject, ask: Callable[[ChatRequest], str]) -> str:
    """The model's whole answer (:func:`conversation`); ``ask`` runs one request and returns
    the text after its prefill."""
    steps = conversation(subject)
    asked = next(steps)
    while True:
        try:
            asked = steps.send(ask(asked))
        except StopIteration as done:
            whole: str = done.value
            return whole


def body(subject: Subject, answer: str, convention: str = "google") -> str:
    """The documentation text (no quotes or comment markers) in the language's convention,
    with only the parameters, return value and exceptions the code has; ``answer`` is what the
    model wrote after the prefill.

    Raises TaskError when the answer holds no usable summary.
    """
    text = opening(subject).doc_start + _written(subject, answer)
    if PLACEHOLDER.search(text):
        raise TaskError(f"the model copied the prompt's layout instead of documenting "
                        f"{subject.name!r}; nothing was changed")
    parts = docparts.parse(text)
    if not parts.summary or "```" in parts.summary:
        raise TaskError(f"the model wrote no usable documentation for {subject.name!r}")
    target = subject.target
    parts = docparts.checked(parts, parameters=target.parameters,
                             returns_value=target.returns_value, exceptions=target.raises,
                             source=subject.code)
    return docparts.render(parts, language=subject.language, convention=convention)


def relocate(subject: Subject, text: str) -> docstrings.Target | None:
    """The same definition in ``text`` (the file may have changed while the model wrote): same
    kind and name, the one nearest the original line; None when it is gone."""
    same = [t for t in docstrings.targets(subject.language, text)
            if t.kind == subject.kind and t.name == subject.name]
    if not same:
        return None
    return min(same, key=lambda t: abs(t.line - subject.target.line))


def finish(subject: Subject, answer: str, convention: str = "google",
           text: str | None = None) -> DocEdit:
    """The edit that inserts (or replaces) the documentation the model wrote in ``answer``
    (:func:`body`, then :func:`place`).

    Raises TaskError when there is nothing usable, the definition is gone, or the edited file
    would not parse.
    """
    return place(subject, body(subject, answer, convention), convention, text)


def place(subject: Subject, documentation: str, convention: str = "google",
          text: str | None = None) -> DocEdit:
    """The edit that inserts (or replaces) ``documentation`` (:func:`body`'s text).

    ``text`` is the file's text now, when it may have changed since ``subject`` was read (an
    editor's document): the edit then applies to it, at the same definition (:func:`relocate`).

    Raises TaskError when the definition is gone or the edited file would not parse.
    """
    target: docstrings.Target | None = subject.target
    if text is None:
        text = subject.text
    else:
        target = relocate(subject, text)
    if target is None:
        raise TaskError(f"{subject.name} is no longer in the document; nothing was changed")
    edit = docstrings.render(target, text, documentation, convention=convention)
    if not docstrings.validate(subject.language, text, edit):
        raise TaskError(f"the documentation for {subject.name!r} would break the file's syntax; "
                        "nothing was changed")
    return edit
