"""The JSON-RPC wire layer: pygls' LSP protocol, and its transport loop, with Kodama's changes.

(Kodama's own additions to what is said over it are in ``kodama.server.protocol``.)

1. Positions are always UTF-16 (every client supports it; ``kodama.syntax.positions`` converts).
2. Documents live in one store, Kodama's (``kodama.server.documents``): pygls' own workspace copy
   of every document is not kept.
3. The stream is read by :class:`FrameReader`, which survives anything a client can write:
   frames larger than :data:`MAX_FRAME_BYTES` are refused unread; a ``Content-Length`` that lies
   (shorter or longer than the body), bytes between frames, missing headers, invalid UTF-8 and
   JSON that is not an object are logged and skipped up to the next header. Only top-level
   objects are messages (pygls also took nested objects with ``id`` and ``method`` for requests).
4. Every request is answered: one whose parameters do not match the LSP schema gets
   ``InvalidParams``; a frame that cannot be read, a bad id or method, a notification sent with
   an id, a second ``initialize`` and any request after ``shutdown`` get ``InvalidRequest`` or
   ``ParseError`` (with a null id when the id cannot be read). pygls logged them and never
   answered.
5. Responses: a malformed answer to one of the server's own requests fails that request (pygls
   dropped it, and whatever waited for the answer waited forever); a "response" to anything the
   server did not ask is ignored (it completed the client's own pending request).
6. ``initialized`` starts the server's work once; ``shutdown`` cancels what is still running
   without failing itself.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Awaitable, Callable, Generator
from concurrent.futures import Future
from typing import Any

import attrs
import cattrs
from lsprotocol import types
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcParseError,
)
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import RPCRequest
from pygls.protocol.language_server import lsp_method

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 1024 * 1024
"""The largest message Kodama reads (64 MiB, far above any source file an editor sends). A
frame that announces more is refused unread, with an error in the log: its bytes are skipped up
to the next frame's header, and the server keeps serving."""

CHUNK_BYTES = 1 << 16
"""How much the transport asks for per read."""

_HEADER = re.compile(
    rb"(content-length[ \t]*:[ \t]*(\d+)[ \t]*\r\n)(?:[^\r\n]{1,256}\r\n){0,8}\r\n", re.IGNORECASE)
"""A frame's header block from its ``Content-Length`` line (lines before it, such as a
``Content-Type``, are skipped like any other bytes). Valid JSON never contains it: raw line
breaks only occur between JSON tokens, and ``content-length`` is not one."""

_HEADER_MAX = 8 + len("content-length: ") + 20 + 9 * 258
"""More than the longest header block ``_HEADER`` matches: what is kept of unmatched bytes."""


