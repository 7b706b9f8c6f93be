"""A property-based fuzz of the LSP surface: random and mutated requests and notifications for
every method Kodama handles, broken bytes on the wire, edits, cancellations and shutdowns.

Each Hypothesis example is one *case*: a few actions written to one ``kodama serve`` (the tiny
identifier model, so completions and the commands really generate), which serves many cases and
is only started again after a case that shut it down or killed it. After each case:

- every request written in a well-formed frame got exactly one response, a result or a JSON-RPC
  error (an integer code and a message), and no response answers an id that was never sent;
- the server still answers a known-good completion request;
- nothing was written to disk: the workspace, a folder beside it and Kodama's cache folder are
  unchanged, except the index cache (by design), which must only hold files of the workspace.

A case that ends with ``shutdown`` also checks that a later request gets ``InvalidRequest`` and
that ``exit`` ends the process.

Seeded and bounded: ``KODAMA_FUZZ_CASES`` cases (default 200, under a minute on 2 cores) from
``KODAMA_FUZZ_SEED`` (default 18); e.g. ``KODAMA_FUZZ_CASES=5000`` for a long run.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from helpers.raw_lsp import FUZZ_CAPABILITIES, Message, RawServer, applied, encode, frame

CASES = int(os.environ.get("KODAMA_FUZZ_CASES", "200"))
SEED = int(os.environ.get("KODAMA_FUZZ_SEED", "18"))
ANSWER_S = 60.0
"""How long a case's requests may take together (the tiny model answers in milliseconds)."""

GEOMETRY = ("\"\"\"Shapes.\"\"\"\n\n\ndef area(width, height):\n    if width < 0:\n"
            "        raise ValueError(width)\n    return width * height\n\n\n"
            "class Square:\n    def side(self):\n        return 1\n")
APP_JS = "export function add(a, b) {\n  return a + b; // 😀 漢字\n}\n"
SENTINEL = "def known(good):\n    return good\n"
COMMANDS = ("kodama.explain", "kodama.generateDocstring", "kodama.generateTests")
TROUBLES = ("Error sending data", "Exception in callback", "exception was never retrieved")
"""What must never appear in a fuzzed server's log."""
FREQUENT = {"textDocument/didOpen", "textDocument/didChange", "textDocument/inlineCompletion",
            "textDocument/completion", "textDocument/hover", "textDocument/codeAction",
            "workspace/executeCommand"}
"""The methods drawn three times as often as the others."""


def weighted(*choices: tuple[int, SearchStrategy[Any]]) -> SearchStrategy[Any]:
    """One of the strategies, drawn in proportion to the weights."""
    return st.sampled_from([s for weight, s in choices for _ in range(weight)]).flatmap(
        lambda strategy: strategy)


ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=60)
"""Any code points, lone surrogates and NUL included."""

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.text(max_size=8), inner, max_size=3), max_leaves=8)
"""Any JSON value (NaN and infinities too: Python's json reads them)."""

COORDINATE = weighted(
    (10, st.integers(0, 14)), (2, st.integers(-100, 10_000)),
    (1, st.sampled_from([-1, -2**31, 2**31 - 1, 2**31, 2**53, 2**64, 10**30])))
POSITION = st.fixed_dictionaries({"line": COORDINATE, "character": COORDINATE})
RANGE = st.fixed_dictionaries({"start": POSITION, "end": POSITION})
VERSION = weighted((6, st.integers(0, 20)), (1, st.integers(-2**40, 2**40)))


class Lazy:
    """A value built only when it is sent, so that Hypothesis can print the case it is in."""

    def build(self) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class Deep(Lazy):
    """A value nested ``depth`` levels deep."""

    depth: int

    def build(self) -> Any:
        value: Any = "bottom"
        for level in range(self.depth):
            value = [value] if level % 2 else {"a": value}
        return value


