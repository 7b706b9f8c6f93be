"""``textDocument/codeAction`` and the commands behind it: Explain, Generate docstring, Generate
tests.

The actions are offered on the function, method or class at the cursor (Generate docstring
only where it has no documentation). Each carries a command, so nothing slow happens while the
editor builds its menu: the command generates with a cancellable ``$/progress`` bar (completions
keep priority, see ``kodama.server.generations``), checks the result, and applies it with
``workspace/applyEdit`` — the docstring into the current text of the document even if it changed
meanwhile, the tests into the repository's test file (created when missing). The same commands
can be run directly (``workspace/executeCommand``) with ``{"uri", "line", "character"}``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from kodama.model.errors import TaskError
from kodama.model.tasks import docstring, doctests, testcheck, testgen
from kodama.model.tasks.generate import ChatRequest
from kodama.model.tasks.subject import Code, Subject
from kodama.server.generations import TaskCancelledError, generate, selection_for
from kodama.server.work_done_progress import WorkDoneProgress
from kodama.server.workspace_paths import document_file, in_workspace
from kodama.syntax.document import SyntaxDocument
from kodama.syntax.positions import PositionError

if TYPE_CHECKING:
    from kodama.server.app import KodamaServer

log = logging.getLogger(__name__)

EXPLAIN = "kodama.explain"
DOCSTRING = "kodama.generateDocstring"
TESTS = "kodama.generateTests"
COMMANDS = (EXPLAIN, DOCSTRING, TESTS)

KIND_EXPLAIN = "refactor.kodama.explain"
KIND_DOCSTRING = "refactor.rewrite.kodama.docstring"
KIND_TESTS = "refactor.kodama.tests"
"""Code action kinds (sub-kinds of ``refactor``: VS Code shows them under the light bulb)."""


def selection_action(uri: str, selected: types.Range) -> types.CodeAction:
    """"Explain selection" for a non-empty selection."""
    where = [{"uri": uri, "line": selected.start.line, "character": selected.start.character,
              "end": {"line": selected.end.line, "character": selected.end.character}}]
    return types.CodeAction(
        title="Kodama: Explain selection", kind=KIND_EXPLAIN,
        command=types.Command(title="Explain", command=EXPLAIN, arguments=where))


def actions_for(subject: Subject | None, uri: str, selected: types.Range
                ) -> list[types.CodeAction]:
    """The actions offered at ``selected`` (pure: what the menu shows): Explain selection for a
    selection; for the definition around its start, Explain, Generate docstring (when it has
    none) and Generate tests."""
    actions = [] if selected.start == selected.end else [selection_action(uri, selected)]
    if subject is None:
        return actions
    line, character = selected.start.line, selected.start.character
    where = [{"uri": uri, "line": line, "character": character}]
    label = f"{subject.kind} {subject.qualified_name}"
    actions.append(types.CodeAction(
        title=f"Kodama: Explain {label}", kind=KIND_EXPLAIN,
        command=types.Command(title="Explain", command=EXPLAIN, arguments=where)))
    if subject.target.docstring is None:
        actions.append(types.CodeAction(
            title=f"Kodama: Generate docstring for {label}", kind=KIND_DOCSTRING,
            command=types.Command(title="Generate docstring", command=DOCSTRING,
                                  arguments=where)))
    actions.append(types.CodeAction(
        title=f"Kodama: Generate tests for {label}", kind=KIND_TESTS,
        command=types.Command(title="Generate tests", command=TESTS, arguments=where)))
    return actions


def _is_position(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(value.get(k), int) and not isinstance(value.get(k), bool)
        for k in ("line", "character"))


def _where(server: KodamaServer, args: tuple[Any, ...]
           ) -> tuple[SyntaxDocument, int, int | None]:
    """The open document, offset and (for a selection) end offset a command's argument
    names; InvalidParams otherwise."""
    arg = args[0] if len(args) == 1 else None
    if not isinstance(arg, dict) or not isinstance(arg.get("uri"), str) or not _is_position(
            arg) or ("end" in arg and not _is_position(arg["end"])):
        raise JsonRpcInvalidParams('expected one argument {"uri": string, "line": int, '
                                   '"character": int} (optionally "end": {"line", "character"})')
    document_file(server, arg["uri"])  # InvalidParams for a file outside the workspace
    doc = server.documents.get(arg["uri"])
    if doc is None:
        raise JsonRpcInvalidParams(f"{arg['uri']} is not open in the editor")
    try:
        offset = doc.offset_at(arg["line"], arg["character"])
        end = doc.offset_at(arg["end"]["line"], arg["end"]["character"]) if "end" in arg else None
    except PositionError as exc:
        raise JsonRpcInvalidParams(f"position outside {arg['uri']}: {exc}") from None
    return doc, offset, end


def _subject(server: KodamaServer, doc: SyntaxDocument, offset: int) -> Subject:
    subject = server.workspace_index.definition_at(doc, offset)
    if subject is None:
        raise TaskError("put the cursor inside a function, method or class")
    return subject


def _range(doc: SyntaxDocument, start: int, end: int) -> types.Range:
    (sl, sc), (el, ec) = doc.position_at(start), doc.position_at(end)
    return types.Range(start=types.Position(sl, sc), end=types.Position(el, ec))


async def _run_task(server: KodamaServer, name: str, job: Any) -> Any:
    """Run a command's job: errors become a message for the user, never a crash."""
    try:
        return await job
    except TaskCancelledError:
        return None
    except TaskError as exc:
        server.show(types.MessageType.Warning, f"Kodama: {exc}")
        return None
    except JsonRpcInvalidParams:
        raise
    except Exception as exc:
        log.exception("%s failed", name)
        server.show(types.MessageType.Error, f"Kodama: {name} failed: {exc}")
        return None