class FrameReader:
    """Splits the bytes a client writes into its messages (top-level JSON objects).

    Whatever is not a well-formed frame is logged and skipped: the reader then looks for the
    next ``Content-Length`` header in what follows, so a lying header costs at most its own
    message. A frame whose body is still incomplete when a header appears inside it announced
    more than it sent: it is dropped at once instead of swallowing the next messages. Each
    dropped frame is given back as the error to answer it with (JSON-RPC: a ``ParseError`` or
    ``InvalidRequest`` with a null id, since its id cannot be known).
    """

    def __init__(self, limit: int = MAX_FRAME_BYTES) -> None:
        """A reader refusing frames over ``limit`` bytes."""
        self.limit = limit
        self._buffer = bytearray()
        self._searched = 0
        """Bytes of the buffer already searched for a header inside an incomplete body."""
        self._skipped = 0
        """Bytes dropped since the last frame (reported once a frame is found)."""
        self._out: list[dict[str, Any] | JsonRpcException] = []

    def feed(self, data: bytes) -> list[dict[str, Any] | JsonRpcException]:
        """The messages (or errors for the broken frames) that ``data`` completes, in order."""
        self._buffer += data
        while (found := self._next_frame()) is not None:
            line_end, start, length = found
            end = start + length
            if end > len(self._buffer):
                if not self._header_inside(line_end):
                    break  # wait for the rest of the body
                self._drop_header(line_end, JsonRpcParseError(
                    f"a message announced {length} bytes but the next one began before that"))
                continue
            message = _decode(bytes(self._buffer[start:end]))
            if isinstance(message, JsonRpcException):
                self._drop_header(line_end, message)
                continue
            del self._buffer[:end]
            self._searched = 0
            self._out.append(message)
        out, self._out = self._out, []
        return out

    def _next_frame(self) -> tuple[int, int, int] | None:
        """The end of its ``Content-Length`` line, the body start and the length of the first
        acceptable frame in the buffer, with everything before it dropped; None (keeping a
        possible partial header) if there is none."""
        while (match := _HEADER.search(self._buffer)) is not None:
            at = match.start()
            line_end, start = match.end(1) - at, match.end() - at
            digits = match.group(2).lstrip(b"0") or b"0"
            self._skip(at)
            if self._skipped:
                log.warning("skipped %d bytes that were not part of any message", self._skipped)
                self._skipped = 0
            if len(digits) <= len(str(self.limit)) and int(digits) <= self.limit:
                return line_end, start, int(digits)
            self._drop_header(line_end, JsonRpcParseError(
                f"refused a message of {digits.decode()} bytes (more than the "
                f"{self.limit >> 20} MiB limit): its bytes are skipped up to the next message"))
        self._skip(max(0, len(self._buffer) - _HEADER_MAX))
        return None

    def _header_inside(self, begin: int) -> bool:
        """Whether another header follows the current frame's first line (in its other header
        lines or its incomplete body)."""
        begin = max(begin, self._searched - _HEADER_MAX)
        self._searched = len(self._buffer)
        return _HEADER.search(self._buffer, begin) is not None

    def _drop_header(self, line_end: int, error: JsonRpcException) -> None:
        """Skip a bad frame's ``Content-Length`` line (the rest is then searched for the next
        header like any other bytes), and give back ``error``."""
        log.error("%s", error.message)
        del self._buffer[:line_end]
        self._searched = 0
        self._out.append(error)

    def _skip(self, count: int) -> None:
        """Drop the first ``count`` bytes (counted when they are not blank)."""
        if count:
            self._skipped += len(bytes(self._buffer[:count]).strip())
            del self._buffer[:count]
            self._searched = 0


def _decode(body: bytes) -> dict[str, Any] | JsonRpcException:
    """A frame's body as a JSON object, or the error that says what is wrong with it."""
    try:
        message = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return JsonRpcParseError(f"skipped a message that is not UTF-8 ({exc})")
    except RecursionError:
        return JsonRpcParseError("skipped a message of JSON nested too deeply")
    except ValueError as exc:
        return JsonRpcParseError(f"skipped a message that is not JSON ({exc})")
    if not isinstance(message, dict):
        return JsonRpcInvalidRequest(
            f"skipped a message that is a JSON {type(message).__name__}, not an object")
    return message


async def serve(protocol: KodamaWireProtocol, read: Callable[[], Awaitable[bytes]],
                stop: threading.Event) -> None:
    """Read messages with ``read`` (b"" at the end of the stream) and handle them until the
    stream ends or ``stop`` is set."""
    frames = FrameReader()
    while not stop.is_set():
        data = await read()
        if not data:
            break
        for message in frames.feed(data):
            protocol.receive(message)
    protocol.stop_sending()


def _reason(exc: BaseException) -> str:
    """What did not match the schema, in words."""
    cause = exc.__cause__ or exc
    if isinstance(cause, cattrs.ClassValidationError):
        return "; ".join(cattrs.transform_error(cause))
    return str(cause) or type(cause).__name__


def _valid_id(msg_id: Any) -> bool:
    return isinstance(msg_id, str) or (isinstance(msg_id, int) and not isinstance(msg_id, bool))


class _Unanswerable:
    """Stands in for a message that could not be read; the dispatcher ignores it."""

    jsonrpc = "invalid"


