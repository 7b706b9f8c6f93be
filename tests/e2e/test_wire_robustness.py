"""The wire under hostile or broken clients, as raw bytes to ``kodama serve`` (stdio, and TCP
once): oversized and lying frames, garbage, bad encodings, bad ids, notifications sent with an
id, nested look-alike requests, a second ``initialize``; malformed, forged or cancelling answers
to the server's own ``workspace/applyEdit``; ``shutdown`` and ``exit`` while a command waits.
After each, the server still answers a well-formed request (or ends as LSP says)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers.raw_lsp import Message, RawServer, applied, encode, frame

DOC = "def f(x):\n    return x\n"
GEOMETRY = "def area(width, height):\n    return width * height\n"


def open_doc(server: RawServer, uri: str, text: str, version: int = 1) -> None:
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": version, "text": text}})


def completion(server: RawServer, uri: str, line: int = 1, character: int = 4) -> Message:
    """A well-formed completion request's response."""
    return server.request("textDocument/completion", {
        "textDocument": {"uri": uri}, "position": {"line": line, "character": character}},
        timeout=20)


def start(root: Path, env: dict[str, str], model: Path | None, log: Path) -> RawServer:
    server = RawServer(["--log-level", "debug", *(
        ["--model", str(model)] if model else ["--no-model"])], env, root, log)
    server.initialize(root, {"completion": {"debounceMs": 10}})
    server.wait_status(("ready", "disabled", "error"))
    return server


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory, server_env: dict[str, str]
         ) -> Iterator[tuple[RawServer, str]]:
    """One server without a model for the whole module, with one document open."""
    root = tmp_path_factory.mktemp("wire")
    (root / "a.py").write_text(DOC)
    server = start(root, server_env, None, root.parent / f"{root.name}.log")
    uri = (root / "a.py").as_uri()
    open_doc(server, uri, DOC)
    yield server, uri
    server.stop()


GOOD = encode({"jsonrpc": "2.0", "method": "$/ping"})
"""A well-formed notification (for a method no one handles: ignored)."""

BROKEN: dict[str, bytes] = {
    "huge length": b"Content-Length: 100000000000000\r\n\r\n" + GOOD,
    "just over the limit": b"Content-Length: %d\r\n\r\n%s" % (64 * 1024 * 1024 + 1, GOOD),
    "absurd length": b"Content-Length: " + b"9" * 5000 + b"\r\n\r\n" + GOOD,
    "shorter length": b"Content-Length: 10\r\n\r\n" + GOOD,
    "longer length": b"Content-Length: %d\r\n\r\n%s" % (len(GOOD) + 500, GOOD),
    "longer by a few bytes": b"Content-Length: %d\r\n\r\n%s" % (len(GOOD) + 5, GOOD),
    "zero length": b"Content-Length: 0\r\n\r\n" + GOOD,
    "no header": GOOD,
    "no blank line": b"Content-Length: 5\r\n{}",
    "garbage": b"\x00\xff garbage\r\n\r\n\r\nContent-Type: x\r\n\r\n{{{{",
    "invalid UTF-8": frame(b'{"jsonrpc": "2.0", "method": "$/ping", "params": "\xff\xfe"}'),
    "raw surrogate": frame('{"jsonrpc": "2.0", "method": "$/ping", "params": "\ud800"}'.encode(
        "utf-8", "surrogatepass")),
    "not JSON": frame(b"{not json"),
    "JSON array": frame(b"[1, 2, 3]"),
    "JSON string": frame(b'"jsonrpc"'),
    "deep JSON": frame(b"[" * 200_000 + b"]" * 200_000),
    "not JSON-RPC": frame(b'{"id": 99, "method": "textDocument/hover"}'),
    "lowercase header": b"content-length: %d\r\n\r\n%s" % (len(GOOD), GOOD),
}
"""Bytes no client should write; the names say how they are broken."""


