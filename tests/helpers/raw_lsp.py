"""A raw JSON-RPC client for ``kodama serve``: it writes any bytes to the server's stdin and reads
every framed message the server writes back, for tests of the wire itself (lying headers,
garbage between frames, invalid UTF-8) and for the LSP fuzz suite.

Synchronous on purpose: a reader thread collects the server's messages, so a Hypothesis test
(which runs each example as a plain function call) can drive one server across many examples.
Requests the server sends (``workspace/applyEdit``, ``window/workDoneProgress/create``...) are
answered at once by :attr:`RawServer.answer`.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

Message = dict[str, Any]
Answer = Callable[[str, Any], Message | None]
"""A server request's method and params → the response's ``result``/``error`` members (None:
the request is left unanswered)."""

FUZZ_CAPABILITIES: Message = {
    "general": {"positionEncodings": ["utf-16"]},
    "textDocument": {
        "synchronization": {"dynamicRegistration": False},
        "inlineCompletion": {"dynamicRegistration": False},
        "completion": {"completionItem": {"snippetSupport": False}},
        "hover": {"contentFormat": ["markdown", "plaintext"]},
        "codeAction": {"codeActionLiteralSupport": {
            "codeActionKind": {"valueSet": ["", "refactor", "refactor.rewrite"]}}},
    },
    "workspace": {
        "applyEdit": True,
        "workspaceEdit": {"documentChanges": True, "resourceOperations": ["create"]},
        "executeCommand": {},
        "didChangeWatchedFiles": {"dynamicRegistration": False},
    },
    "window": {"workDoneProgress": True, "showDocument": {"support": True}},
}
"""What the raw client says it supports: edits that create files, so that no command writes a
file itself (the fuzz suite checks nothing is written to disk)."""


def frame(body: bytes) -> bytes:
    """``body`` with a correct ``Content-Length`` header."""
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def encode(message: Any) -> bytes:
    """A message as JSON bytes; lone surrogates become ``\\udxxx`` escapes (valid JSON)."""
    return json.dumps(message).encode("ascii")


def applied(method: str, params: Any) -> Message:
    """The default answer to server requests: edits applied, anything else acknowledged."""
    if method == "workspace/applyEdit":
        return {"result": {"applied": True}}
    return {"result": None}


class RawServer:
    """One ``kodama serve`` process on pipes; see the module docstring."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path, log: Path) -> None:
        """Start ``kodama serve ARGS`` (its stderr goes to ``log``)."""
        self.log = log
        self._log_file = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kodama.server", "serve", *args], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self._log_file, env={**os.environ, **env}, cwd=cwd)
        self.messages: list[Message] = []
        """Every message the server wrote, in order."""
        self.sent: list[Any] = []
        """Every message written with :meth:`send`."""
        self.used_ids: set[Any] = set()
        """The ids of the messages written with :meth:`send`."""
        self.answer: Answer = applied
        self._ids = itertools.count(1)
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    # -- writing -------------------------------------------------------------------------------

    def send_bytes(self, data: bytes) -> None:
        """Write ``data`` as it is (it may frame nothing at all)."""
        stdin: BinaryIO | None = self.proc.stdin
        assert stdin is not None
        stdin.write(data)
        stdin.flush()

    def send(self, message: Any) -> None:
        """Write one correctly framed message."""
        self.sent.append(message)
        if isinstance(message, dict) and "id" in message:
            with contextlib.suppress(TypeError):  # an unhashable id
                self.used_ids.add(message["id"])
        self.send_bytes(frame(encode(message)))

    def new_id(self) -> int:
        """A request id not used before by this client."""
        while (msg_id := next(self._ids)) in self.used_ids:
            pass
        return msg_id

    def send_request(self, method: str, params: Any = None, msg_id: Any = None) -> Any:
        """Send a request without waiting; its id."""
        msg_id = self.new_id() if msg_id is None else msg_id
        message: Message = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return msg_id

    def request(self, method: str, params: Any = None, timeout: float = 30) -> Message:
        """Send a request and wait for its response (AssertionError after ``timeout``)."""
        msg_id = self.send_request(method, params)
        response = self.response(msg_id, timeout)
        assert response is not None, f"no answer to {method} within {timeout} s; see {self.log}"
        return response

    def notify(self, method: str, params: Any = None) -> None:
        """Send a notification."""
        message: Message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    # -- reading -------------------------------------------------------------------------------

    def responses(self) -> list[Message]:
        """The responses received so far."""
        with self._changed:
            return [m for m in self.messages if "method" not in m and "id" in m]

    def response(self, msg_id: Any, timeout: float) -> Message | None:
        """The response to ``msg_id`` once it arrives; None after ``timeout`` seconds."""
        return self.wait_for(lambda m: "method" not in m and m.get("id") == msg_id, timeout)

    def wait_for(self, match: Callable[[Message], bool], timeout: float, since: int = 0
                 ) -> Message | None:
        """The first message (received or to come, from the ``since``-th on) that ``match``es;
        None after ``timeout``."""
        deadline = time.monotonic() + timeout
        seen = since
        with self._changed:
            while True:
                for message in self.messages[seen:]:
                    if match(message):
                        return message
                seen = len(self.messages)
                left = deadline - time.monotonic()
                if left <= 0 or (not self._reader.is_alive() and seen == len(self.messages)):
                    return None
                self._changed.wait(min(left, 0.5))

    def _read(self) -> None:
        stdout = self.proc.stdout
        assert stdout is not None
        buffer = b""
        while chunk := os.read(stdout.fileno(), 1 << 16):
            buffer += chunk
            while (end := buffer.find(b"\r\n\r\n")) >= 0:
                headers = dict(line.split(b": ", 1) for line in buffer[:end].split(b"\r\n"))
                length = int(headers[b"Content-Length"])
                if len(buffer) < end + 4 + length:
                    break
                body, buffer = buffer[end + 4:end + 4 + length], buffer[end + 4 + length:]
                self._received(json.loads(body))
        with self._changed:
            self._changed.notify_all()

    def _received(self, message: Message) -> None:
        answer = self.answer(message["method"], message.get("params")) if (
            "method" in message and "id" in message) else None
        if answer is not None:
            with contextlib.suppress(OSError):  # the server is gone: the test notices
                self.send({"jsonrpc": "2.0", "id": message["id"], **answer})
        with self._changed:
            self.messages.append(message)
            self._changed.notify_all()

    # -- lifecycle -----------------------------------------------------------------------------

    def initialize(self, root: Path, options: Message | None = None,
                   capabilities: Message | None = None) -> Message:
        """``initialize`` + ``initialized`` for workspace ``root``; the initialize result."""
        response = self.request("initialize", {
            "processId": None, "rootUri": root.as_uri(),
            "capabilities": FUZZ_CAPABILITIES if capabilities is None else capabilities,
            "initializationOptions": options or {}}, timeout=60)
        assert "result" in response, response
        self.notify("initialized", {})
        return response

    def wait_status(self, states: tuple[str, ...], timeout: float = 120) -> Message:
        """The first ``kodama/status`` notification in one of ``states``."""
        status = self.wait_for(lambda m: m.get("method") == "kodama/status"
                               and m["params"]["state"] in states, timeout)
        assert status is not None, f"no status in {states}; see {self.log}"
        return status

    def alive(self) -> bool:
        """Whether the server process is still running."""
        return self.proc.poll() is None

    def stop(self, timeout: float = 10) -> None:
        """``shutdown`` + ``exit``, then end the process (killed if it does not end)."""
        with contextlib.suppress(AssertionError, OSError):
            if self.alive():
                self.request("shutdown", timeout=timeout)
                self.notify("exit")
        self.kill(timeout)

    def kill(self, grace: float = 0) -> None:
        """End the process: at once, or once ``grace`` seconds passed."""
        with contextlib.suppress(OSError):
            self.proc.stdin.close()  # type: ignore[union-attr]
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=10)
        self._log_file.close()