class KodamaWireProtocol(LanguageServerProtocol):
    """See the module docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """As pygls' protocol, also remembering the requests the server sends."""
        super().__init__(*args, **kwargs)
        self._sent: dict[Any, str] = {}
        """The id and method of each request sent to the client and not answered yet."""
        self._initialize_seen = self._initialized_seen = False
        self._silent = False
        """Set once the client has gone: nothing is sent any more."""

    def receive(self, data: dict[str, Any] | JsonRpcException) -> None:
        """Handle one top-level message, or answer a frame that could not be read with its
        error; a failure is logged, never raised."""
        if isinstance(data, JsonRpcException):
            self._answer_unknown(data)
            return
        try:
            message = self.structure_message(data)
            if not isinstance(message, _Unanswerable):
                self.handle_message(message)
        except Exception:
            log.exception("could not handle a message")

    def structure_message(self, data: dict[str, Any]) -> Any:
        """Parse one message; answer malformed requests with an error instead of dropping them,
        and fail the server's request that a malformed response answers."""
        if (problem := self._shape_problem(data)) is not None:
            self._refuse(data, JsonRpcInvalidRequest(problem))
            return _Unanswerable()
        if "params" not in data and "method" in data and self.get_message_type(
                data["method"]) is None:
            data = {**data, "params": None}  # optional; pygls' generic messages require it
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "method" in data:
                self._refuse(data, JsonRpcInvalidParams(
                    f"invalid parameters for {data['method']!r}: {_reason(exc)}"))
            elif "id" in data:
                self._fail_request(data["id"], _reason(exc))
            else:
                log.warning("ignored a message that is neither a request, a notification nor "
                            "a response: %s", _reason(exc))
            return _Unanswerable()

    def _shape_problem(self, data: dict[str, Any]) -> str | None:
        """Why ``data`` is not a JSON-RPC message Kodama can read, if it is not."""
        if data.get("jsonrpc") != "2.0" or ("method" in data and not isinstance(
                data["method"], str)) or ("id" in data and not _valid_id(data["id"])):
            return ('not a JSON-RPC 2.0 message: it needs "jsonrpc": "2.0", a string "method" '
                    "and an id that is a number or a string")
        kind = self.get_message_type(data["method"]) if "method" in data else None
        if "id" in data and kind is not None and "id" not in attrs.fields_dict(kind):
            return f"{data['method']!r} is a notification: it is sent without an id"
        return None

    def _refuse(self, data: dict[str, Any], error: JsonRpcException) -> None:
        """Answer a request that cannot be handled with ``error``; log anything else."""
        method = data.get("method")
        if "id" in data and "method" in data:
            log.warning("malformed %r request answered with an error: %s", method, error.message)
            if _valid_id(data["id"]):
                self._send_response(data["id"], None, error.to_response_error())
            else:
                self._answer_unknown(error)
        else:
            log.warning("malformed message ignored (%r): %s", method, error.message)

    def _answer_unknown(self, error: JsonRpcException) -> None:
        """Answer a request whose id cannot be read (JSON-RPC: with a null id)."""
        self._send_data({"jsonrpc": "2.0", "id": None,
                         "error": {"code": error.code, "message": error.message}})

    def _fail_request(self, msg_id: Any, reason: str) -> None:
        """Fail the server's request ``msg_id`` whose response could not be read."""
        method = self._sent.pop(msg_id, None)
        future = self._request_futures.pop(msg_id, None) if method is not None else None
        if future is None or future.done():
            log.warning("ignored a malformed response to an unknown request %r", msg_id)
            return
        log.warning("the client's answer to %s could not be read: %s", method, reason)
        future.set_exception(JsonRpcInvalidRequest(
            f"the client's answer to {method} was malformed: {reason}"))

    def send_request(self, method: str, params: Any | None = None,
                     callback: Callable[[Any], None] | None = None,
                     msg_id: Any = None) -> Future[Any]:
        """Send a request to the client, remembering it until it is answered."""
        msg_id = str(uuid.uuid4()) if msg_id is None else msg_id
        self._sent[msg_id] = method
        return super().send_request(method, params, callback, msg_id)

    def _handle_response(self, msg_id: Any, result: Any | None = None,
                         error: types.ResponseError | None = None) -> None:
        """Only answers to the server's own requests are responses (a client cannot complete
        one of its own requests by sending a "response" with its id)."""
        if self._sent.pop(msg_id, None) is None:
            log.warning("ignored a response to an unknown request %r", msg_id)
            return
        super()._handle_response(msg_id, result, error)

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        """Cancel one of the client's requests. The server's own requests are not the client's
        to cancel: a command waiting for a cancelled ``workspace/applyEdit`` never finished."""
        if msg_id in self._sent:
            log.warning("ignored $/cancelRequest for the server's own request %r", msg_id)
            return
        super()._handle_cancel_notification(msg_id)

    def handle_message(self, message: Any) -> None:
        """Dispatch as pygls does, except that a request after ``shutdown`` gets an
        ``InvalidRequest`` error (the LSP rule) instead of no answer at all."""
        if self._shutdown and isinstance(message, RPCRequest) and message.method != types.EXIT:
            log.warning("%r request after shutdown answered with an error", message.method)
            error = JsonRpcInvalidRequest(
                f"the server is shut down: {message.method!r} refused (only 'exit' is accepted)")
            self._send_response(message.id, None, error.to_response_error())
            return
        super().handle_message(message)

    def _run_generator(self, future: Any, *, gen: Generator[Any, Any, Any],
                       result_future: Future[Any]) -> None:
        """Run a handler's next step as pygls does, except when its request has ended: a step
        that was cancelled now cancels its request (pygls raised from this callback, and the
        request was never answered), and the outcome of a step whose request was cancelled
        meanwhile is collected (asyncio logged it as never retrieved)."""
        if future is not None and (future.cancelled() or result_future.done()):
            if not future.cancelled():
                future.exception()
            gen.close()
            result_future.cancel()
            return
        super()._run_generator(future, gen=gen, result_future=result_future)

    def stop_sending(self) -> None:
        """The client has gone (``exit``, or the end of the stream): answers to the requests
        still running, cancelled as the event loop closes, are not written (writing them to the
        closed stream failed, each failure logged with a longer traceback than the last)."""
        self._silent = True

    def _send_data(self, data: Any) -> None:
        if self._silent:
            log.debug("not sent, the client has gone: %s", type(data).__name__)
            return
        super()._send_data(data)

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> Generator[Any, Any, None]:
        """Exit as pygls does (status 0 after ``shutdown``, else 1), sending nothing more."""
        self.stop_sending()
        yield from super().lsp_exit(*args)

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> Generator[Any, Any, None]:
        """Shut down as pygls does, cancelling the requests still running (pygls changed the
        dictionary it walked: cancelling a request answers it, which removes it)."""
        if (handler := self.fm.features.get(types.SHUTDOWN)) is not None:
            yield handler, args, None
        current = self.msg_id
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current and not future.done():
                future.cancel()
        self._sent.clear()
        self._shutdown = True

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        """Initialise as pygls does, but always negotiate UTF-16 positions, and only once (a
        second ``initialize`` would re-root the workspace and reconfigure a running server)."""
        if self._initialize_seen:
            raise JsonRpcInvalidRequest(
                "the server is already initialized: 'initialize' may only be sent once")
        self._initialize_seen = True
        general = params.capabilities.general
        if general is not None:
            general.position_encodings = None
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        return result

    @lsp_method(types.INITIALIZED)
    def lsp_initialized(self, *args: Any) -> Generator[Any, Any, None]:
        """Start the server's work once, after ``initialize`` (pygls started it again for each
        ``initialized``: the model was loaded again every time)."""
        if self._initialized_seen or not self._initialize_seen:
            log.warning("ignored an 'initialized' notification: %s", "sent twice" if (
                self._initialized_seen) else "no 'initialize' came before it")
            return
        self._initialized_seen = True
        yield from self._user_handler(types.INITIALIZED, args[0] if args else None)

    def _user_handler(self, method: str, params: Any) -> Generator[Any, Any, None]:
        if (handler := self.fm.features.get(method)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(
        self, params: types.DidOpenTextDocumentParams
    ) -> Generator[Any, Any, None]:
        """Hand the document to Kodama's store only."""
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: types.DidChangeTextDocumentParams
    ) -> Generator[Any, Any, None]:
        """Hand the change to Kodama's store only."""
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(
        self, params: types.DidCloseTextDocumentParams
    ) -> Generator[Any, Any, None]:
        """Hand the close to Kodama's store only."""
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_CLOSE, params)
