"""The "docstring" task: documentation for a function, method or class, placed where its
language expects it, in the repository's convention, and checked to keep the file parsing."""

from __future__ import annotations

from kodama.model.errors import TaskError
from kodama.model.tasks import docparts
from kodama.model.tasks.subject import Subject, values
from kodama.model.tasks.templates import Message, render
from kodama.syntax import docstrings
from kodama.syntax.docstrings import DocEdit


def messages(subject: Subject) -> list[Message]:
    """The chat asking for the documentation (always in one neutral layout, see docparts)."""
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
    return render("docstring", parameters=parameters, returns=returns, raises=raises,
                  **values(subject))


def body(subject: Subject, answer: str, convention: str = "google") -> str:
    """The documentation text (no quotes or comment markers) in the language's convention,
    with only the parameters, return value and exceptions the code has.

    Raises TaskError when the answer holds no summary.
    """
    parts = docparts.parse(answer)
    if not parts.summary:
        raise TaskError(f"the model wrote no usable documentation for {subject.name!r}")
    target = subject.target
    parts = docparts.checked(parts, parameters=target.parameters,
                             returns_value=target.returns_value, exceptions=target.raises,
                             source=subject.code)
    return docparts.render(parts, language=subject.language, convention=convention)


def finish(subject: Subject, answer: str, convention: str = "google") -> DocEdit:
    """The edit that inserts (or replaces) the documentation.

    Raises TaskError when there is nothing usable or the edited file would not parse.
    """
    text = body(subject, answer, convention)
    edit = docstrings.render(subject.target, subject.text, text, convention=convention)
    if not docstrings.validate(subject.language, subject.text, edit):
        raise TaskError(f"the documentation for {subject.name!r} would break the file's syntax; "
                        "nothing was changed")
    return edit