def register(server: KodamaServer) -> None:
    """Install the code action handler and its commands."""

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[KIND_EXPLAIN, KIND_DOCSTRING, KIND_TESTS]))
    def code_action(params: types.CodeActionParams) -> list[types.CodeAction] | None:
        doc = server.documents.get(params.text_document.uri)
        if doc is None or not in_workspace(server, doc.uri):
            return None
        start = params.range.start
        try:
            offset = doc.offset_at(start.line, start.character)
        except PositionError as exc:
            raise JsonRpcInvalidParams(f"range outside {doc.uri}: {exc}") from None
        actions = actions_for(server.workspace_index.definition_at(doc, offset), doc.uri,
                              params.range)
        if not actions:
            return None
        only = params.context.only
        if only:
            wanted = [str(getattr(kind, "value", kind)) for kind in only]
            actions = [a for a in actions if any(
                str(a.kind) == kind or str(a.kind).startswith(kind + ".") for kind in wanted)]
        return actions or None

    @server.command(EXPLAIN)
    async def explain_command(*args: Any) -> dict[str, str] | None:
        doc, offset, end = _where(server, args)

        async def job() -> dict[str, str]:
            code: Code = _subject(server, doc, offset) if end is None or end == offset else (
                selection_for(server, doc, min(offset, end), max(offset, end)))
            entry = server.explanations.request(code, "command")
            try:
                await entry.finished.wait()
            except asyncio.CancelledError:
                entry.cancel.set()
                raise
            if entry.state != "done":
                raise TaskError(entry.error or "no explanation")
            return {"markdown": entry.markdown}

        result: dict[str, str] | None = await _run_task(server, "Explain", job())
        return result

    @server.command(DOCSTRING)
    async def docstring_command(*args: Any) -> bool:
        doc, offset, _ = _where(server, args)
        return bool(await _run_task(server, "Generate docstring", _docstring(server, doc, offset)))

    @server.command(TESTS)
    async def tests_command(*args: Any) -> str | None:
        doc, offset, _ = _where(server, args)
        result: str | None = await _run_task(server, "Generate tests",
                                             _tests(server, doc, offset))
        return result


async def _generate(server: KodamaServer, name: str, request: ChatRequest, title: str) -> str:
    cancel = threading.Event()
    try:
        return await generate(server, request, title=title, cancel=cancel,
                              key=f"{name}:{id(cancel)}")
    except asyncio.CancelledError:
        cancel.set()
        raise


async def _docstring(server: KodamaServer, doc: SyntaxDocument, offset: int) -> bool:
    subject = _subject(server, doc, offset)
    convention = await asyncio.to_thread(server.docstring_convention)
    title = f"documenting {subject.name}"
    steps = docstring.conversation(subject)
    asked = next(steps)
    while True:
        try:
            asked = steps.send(await _generate(server, "docstring", asked, title))
        except StopIteration as done:
            answer: str = done.value
            break
    documentation = docstring.body(subject, answer, convention)
    message = ""
    if subject.language == "python" and doctests.examples(documentation):
        documentation, message = await _examples_checked(server, doc, subject.name,
                                                         documentation)
    # The document may have changed while the model wrote: the edit goes to its text now.
    edit = docstring.place(subject, documentation, convention, text=doc.text)
    change = types.TextDocumentEdit(
        text_document=types.OptionalVersionedTextDocumentIdentifier(uri=doc.uri,
                                                                     version=doc.version),
        edits=[types.TextEdit(range=_range(doc, edit.start, edit.end), new_text=edit.new_text)])
    await _apply(server, [change], f"docstring for {subject.name}", "the docstring")
    if message:
        server.show(types.MessageType.Info, f"Kodama: docstring for {subject.name}: {message}")
    return True


async def _examples_checked(server: KodamaServer, doc: SyntaxDocument, name: str,
                            documentation: str) -> tuple[str, str]:
    """The documentation's ``>>>`` examples run (off the event loop), with a cancellable
    progress bar: wrong ones fixed or removed; and the message for the user. Examples of a
    document that is no file in the workspace cannot be run: they are removed."""
    place = document_file(server, doc.uri)
    if place is None or not server.config.tasks.tests.run:
        why = "tasks.tests.run is off" if place is not None else "the document is not on disk"
        return doctests.without_examples(documentation), f"examples removed, unchecked ({why})"
    cancel = threading.Event()
    progress = WorkDoneProgress(server, asyncio.get_running_loop(), cancel=cancel)
    progress.begin("Kodama", f"running the examples of {name}")
    outcome = "cancelled"
    try:
        checked = await asyncio.to_thread(
            doctests.checked, place.root, place.path, doc.text, name, documentation,
            server.config.tasks.tests, cancel.is_set)
        if cancel.is_set():
            raise TaskCancelledError(f"running the examples of {name}")
        outcome = "done"
        return checked.documentation, checked.message
    finally:
        progress.end(outcome)


