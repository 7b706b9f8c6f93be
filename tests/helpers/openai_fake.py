"""A scripted OpenAI-compatible HTTP server for the remote backend's failure tests.

The real-server tests use llama.cpp's server; this one plays what a real server cannot be made
to do on cue: answer 503 twice, hang before the first token, stream slowly while recording
when the client hangs up. Standard library only, on 127.0.0.1 and a free port.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """What the server does with one POST."""

    status: int = 200
    pieces: tuple[str, ...] = ("ok",)
    """Streamed one event each (completions: ``text``; chat: ``delta.content``)."""
    delay: float = 0.0
    """Seconds before each piece (and before the headers when ``hang`` is set)."""
    hang: float = 0.0
    """Seconds to wait before answering at all."""
    finish: str = "stop"
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    """Body of a non-200 answer."""


@dataclass
class Seen:
    """One request the server received, and how its answer went."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    sent: int = 0
    """Pieces written before the end or the client hanging up."""
    hung_up: bool = False
    """Whether the client closed the connection before the stream ended."""
    done: threading.Event = field(default_factory=threading.Event)


class FakeOpenAI:
    """The server's script (``replies``, taken in order; then ``default``) and its record."""

    def __init__(self, models: tuple[str, ...] = ("fake-model",)) -> None:
        self.models = models
        self.replies: list[Reply] = []
        self.default = Reply()
        self.seen: list[Seen] = []
        self.url = ""
        self.port = 0

    def posts(self) -> list[Seen]:
        """The POST requests received so far."""
        return [s for s in self.seen if s.method == "POST"]


def _handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _record(self, body: Any) -> Seen:
            seen = Seen(self.command, self.path, dict(self.headers.items()), body)
            fake.seen.append(seen)
            return seen

        def do_GET(self) -> None:
            seen = self._record(None)
            data = json.dumps({"object": "list", "data": [
                {"id": m, "object": "model"} for m in fake.models]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            seen.done.set()

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"null")
            seen = self._record(body)
            reply = fake.replies.pop(0) if fake.replies else fake.default
            try:
                self._answer(reply, seen, chat=self.path.endswith("/chat/completions"))
            except (BrokenPipeError, ConnectionResetError):
                seen.hung_up = True
            finally:
                seen.done.set()

        def _answer(self, reply: Reply, seen: Seen, *, chat: bool) -> None:
            time.sleep(reply.hang)
            if reply.status != 200:
                data = (reply.body or json.dumps({"error": {"message": "scripted"}})).encode()
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            for i, piece in enumerate(reply.pieces):
                time.sleep(reply.delay)
                last = i == len(reply.pieces) - 1
                choice: dict[str, Any] = {"index": 0,
                                          "finish_reason": reply.finish if last else None}
                if chat:
                    choice["delta"] = {"content": piece}
                else:
                    choice["text"] = piece
                self.wfile.write(f"data: {json.dumps({'choices': [choice]})}\n\n".encode())
                self.wfile.flush()
                seen.sent += 1
            time.sleep(reply.delay)
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

    return Handler


@contextmanager
def serve(fake: FakeOpenAI, port: int = 0) -> Iterator[FakeOpenAI]:
    """Run ``fake`` on 127.0.0.1 (``port`` 0: a free one) until the block ends."""
    httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(fake))
    httpd.daemon_threads = True
    fake.port = httpd.server_address[1]
    fake.url = f"http://127.0.0.1:{fake.port}/v1"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        httpd.shutdown()
        httpd.server_close()