@dataclass(frozen=True)
class Huge(Lazy):
    """A text of ``size`` characters made of ``unit``."""

    unit: str
    size: int

    def build(self) -> str:
        return self.unit * (self.size // len(self.unit))


def built(value: Any) -> Any:
    """``value`` with its :class:`Lazy` parts built."""
    if isinstance(value, Lazy):
        return value.build()
    if isinstance(value, dict):
        return {key: built(item) for key, item in value.items()}
    if isinstance(value, list):
        return [built(item) for item in value]
    return value


@dataclass
class Workspace:
    """The folders a fuzzed server may touch (and must not write to)."""

    base: Path

    @property
    def root(self) -> Path:
        return self.base / "workspace"

    @property
    def cache(self) -> Path:
        return self.base / "cache"

    @property
    def beside(self) -> Path:
        return self.base / "outside"

    def create(self) -> None:
        (self.root / "pkg").mkdir(parents=True)
        (self.root / "pkg" / "__init__.py").write_text("")
        (self.root / "pkg" / "geometry.py").write_text(GEOMETRY)
        (self.root / "app.js").write_text(APP_JS)
        (self.root / "tests").mkdir()
        (self.root / "tests" / "test_other.py").write_text("def test_nothing():\n    pass\n")
        (self.root / "sentinel.py").write_text(SENTINEL)
        self.beside.mkdir()
        (self.beside / "secret.py").write_text("API_TOKEN = 'not for the index'\n")
        self.cache.mkdir()

    def uris(self) -> list[str]:
        """Document URIs the cases use: in the workspace, beside it, and not files at all."""
        root = self.root.as_uri()
        return [f"{root}/pkg/geometry.py", f"{root}/app.js", f"{root}/new.py",
                f"{root}/tests/test_other.py", f"{root}/pkg/../pkg/geometry.py",
                f"{root}/../outside/secret.py", (self.beside / "secret.py").as_uri(),
                f"{root}/notes.txt", "untitled:Untitled-1", "file:///", "file:///etc/hostname",
                "not a uri", "", "file://host/share/x.py", f"{root}/%00.py"]

    def snapshot(self) -> dict[str, str]:
        """Every folder and file below the base (but the index cache), files with a digest of
        their content."""
        files: dict[str, str] = {}
        for path in sorted(self.base.rglob("*")):
            relative = path.relative_to(self.base).as_posix()
            if relative.startswith("cache/index/"):
                continue
            files[relative] = "folder" if path.is_dir() else hashlib.sha256(
                path.read_bytes()).hexdigest()
        return files

    def index_problems(self) -> list[str]:
        """What the index cache holds that is not a file of the workspace."""
        problems: list[str] = []
        for cached in (self.cache / "index").glob("*.json"):
            data = json.loads(cached.read_text())
            if data["root"] != str(self.root):
                problems.append(f"{cached.name} indexes another root: {data['root']}")
            for name in data["files"]:
                inside = (self.root / name).resolve().is_relative_to(self.root.resolve())
                if Path(name).is_absolute() or ".." in Path(name).parts or not inside:
                    problems.append(f"{cached.name} holds {name!r}, not a workspace file")
        return problems


def texts() -> SearchStrategy[str | Huge]:
    code = st.sampled_from([GEOMETRY, APP_JS, SENTINEL, "", "\n" * 50, "def f(:\n  return ]",
                            "x = '\ud800'\n", "a\0b\0\n\r\n\r", "\t" * 10 + "é" * 10])
    huge = st.sampled_from([Huge("x = 1\n", 1_200_000), Huge("a", 1_000_000),
                            Huge(bytes(range(256)).decode("latin-1"), 512_000)])
    return weighted((6, code), (4, ANY_TEXT), (1, huge))


def uri_of(space: Workspace) -> SearchStrategy[str]:
    return weighted((8, st.sampled_from(space.uris())), (1, ANY_TEXT))


def document(space: Workspace) -> SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"uri": uri_of(space)})


def content_change() -> SearchStrategy[dict[str, Any]]:
    partial = st.fixed_dictionaries({"range": RANGE, "text": texts()})
    return weighted((4, partial), (1, st.fixed_dictionaries({"text": texts()})))