@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_bytes_leave_the_server_answering(bare: tuple[RawServer, str], name: str) -> None:
    server, uri = bare
    server.send_bytes(BROKEN[name])
    response = completion(server, uri)
    assert "result" in response, response
    assert server.alive()


def test_an_oversized_frame_is_refused_in_the_log(bare: tuple[RawServer, str]) -> None:
    server, uri = bare
    server.send_bytes(b"Content-Length: 100000000000001\r\n\r\n")
    assert "result" in completion(server, uri)
    assert "refused a message of 100000000000001 bytes" in server.log.read_text()
    refused = [m for m in server.responses() if m["id"] is None]
    assert refused[-1]["error"]["code"] == -32700  # JSON-RPC's ParseError, the id unknown
    assert "refused a message of 100000000000001 bytes" in refused[-1]["error"]["message"]


def test_a_request_inside_the_broken_frames_is_answered(bare: tuple[RawServer, str]) -> None:
    """A short frame, then a request in the same write: the request is not lost with it."""
    server, uri = bare
    msg_id = server.new_id()
    request = encode({"jsonrpc": "2.0", "id": msg_id, "method": "textDocument/completion",
                      "params": {"textDocument": {"uri": uri},
                                 "position": {"line": 0, "character": 3}}})
    server.send_bytes(b"Content-Length: 3\r\n\r\n" + GOOD + frame(request))
    response = server.response(msg_id, timeout=20)
    assert response is not None and "result" in response


def test_invalid_ids_and_methods_get_invalid_request(bare: tuple[RawServer, str]) -> None:
    server, uri = bare
    server.send({"jsonrpc": "2.0", "id": "bad-method", "method": 5})
    answer = server.response("bad-method", timeout=20)
    assert answer is not None and answer["error"]["code"] == -32600
    server.send({"jsonrpc": "2.0", "id": {"an": "object"}, "method": "textDocument/hover"})
    assert "result" in completion(server, uri)
    nulls = [m for m in server.responses() if m["id"] is None]
    assert nulls and nulls[-1]["error"]["code"] == -32600


def test_the_server_is_initialized_only_once(bare: tuple[RawServer, str], tmp_path: Path
                                            ) -> None:
    """Found by the fuzz suite: each ``initialize`` + ``initialized`` re-rooted the workspace
    and started the model (or its status) again."""
    server, uri = bare
    again = server.request("initialize", {"processId": None, "rootUri": tmp_path.as_uri(),
                                          "capabilities": {}}, timeout=20)
    assert again["error"]["code"] == -32600, again
    assert "already initialized" in again["error"]["message"]
    server.notify("initialized", {})
    assert "result" in completion(server, uri)
    statuses = [m for m in server.messages if m.get("method") == "kodama/status"]
    assert len(statuses) == 1, statuses


@pytest.mark.parametrize("method", ["workspace/didChangeConfiguration", "textDocument/didClose"])
def test_a_notification_sent_with_an_id_is_answered(bare: tuple[RawServer, str],
                                                    method: str) -> None:
    """Found by the fuzz suite: pygls ran it as a notification and never answered."""
    server, _ = bare
    answer = server.request(method, {"settings": {}, "textDocument": {"uri": "file:///x.py"}},
                            timeout=20)
    assert answer["error"]["code"] == -32600, answer
    assert "is a notification" in answer["error"]["message"]


def test_a_request_nested_in_a_notification_is_not_a_message(
        bare: tuple[RawServer, str]) -> None:
    server, uri = bare
    nested = {"jsonrpc": "2.0", "id": 7777, "method": "textDocument/hover",
              "params": {"bad": 1}}
    server.notify("textDocument/didChange", {
        "textDocument": {"uri": uri, "version": 2}, "contentChanges": [], "extra": nested})
    server.notify("$/ping", {"data": [nested]})
    assert "result" in completion(server, uri)  # handled after both notifications
    assert [m for m in server.messages if m.get("id") == 7777] == []


