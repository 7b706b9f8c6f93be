"""The Kodama language server: state, lifecycle, and the registration of every feature module."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import sys
import threading
from collections.abc import Callable
from typing import Any, BinaryIO

from lsprotocol import types
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer

from kodama.server import (
    code_actions,
    completion_menu,
    documents,
    hover,
    inline_completion,
    workspace,
)
from kodama.server.config import KodamaConfig, merge
from kodama.server.documents import DocumentStore
from kodama.server.generations import Explanations
from kodama.server.inflight import Flights
from kodama.server.model_host import ModelHost
from kodama.server.protocol import STATUS_NOTIFICATION, ModelStateName, StatusParams
from kodama.server.scheduler import Scheduler
from kodama.server.setup import convention_of
from kodama.server.typeahead import TypeAhead
from kodama.server.version import VERSION
from kodama.server.wire import CHUNK_BYTES, KodamaWireProtocol, serve
from kodama.server.work_done_progress import WorkDoneProgress
from kodama.server.workspace import LiveWorkspaceIndex

log = logging.getLogger(__name__)


class KodamaServer(LanguageServer):
    """pygls server holding Kodama's state; features live in their own modules."""

    protocol: KodamaWireProtocol

    def __init__(self, config: KodamaConfig, *, load_model: bool = True) -> None:
        """A server with ``config`` (initializationOptions may still change it)."""
        super().__init__("kodama", VERSION, protocol_cls=KodamaWireProtocol, max_workers=2)
        self.config = config
        self.documents = DocumentStore()
        self.scheduler = Scheduler()
        self.model = ModelHost(config.model, config.remote)
        self.load_model = load_model
        self.config_errors: list[str] = []
        """Problems found in initializationOptions, shown to the user once initialised."""
        self.typeahead = TypeAhead()
        self.flights = Flights()
        self.documents.on_close.append(self.scheduler.forget)
        self.documents.on_close.append(self.flights.stop)
        self.documents.on_close.append(self.typeahead.forget)
        self.documents.on_close.append(self._forget_cache)
        self.workspace_index = LiveWorkspaceIndex(self)
        """The workspace's index and the snippets it gives (``workspace`` is pygls's)."""
        self.explanations = Explanations(self)
        self._convention: str | None = None

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """Serve over stdin/stdout (as pygls does, with Kodama's frame reader: see ``wire``)."""
        source = stdin or sys.stdin.buffer
        read_some: Callable[[int], bytes] = getattr(source, "read1", source.read)
        self._stop_event = stop = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))

        async def read() -> bytes:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self.thread_pool, read_some, CHUNK_BYTES)

        status: int | str | None = None
        try:
            asyncio.run(serve(self.protocol, read, stop))
        except BrokenPipeError:
            log.error("the connection to the client is lost: shutting down")
        except SystemExit as exit_:  # ``exit``: 1 when no ``shutdown`` came first (LSP)
            status = exit_.code
        except KeyboardInterrupt:
            pass
        finally:
            self.shutdown()  # type: ignore[no-untyped-call]  # pygls: unannotated
        if status:
            raise SystemExit(status)

    def start_tcp(self, host: str, port: int) -> None:
        """Serve one client at a time on ``host:port`` (as pygls does, with Kodama's frame
        reader)."""
        self._stop_event = stop = threading.Event()

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.protocol.set_writer(writer)
            await serve(self.protocol, lambda: reader.read(CHUNK_BYTES), stop)
            self.shutdown()  # type: ignore[no-untyped-call]  # pygls: unannotated

        async def listen() -> None:
            self._server = await asyncio.start_server(connection, host, port)
            log.info("serving on %s:%s", host, port)
            async with self._server:
                await self._server.serve_forever()

        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(listen())

    def _forget_cache(self, uri: str) -> None:
        if self.model.engine is not None:
            self.model.engine.forget(uri)

    def docstring_convention(self) -> str:
        """The Python docstring convention to write: the configured one, or (``auto``) the one
        most of the indexed repository's docstrings follow, found once."""
        style = self.config.tasks.docstring_style
        if style != "auto":
            return style
        if self._convention is None:
            index = self.workspace_index.index
            if index is None or not self.workspace_index.indexed.is_set():
                return "google"  # not known yet: ask again once the index is built
            self._convention = convention_of(index)
        return self._convention

    def show(self, kind: types.MessageType, message: str) -> None:
        """A message for the user (a notification in the editor)."""
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def send_status(self, state: ModelStateName, message: str) -> None:
        """Tell the client about the model's state (``kodama/status``)."""
        params = StatusParams(state=state, message=message, model=self.config.model.name)
        self.protocol.notify(STATUS_NOTIFICATION, dataclasses.asdict(params))


def create_server(config: KodamaConfig, *, load_model: bool = True) -> KodamaServer:
    """A server with every feature registered."""
    server = KodamaServer(config, load_model=load_model)
    documents.register(server)
    inline_completion.register(server)
    completion_menu.register(server)
    hover.register(server)
    code_actions.register(server)
    workspace.register(server)

    @server.feature(types.INITIALIZE)
    def initialize(params: types.InitializeParams) -> None:
        server.workspace_index.set_root(params)
        server.model.root = server.workspace_index.root
        options: Any = params.initialization_options
        if options is None:
            return
        errors: list[str] = []
        if isinstance(options, dict):
            server.config = merge(server.config, options, errors)
            server.model.config = server.config.model
            server.model.remote_config = server.config.remote
        else:
            errors.append("initializationOptions must be an object")
        for error in errors:
            log.warning("configuration: %s", error)
        server.config_errors = errors

    @server.feature(types.INITIALIZED)
    def initialized(params: types.InitializedParams) -> None:
        for error in server.config_errors:
            server.show(types.MessageType.Warning, f"Kodama configuration: {error}")
        logging.getLogger("kodama").setLevel(server.config.log_level.upper())
        server.workspace_index.start(asyncio.get_running_loop())
        if server.load_model:
            start_model(server)
        else:
            server.model.state, server.model.message = "disabled", "model loading disabled"
            server.send_status("disabled", server.model.message)

    @server.feature(types.SHUTDOWN)
    def shutdown(params: None) -> None:
        server.workspace_index.shutdown()
        server.model.shutdown()

    return server


def start_model(server: KodamaServer) -> None:
    """Start loading the model in the background, with $/progress and ``kodama/status``."""
    loop = asyncio.get_running_loop()
    progress = WorkDoneProgress(server, loop)
    progress.begin("Kodama", f"loading {server.config.model.name}")

    def on_state(state: ModelStateName, message: str) -> None:
        def notify() -> None:
            server.send_status(state, message)
            if state == "error":
                server.show(types.MessageType.Error, f"Kodama: {message}")

        if state in ("ready", "error"):
            progress.end(message)
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(notify)

    server.model.start_loading(progress.report, on_state)