def command_argument(space: Workspace) -> SearchStrategy[Any]:
    where = st.fixed_dictionaries({"uri": uri_of(space), "line": COORDINATE,
                                   "character": COORDINATE}, optional={"end": POSITION})
    return weighted((4, where), (1, JSON))


def method_params(space: Workspace) -> dict[str, tuple[bool, SearchStrategy[Any]]]:
    """Each method: whether it is a request, and its (well-shaped) params."""
    doc, pos = document(space), POSITION
    root_uri = weighted((6, st.just(space.root.as_uri())), (1, uri_of(space)))
    return {
        "initialize": (True, st.fixed_dictionaries({
            "processId": st.none() | st.integers(), "rootUri": root_uri,
            "capabilities": st.sampled_from([{}, FUZZ_CAPABILITIES]),
            "initializationOptions": JSON})),
        "initialized": (False, st.just({})),
        "textDocument/didOpen": (False, st.fixed_dictionaries({
            "textDocument": st.fixed_dictionaries({
                "uri": uri_of(space), "version": VERSION, "text": texts(),
                "languageId": st.sampled_from(["python", "javascript", "rust", "", "💥"])})})),
        "textDocument/didChange": (False, st.fixed_dictionaries({
            "textDocument": st.fixed_dictionaries({"uri": uri_of(space), "version": VERSION}),
            "contentChanges": st.lists(content_change(), max_size=3)})),
        "textDocument/didClose": (False, st.fixed_dictionaries({"textDocument": doc})),
        "textDocument/inlineCompletion": (True, st.fixed_dictionaries({
            "textDocument": doc, "position": pos, "context": st.fixed_dictionaries({
                "triggerKind": st.sampled_from([1, 2, 0, 7])})})),
        "textDocument/completion": (True, st.fixed_dictionaries(
            {"textDocument": doc, "position": pos})),
        "textDocument/hover": (True, st.fixed_dictionaries(
            {"textDocument": doc, "position": pos})),
        "textDocument/codeAction": (True, st.fixed_dictionaries({
            "textDocument": doc, "range": RANGE, "context": st.fixed_dictionaries(
                {"diagnostics": st.just([])}, optional={"only": st.lists(st.sampled_from(
                    ["refactor", "refactor.rewrite", "quickfix", ""]), max_size=2)})})),
        "workspace/executeCommand": (True, st.fixed_dictionaries({
            "command": weighted((6, st.sampled_from(COMMANDS)), (1, st.text(max_size=10))),
            "arguments": st.lists(command_argument(space), max_size=2)})),
        "workspace/didChangeWatchedFiles": (False, st.fixed_dictionaries({
            "changes": st.lists(st.fixed_dictionaries({
                "uri": uri_of(space), "type": st.sampled_from([1, 2, 3, 0, 9])}), max_size=3)})),
        "workspace/didChangeConfiguration": (False, st.fixed_dictionaries({"settings": JSON})),
        "workspace/didChangeWorkspaceFolders": (False, st.fixed_dictionaries({
            "event": st.fixed_dictionaries({"added": st.lists(st.fixed_dictionaries(
                {"uri": uri_of(space), "name": st.text(max_size=5)}), max_size=2),
                "removed": st.just([])})})),
        "$/setTrace": (False, st.fixed_dictionaries({"value": st.sampled_from(
            ["off", "messages", "verbose", "loud"])})),
        "kodama/unknown": (True, JSON),
        "$/unknownNotification": (False, JSON),
    }


@st.composite
def mutated(draw: st.DrawFn, message: dict[str, Any]) -> dict[str, Any]:
    """``message`` with up to three of its members deleted or replaced by any JSON value, and
    sometimes nested very deeply."""
    message = copy.deepcopy(message)
    for _ in range(draw(weighted((7, st.just(0)), (3, st.integers(1, 3))))):
        places = list(_members(message))
        container, key = draw(st.sampled_from(places))
        if isinstance(container, dict) and draw(st.booleans()):
            del container[key]
        else:
            value = draw(weighted((6, JSON), (1, st.sampled_from([10, 100, 800]).map(Deep))))
            container[key] = value
    return message