def test_over_tcp_an_oversized_frame_is_refused_too(server_env: dict[str, str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "kodama.server", "serve", "--no-model",
                             "--tcp", f"127.0.0.1:{port}"], stderr=subprocess.DEVNULL,
                            env={**os.environ, **server_env})
    try:
        sock = _connect(port)
        initialize = encode({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                             "params": {"processId": None, "capabilities": {}}})
        sock.sendall(b"Content-Length: 100000000000000\r\n\r\n{}" + frame(initialize))
        refused, answer = _read_responses(sock, until_id=1)
        assert refused["id"] is None and refused["error"]["code"] == -32700
        assert "result" in answer
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()


def _connect(port: int) -> socket.socket:
    for _ in range(100):  # the interpreter needs a moment to listen
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=20)
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the server never listened")


def _read_responses(sock: socket.socket, until_id: int) -> list[Any]:
    """The messages the server sends until the response to ``until_id``."""
    data, messages = b"", []
    while not messages or messages[-1].get("id") != until_id:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
        while b"\r\n\r\n" in data:
            header, rest = data.split(b"\r\n\r\n", 1)
            length = int(header.split(b"\r\n")[0].split(b": ")[1])
            if len(rest) < length:
                break
            messages.append(json.loads(rest[:length]))
            data = rest[length:]
    return messages


# -- the server's own requests: workspace/applyEdit -------------------------------------------

class Geometry:
    """A server on the tiny model with ``area`` open, kept for the module's tests and started
    again after a test shut it down."""

    def __init__(self, root: Path, model: Path, env: dict[str, str]) -> None:
        self.root, self.model, self.env = root, model, env
        self.source = root / "project" / "geometry.py"
        self.source.parent.mkdir()
        self.source.write_text(GEOMETRY)
        self.server: RawServer | None = None
        self.started = 0

    def get(self) -> RawServer:
        server = self.server
        if server is None or not server.alive() or any(
                m.get("method") == "shutdown" for m in server.sent):
            if server is not None:
                server.stop()
            self.started += 1
            server = self.server = start(
                self.source.parent, {**self.env, "KODAMA_CACHE_DIR": str(self.root / "cache")},
                self.model, self.root / f"server-{self.started}.log")
            open_doc(server, self.source.as_uri(), GEOMETRY)
        server.answer = applied
        return server


@pytest.fixture(scope="module")
def geometry_servers(tmp_path_factory: pytest.TempPathFactory, identifier_model_dir: Path,
                     server_env: dict[str, str]) -> Iterator[Geometry]:
    servers = Geometry(tmp_path_factory.mktemp("geometry"), identifier_model_dir, server_env)
    yield servers
    if servers.server is not None:
        servers.server.stop()


@pytest.fixture
def geometry(geometry_servers: Geometry) -> tuple[RawServer, dict[str, Any]]:
    """A live server on the tiny model with ``area`` open; the arguments of a command on it."""
    server = geometry_servers.get()
    return server, {"uri": geometry_servers.source.as_uri(), "line": 0, "character": 5}


def docstring_command(server: RawServer, where: dict[str, Any]) -> int:
    msg_id: int = server.send_request("workspace/executeCommand", {
        "command": "kodama.generateDocstring", "arguments": [where]})
    return msg_id


def edit_request(server: RawServer, since: int) -> Message:
    """The server's next ``workspace/applyEdit`` request."""
    request = server.wait_for(lambda m: m.get("method") == "workspace/applyEdit", 120, since)
    assert request is not None, "the command never asked to apply its edit"
    return request


def never_answer_edits(method: str, params: Any) -> Message | None:
    return None if method == "workspace/applyEdit" else {"result": None}