async def _apply(server: KodamaServer, changes: list[Any], label: str, what: str) -> None:
    """Ask the editor to apply ``changes``; TaskError when it does not — refused, or answered
    with an error (as eglot does when the user declines its confirmation)."""
    try:
        result = await server.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(
            edit=types.WorkspaceEdit(document_changes=changes), label=f"Kodama: {label}"))
    except JsonRpcException as exc:
        raise TaskError(f"the editor did not apply {what} ({exc.message})") from None
    if not result.applied:
        reason = f" ({result.failure_reason})" if result.failure_reason else ""
        raise TaskError(f"the editor did not apply {what}{reason}")


def _creates_files(server: KodamaServer) -> bool:
    """Whether the client creates files through an edit: it lists ``create`` among its
    resource operations (Neovim does so without saying ``documentChanges``, which resource
    operations need, and applies them)."""
    workspace = server.client_capabilities.workspace
    edit = workspace.workspace_edit if workspace else None
    return bool(edit and edit.resource_operations
                and types.ResourceOperationKind.Create in edit.resource_operations)


async def _tests(server: KodamaServer, doc: SyntaxDocument, offset: int) -> str:
    subject = _subject(server, doc, offset)
    place = document_file(server, doc.uri)
    if place is None:
        raise TaskError("tests can only be generated for files on disk")
    request = testgen.prepare(subject, place.root, place.path,
                              open_text=lambda p: _open_text(server, p))
    answer = await _generate(server, "tests", testgen.chat(request),
                             f"writing tests for {subject.name}")
    code = testgen.tests_code(request, answer)
    message = ""
    if server.config.tasks.tests.run and testcheck.runs(request):
        checked = await _checked(server, request, code, subject.name)
        result, message = checked.result, checked.message
    else:
        result = testgen.merged(request, code)
        message = testcheck.not_run(request) if server.config.tasks.tests.run else ""
    uri = result.path.as_uri()
    open_doc = server.documents.get(uri)
    changes: list[Any] = []
    if result.exists:
        if open_doc is not None:
            full = _range(open_doc, 0, len(open_doc.text))
            version: int | None = open_doc.version
        else:
            full = types.Range(types.Position(0, 0), types.Position(len(
                result.before.splitlines()) + 1, 0))
            version = None
        changes.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
            edits=[types.TextEdit(range=full, new_text=result.text)]))
    elif _creates_files(server):
        changes.append(types.CreateFile(uri=uri, options=types.CreateFileOptions(
            ignore_if_exists=True)))
        changes.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
            edits=[types.TextEdit(range=types.Range(types.Position(0, 0), types.Position(0, 0)),
                                  new_text=result.text)]))
    else:  # the client cannot create files through an edit: write it, then show it
        result.path.parent.mkdir(parents=True, exist_ok=True)
        result.path.write_text(result.text, encoding="utf-8")
    if changes:
        await _apply(server, changes, f"tests for {subject.name}", "the tests")
    if message:
        server.show(types.MessageType.Info, f"Kodama: tests for {subject.name}: {message}")
    window = server.client_capabilities.window
    if window and window.show_document and window.show_document.support:
        await server.window_show_document_async(types.ShowDocumentParams(uri=uri,
                                                                         take_focus=False))
    return uri


async def _checked(server: KodamaServer, request: testgen.TestRequest, code: str,
                   name: str) -> testcheck.CheckedTests:
    """The generated tests run (off the event loop and the model thread), with a cancellable
    progress bar: only those that pass, and what was dropped."""
    cancel = threading.Event()
    loop = asyncio.get_running_loop()
    progress = WorkDoneProgress(server, loop, cancel=cancel)
    progress.begin("Kodama", f"checking the tests for {name}")
    outcome = "cancelled"

    def ask(chat: ChatRequest) -> str:  # from the runner's thread: the model's, via the loop
        return asyncio.run_coroutine_threadsafe(
            _generate(server, "tests", chat, f"repairing the tests for {name}"), loop).result()

    try:
        try:
            result = await asyncio.to_thread(
                testcheck.checked, request, code, server.config.tasks.tests,
                cancel.is_set, progress.report, ask)
        except TaskError:
            if not cancel.is_set():
                raise
        if cancel.is_set():
            raise TaskCancelledError(f"checking the tests for {name}")
        outcome = "done"
        return result
    except TaskError as exc:
        outcome = str(exc)
        raise
    finally:
        progress.end(outcome)


def _open_text(server: KodamaServer, path: Path) -> str | None:
    """The editor's current text of ``path`` when it is open (it may be unsaved)."""
    doc = server.documents.get(path.resolve().as_uri())
    return None if doc is None else doc.text