def _members(value: Any) -> Iterator[tuple[Any, Any]]:
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in list(items):
        yield value, key
        if isinstance(item, dict | list) and item:
            yield from _members(item)


@st.composite
def message_action(draw: st.DrawFn, table: dict[str, tuple[bool, SearchStrategy[Any]]]
                   ) -> tuple[Any, ...]:
    """("send", message, is_request): a (maybe mutated) request or notification; the id is
    given when it is sent, unless the mutation chose a strange one."""
    method = draw(st.sampled_from([m for m in sorted(table) for _ in range(
        3 if m in FREQUENT else 1)]))
    request, params = table[method]
    if draw(weighted((12, st.just(False)), (1, st.just(True)))):
        request = not request  # a request sent as a notification, or the other way round
    message = draw(mutated({"jsonrpc": "2.0", "method": method, "params": draw(params)}))
    if request and draw(weighted((12, st.just(False)), (1, st.just(True)))):
        message["id"] = draw(JSON)
    return ("send", message, request)


def broken_bytes() -> SearchStrategy[tuple[Any, ...]]:
    """("raw", bytes): things no client should write."""
    body = encode({"jsonrpc": "2.0", "method": "$/noise", "params": {"x": [1, 2, 3]}})
    return st.tuples(st.just("raw"), st.sampled_from([
        b"Content-Length: 100000000000000\r\n\r\n" + body,
        b"Content-Length: %d\r\n\r\n%s" % (64 * 1024 * 1024 + 1, body),
        b"Content-Length: " + b"7" * 5000 + b"\r\n\r\n" + body,
        b"Content-Length: 11\r\n\r\n" + body,
        b"Content-Length: %d\r\n\r\n%s" % (len(body) + 3, body),
        b"Content-Length: %d\r\n\r\n%s" % (len(body) + 3000, body),
        b"content-length:%d\r\nContent-Type: x\r\n\r\n%s" % (len(body), body),
        body, b"\r\n\r\n\r\n", b"Content-Length: 5\r\n{}",
        frame(body.replace(b"noise", b"n\xffise")),
        frame('{"jsonrpc": "2.0", "method": "$/\ud800"}'.encode("utf-8", "surrogatepass")),
        frame(b"[" * 100_000 + b"]" * 100_000), frame(b"[1, 2]"), frame(b"null"),
        frame(b"{not json"), frame(b""),
    ]) | st.binary(max_size=200))


def actions(space: Workspace) -> SearchStrategy[tuple[Any, ...]]:
    """What a case does: messages, broken bytes, cancellations of its requests or of a progress
    bar, and "responses" to ids the server never asked."""
    return weighted(
        (12, message_action(method_params(space))), (2, broken_bytes()),
        (2, st.tuples(st.just("cancel"), st.integers(0, 5))),
        (1, st.tuples(st.just("cancel progress"), st.integers(0, 5))),
        (1, st.tuples(st.just("respond"), st.integers(0, 5), JSON)))


def client_answers() -> SearchStrategy[Message | None]:
    """How the client answers the server's own requests during a case: as it should (None),
    or with any result, an error, or a malformed error."""
    error = st.fixed_dictionaries({"code": st.integers(-2**40, 2**40),
                                   "message": st.text(max_size=10)})
    return weighted((6, st.none()), (1, st.fixed_dictionaries({"result": JSON})),
                    (1, st.fixed_dictionaries({"error": error})),
                    (1, st.fixed_dictionaries({"error": JSON})))


Drawn = tuple[list[tuple[Any, ...]], Message | None, str]


def cases(space: Workspace) -> SearchStrategy[Drawn]:
    """A few actions and how the server's requests are answered meanwhile, then (rarely) a
    shutdown or an exit."""
    ending = weighted((48, st.just("")), (1, st.just("shutdown")), (1, st.just("exit")))
    return st.tuples(st.lists(actions(space), min_size=1, max_size=6), client_answers(), ending)