@pytest.mark.parametrize("answer", [None, "yes"])
def test_a_malformed_answer_to_apply_edit_ends_the_command_with_a_warning(
        geometry: tuple[RawServer, dict[str, Any]], answer: Any) -> None:
    server, where = geometry
    server.answer = lambda method, params: {"result": answer} if (
        method == "workspace/applyEdit") else {"result": None}
    mark = len(server.messages)
    response = server.response(docstring_command(server, where), timeout=120)
    assert response is not None, "the command never completed"
    assert response.get("result") is False, response
    warning = server.wait_for(lambda m: m.get("method") == "window/showMessage", 5, mark)
    assert warning is not None
    assert "did not apply the docstring" in warning["params"]["message"]
    assert "malformed" in warning["params"]["message"]


def test_shutdown_while_a_command_waits_for_its_edit(
        geometry: tuple[RawServer, dict[str, Any]]) -> None:
    server, where = geometry
    server.answer = never_answer_edits
    mark = len(server.messages)
    command = docstring_command(server, where)
    edit_request(server, mark)
    shutdown = server.request("shutdown", timeout=20)
    assert shutdown.get("result", "missing") is None, shutdown
    cancelled = server.response(command, timeout=20)
    assert cancelled is not None and cancelled["error"]["code"] == -32800, cancelled
    late = server.request("textDocument/hover", {
        "textDocument": {"uri": where["uri"]}, "position": {"line": 0, "character": 5}},
        timeout=20)
    assert late["error"]["code"] == -32600, late
    server.notify("exit")
    assert server.proc.wait(timeout=20) == 0


def test_exit_without_shutdown_while_a_command_waits(
        geometry: tuple[RawServer, dict[str, Any]]) -> None:
    """The process ends with status 1 (LSP), and what was still running is not answered into
    the closed stream (each attempt used to log a failure with a growing traceback)."""
    server, where = geometry
    server.answer = never_answer_edits
    mark = len(server.messages)
    docstring_command(server, where)
    edit_request(server, mark)
    for method in ("textDocument/inlineCompletion", "textDocument/hover") * 2:
        server.send_request(method, {"textDocument": {"uri": where["uri"]}, "context": {
            "triggerKind": 2}, "position": {"line": 1, "character": 4}})
    server.notify("exit")
    assert server.proc.wait(timeout=20) == 1
    log = server.log.read_text()
    for trouble in ("Error sending data", "closed file", "Exception in callback"):
        assert trouble not in log


def test_a_client_cannot_answer_its_own_request(
        geometry: tuple[RawServer, dict[str, Any]]) -> None:
    """A "response" that carries the id of the client's own pending request is ignored: the
    request is answered once, by the server, with its real result."""
    server, where = geometry
    server.answer = never_answer_edits
    mark = len(server.messages)
    command = docstring_command(server, where)
    edit = edit_request(server, mark)
    server.send({"jsonrpc": "2.0", "id": command, "result": "forged"})
    assert "result" in completion(server, where["uri"], 0, 3)
    assert server.response(command, timeout=0) is None
    server.send({"jsonrpc": "2.0", "id": edit["id"], "result": {"applied": True}})
    response = server.response(command, timeout=20)
    assert response is not None and response.get("result") is True, response
    assert len([m for m in server.responses() if m["id"] == command]) == 1


def test_a_client_cannot_cancel_the_servers_request(
        geometry: tuple[RawServer, dict[str, Any]]) -> None:
    """``$/cancelRequest`` with the id of the server's ``workspace/applyEdit`` is ignored: the
    command still completes once the edit is answered (it used to wait forever)."""
    server, where = geometry
    server.answer = never_answer_edits
    mark = len(server.messages)
    command = docstring_command(server, where)
    edit = edit_request(server, mark)
    server.notify("$/cancelRequest", {"id": edit["id"]})
    assert "result" in completion(server, where["uri"], 0, 3)
    server.send({"jsonrpc": "2.0", "id": edit["id"], "result": {"applied": True}})
    response = server.response(command, timeout=20)
    assert response is not None and response.get("result") is True, response
