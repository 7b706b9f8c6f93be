"""Kodama language server: the pygls server with one module per LSP feature, the configuration,
what the server and the commands share (``setup``), and the ``kodama`` commands (``commands``).

:func:`serve` is the one way in from the commands: they never import the LSP modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kodama.server.config import KodamaConfig


def serve(config: KodamaConfig, *, load_model: bool = True, tcp: str | None = None) -> None:
    """Run the language server with ``config`` until the client exits: over stdin/stdout, or
    listening on ``tcp`` (``HOST:PORT``, the host 127.0.0.1 when left out)."""
    from kodama.server.app import create_server

    server = create_server(config, load_model=load_model)
    if tcp:
        host, _, port = tcp.rpartition(":")
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        server.start_io()