def scheduled_ending(actions: list[tuple[Any, ...]]) -> str:
    """A shutdown or an exit for one case in 40, chosen by a digest of the case (Hypothesis
    draws rare choices too unevenly to count on them)."""
    number = int(hashlib.sha256(repr(actions).encode("utf-8", "surrogatepass")).hexdigest(), 16)
    return {0: "shutdown", 1: "exit"}.get(number % 80, "")


@dataclass
class Case:
    """What one case sent and must see answered."""

    requests: dict[Any, str] = field(default_factory=dict)
    """id → method of every request written in a well-formed frame."""
    first_response: int = 0


class Target:
    """The server under fuzz, its workspace, and the checks after each case."""

    def __init__(self, space: Workspace, model: Path, env: dict[str, str]) -> None:
        self.space, self.model, self.env = space, model, env
        self.server: RawServer | None = None
        self.cases = self.starts = 0
        self.outcomes: Counter[str] = Counter()
        """How the requests were answered: ``result`` or the error code."""
        self.disk: dict[str, str] = {}

    def live(self) -> RawServer:
        if self.server is not None and self.server.alive():
            return self.server
        if self.server is not None:
            self.server.kill()
        self.starts += 1
        server = self.server = RawServer(
            ["--model", str(self.model), "--log-level", "info"],
            {**self.env, "KODAMA_CACHE_DIR": str(self.space.cache)}, self.space.root,
            self.space.base.parent / f"{self.space.base.name}-server-{self.starts}.log")
        server.initialize(self.space.root, {"completion": {"debounceMs": 0}})
        server.wait_status(("ready",))
        server.notify("textDocument/didOpen", {"textDocument": {
            "uri": (self.space.root / "sentinel.py").as_uri(), "languageId": "python",
            "version": 1, "text": SENTINEL}})
        self.disk = self.disk or self.space.snapshot()
        return server

    def run(self, actions: list[tuple[Any, ...]], answer: Message | None, ending: str) -> None:
        """Run one case; a failed case ends its server (Hypothesis runs it again on a fresh
        one to report it)."""
        self.cases += 1
        ending = ending or scheduled_ending(actions)
        try:
            self._run(actions, answer, ending)
        except BaseException as exc:
            exc.add_note(f"the case ended with {ending or 'nothing'}")
            if self.server is not None:
                self.server.kill()
            raise

    def _run(self, actions: list[tuple[Any, ...]], answer: Message | None, ending: str
             ) -> None:
        server = self.live()
        case = Case(first_response=len(server.messages))
        server.answer = applied if answer is None else lambda method, params: answer
        for action in actions:
            self._act(server, case, action)
        if ending == "exit":  # without shutdown: the process ends, answered or not
            server.notify("exit")
            assert server.proc.wait(timeout=20) == 1
            self._check_responses(server, case)
            self.check_log(server)
        elif ending == "shutdown":
            self._shut_down(server, case)
        else:
            self._check_answers(server, case)
            self._check_known_good(server)
        self._check_disk()

    def _act(self, server: RawServer, case: Case, action: tuple[Any, ...]) -> None:
        kind = action[0]
        if kind == "send":
            _, message, request = action
            message = built(message)
            if request and "id" not in message:
                message["id"] = server.new_id()
            if "id" in message and "method" in message and _valid_id(message["id"]) and (
                    message["id"] not in server.used_ids):
                case.requests[message["id"]] = message["method"]
            server.send(message)
        elif kind == "raw":
            server.send_bytes(action[1])
        elif kind == "cancel":
            pending = list(case.requests)
            target = pending[action[1] % len(pending)] if pending else action[1]
            server.notify("$/cancelRequest", {"id": target})
        elif kind == "cancel progress":
            tokens = [m["params"]["token"] for m in server.messages
                      if m.get("method") == "window/workDoneProgress/create"]
            token = tokens[-1 - action[1] % len(tokens)] if tokens else "kodama-none"
            server.notify("window/workDoneProgress/cancel", {"token": token})
        elif kind == "respond":
            pending = list(case.requests)
            target = pending[action[1] % len(pending)] if pending else action[1]
            server.send({"jsonrpc": "2.0", "id": target, "result": action[2]})

    def _shut_down(self, server: RawServer, case: Case) -> None:
        answer = server.request("shutdown", timeout=ANSWER_S)
        assert "result" in answer and answer["result"] is None, answer
        late = server.request("textDocument/hover", {"textDocument": {"uri": "file:///x.py"},
                                                     "position": {"line": 0, "character": 0}})
        assert late.get("error", {}).get("code") == -32600, late
        self._check_answers(server, case)
        server.notify("exit")
        assert server.proc.wait(timeout=20) == 0
        self.check_log(server)

    def check_log(self, server: RawServer) -> None:
        """Once the server has ended: it never failed to send a message, and no failure went
        unhandled to asyncio."""
        server.kill()
        log = server.log.read_text(errors="replace")
        for trouble in TROUBLES:
            assert trouble not in log, f"{trouble!r} in {server.log}"

    def _check_answers(self, server: RawServer, case: Case) -> None:
        deadline = time.monotonic() + ANSWER_S
        for msg_id, method in case.requests.items():
            left = max(0.0, deadline - time.monotonic())
            assert server.response(msg_id, left) is not None, (
                f"{method} request {msg_id!r} was never answered (alive: {server.alive()})")
        self._check_responses(server, case)

    def _check_responses(self, server: RawServer, case: Case) -> None:
        asked = {m["id"] for m in server.sent if "method" in m and _valid_id(m.get("id"))}
        for response in server.messages[case.first_response:]:
            if "method" not in response:
                _check_response(response, asked)
                self.outcomes["result" if "result" in response else str(
                    response["error"]["code"])] += 1
        answered = [m["id"] for m in server.messages[case.first_response:]
                    if "method" not in m and m.get("id") in case.requests]
        assert len(answered) == len(set(answered)), f"answered twice: {answered}"

    def _check_known_good(self, server: RawServer) -> None:
        known = server.request("textDocument/completion", {
            "textDocument": {"uri": (self.space.root / "sentinel.py").as_uri()},
            "position": {"line": 1, "character": 4}}, timeout=ANSWER_S)
        assert "result" in known, known
        loads = [m for m in server.messages if m.get("method") == "kodama/status"
                 and m["params"]["state"] == "loading"]
        assert len(loads) == 1, f"the model was loaded {len(loads)} times"

    def _check_disk(self) -> None:
        assert self.space.snapshot() == self.disk, "a file was written, changed or removed"
        assert self.space.index_problems() == []


