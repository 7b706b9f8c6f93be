"""Re-targeting through ``suggest`` (a real KodamaServer object, a paced fake engine, no LSP
transport): a keystroke that agrees with the running generation gets the rest of its text
without a second generation; one that disagrees stops it and gets a generation of its own."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from lsprotocol import types

from helpers.scripted_engine import ScriptedEngine
from kodama.server import suggest as suggest_module
from kodama.server.app import KodamaServer
from kodama.server.config import KodamaConfig
from kodama.server.suggest import suggest
from kodama.syntax.document import TextChange

URI = "file:///work/total.py"
TEXT = "def total(xs):\n    \n"
CURSOR = types.Position(line=1, character=4)


def paced(*answers: str, pace: float = 0.05) -> ScriptedEngine:
    """A scripted engine slow enough to type while it writes."""
    return ScriptedEngine(*answers, pace=pace)


def make_server(engine: ScriptedEngine) -> KodamaServer:
    config = KodamaConfig()
    config = dataclasses.replace(
        config, completion=dataclasses.replace(config.completion, debounce_ms=0))
    server = KodamaServer(config, load_model=False)
    server.model.engine = engine  # type: ignore[assignment]
    server.documents.open(URI, TEXT, "python", 1)
    return server


def type_text(server: KodamaServer, at: int, text: str, version: int) -> types.Position:
    server.documents.change(URI, [TextChange(((1, at), (1, at)), text)], version)
    return types.Position(line=1, character=at + len(text))


async def wait_until_written(engine: ScriptedEngine, chars: int) -> None:
    for _ in range(500):
        if len(engine.written) >= chars:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"the engine wrote only {engine.written!r}")


async def test_an_agreeing_keystroke_gets_the_rest_of_the_running_generation() -> None:
    engine = paced("return sum(xs)\n")
    server = make_server(engine)
    first = asyncio.ensure_future(suggest(server, URI, CURSOR))
    await wait_until_written(engine, 2)
    first.cancel()  # as VS Code does when the next keystroke comes
    position = type_text(server, 4, "ret", 2)
    found = await suggest(server, URI, position)
    assert found is not None and (found.text, found.source) == ("urn sum(xs)", "retarget")
    assert engine.outcomes == ["done"], "one generation served both keystrokes"
    # Typing on along it is type-ahead from here.
    position = type_text(server, 7, "urn", 3)
    found = await suggest(server, URI, position)
    assert found is not None and (found.text, found.source) == (" sum(xs)", "typeahead")


async def test_typing_past_what_is_written_still_follows_it() -> None:
    engine = paced("return sum(xs)\n")
    server = make_server(engine)
    first = asyncio.ensure_future(suggest(server, URI, CURSOR))
    await wait_until_written(engine, 1)
    position = type_text(server, 4, "return s", 2)  # a paste, or a fast typist
    found = await suggest(server, URI, position)
    assert found is not None and (found.text, found.source) == ("um(xs)", "retarget")
    assert await first is None, "the older request is superseded"
    assert engine.outcomes == ["done"]


async def test_a_disagreeing_keystroke_stops_the_generation_and_starts_its_own() -> None:
    engine = paced("return sum(xs)\n", " = 1\n")
    server = make_server(engine)
    first = asyncio.ensure_future(suggest(server, URI, CURSOR))
    await wait_until_written(engine, 3)
    position = type_text(server, 4, "x", 2)
    found = await suggest(server, URI, position)
    assert found is not None and (found.text, found.source) == (" = 1", "model")
    assert await first is None
    assert len(engine.outcomes) == 2 and engine.outcomes[0].startswith("cancelled after 'ret")


async def test_the_model_writing_other_than_what_was_typed_stops_it_at_once() -> None:
    engine = paced("return sum(xs)\n", " = 0\n")
    server = make_server(engine)
    first = asyncio.ensure_future(suggest(server, URI, CURSOR))
    await wait_until_written(engine, 1)
    position = type_text(server, 4, "rx", 2)  # agrees with 'r' so far, not with what comes
    found = await suggest(server, URI, position)
    assert engine.outcomes == ["cancelled after 're'", "done"], engine.outcomes
    assert found is not None and (found.text, found.source) == (" = 0", "model")
    assert await first is None


async def test_closing_the_document_stops_its_generation() -> None:
    engine = paced("return sum(xs)\n")
    server = make_server(engine)
    first = asyncio.ensure_future(suggest(server, URI, CURSOR))
    await wait_until_written(engine, 2)
    server.documents.close(URI)
    await first
    assert engine.outcomes[0].startswith("cancelled")


# --- the speculative next suggestion -----------------------------------------------------------

ACCEPTED_AT = 4 + len("return sum(xs)")


async def shown_then_wait(server: KodamaServer, engine: ScriptedEngine, generations: int) -> None:
    found = await suggest(server, URI, CURSOR)
    assert found is not None and found.text == "return sum(xs)"
    for _ in range(1000):
        if len(engine.outcomes) >= generations:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"only {engine.outcomes}")


async def test_accepting_and_pausing_shows_the_next_suggestion_prepared_meanwhile(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(suggest_module, "SPECULATE_AFTER_MS", 20)
    engine = paced("return sum(xs)\n", "  # the sum\n", pace=0.005)
    server = make_server(engine)
    await shown_then_wait(server, engine, 2)  # shown, then the next one prepared
    assert engine.outcomes == ["done", "done"]
    position = type_text(server, 4, "return sum(xs)", 2)  # Tab
    found = await suggest(server, URI, position)
    assert found is not None and (found.text, found.source) == ("  # the sum", "typeahead")
    assert len(engine.outcomes) == 2


async def test_accepting_while_it_is_prepared_waits_for_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(suggest_module, "SPECULATE_AFTER_MS", 20)
    engine = paced("return sum(xs)\n", "  # the sum\n", pace=0.02)
    server = make_server(engine)
    found = await suggest(server, URI, CURSOR)
    assert found is not None
    engine.written = ""
    await wait_until_written(engine, 2)  # the speculative generation is running
    position = type_text(server, 4, "return sum(xs)", 2)
    found = await suggest(server, URI, position)
    assert found is not None and (found.text, found.source) == ("  # the sum", "retarget")
    assert engine.outcomes == ["done", "done"]


async def test_typing_on_instead_stops_the_prepared_suggestion(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(suggest_module, "SPECULATE_AFTER_MS", 20)
    engine = paced("return sum(xs)\n", "  # the sum\n", "xs)\n")
    server = make_server(engine)
    found = await suggest(server, URI, CURSOR)
    assert found is not None
    engine.written = ""
    await wait_until_written(engine, 2)
    position = type_text(server, 4, "max(", 2)  # not what was suggested
    found = await suggest(server, URI, position)
    assert found is not None and (found.text, found.source) == ("xs)", "model")
    assert engine.outcomes[0] == "done" and engine.outcomes[1].startswith("cancelled")


async def test_a_quick_keystroke_prepares_nothing_and_a_waiting_completion_preempts_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    engine = paced("return sum(xs)\n", pace=0.005)
    server = make_server(engine)
    found = await suggest(server, URI, CURSOR)
    assert found is not None
    type_text(server, 4, "r", 2)  # within SPECULATE_AFTER_MS
    await asyncio.sleep(suggest_module.SPECULATE_AFTER_MS / 1000 + 0.1)
    assert engine.outcomes == ["done"]
    # Prepared suggestions yield to completions waiting for the model (of any document).
    monkeypatch.setattr(suggest_module, "SPECULATE_AFTER_MS", 20)
    engine = paced("return sum(xs)\n", "  # the sum\n", pace=0.005)
    server = make_server(engine)
    found = await suggest(server, URI, CURSOR)
    assert found is not None
    engine.pace, engine.written = 0.05, ""
    await wait_until_written(engine, 1)
    assert await server.model.run(lambda: "urgent", urgent=True) == "urgent"
    assert len(engine.outcomes) == 2 and engine.outcomes[1].startswith("cancelled after ' ")