def _valid_id(msg_id: Any) -> bool:
    return isinstance(msg_id, str) or (isinstance(msg_id, int) and not isinstance(msg_id, bool))


def _check_response(response: Message, asked: set[Any]) -> None:
    """One result or one proper error, for an id that was sent (or null, id unknown)."""
    assert response.get("jsonrpc") == "2.0", response
    assert response["id"] is None or response["id"] in asked, f"unasked for: {response}"
    assert ("result" in response) != ("error" in response), response
    if "error" in response:
        error = response["error"]
        assert isinstance(error.get("code"), int) and isinstance(error.get("message"), str), \
            response


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory, identifier_model_dir: Path,
           server_env: dict[str, str]) -> Iterator[Target]:
    space = Workspace(tmp_path_factory.mktemp("fuzz"))
    space.create()
    fuzzed = Target(space, identifier_model_dir, server_env)
    yield fuzzed
    if fuzzed.server is not None:
        fuzzed.server.stop()
        fuzzed.check_log(fuzzed.server)


def test_the_lsp_surface_survives_fuzzing(target: Target) -> None:
    space = target.space

    @seed(SEED)
    @settings(max_examples=CASES, deadline=None, database=None, derandomize=False,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(cases(space))
    def case(drawn: Drawn) -> None:
        target.run(*drawn)

    started = time.monotonic()
    case()
    print(f"\n{target.cases} fuzz cases on {target.starts} server(s) in "
          f"{time.monotonic() - started:.0f} s (seed {SEED}); answers: "
          f"{dict(target.outcomes.most_common())}")
    assert target.cases == CASES
