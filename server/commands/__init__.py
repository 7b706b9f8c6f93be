"""The ``kodama`` commands: one module per command (or family), the parser and dispatch in
``cli``, their shared helpers in ``common``, the terminal progress writer in ``progress``, and
the scripted LSP client (``client``) that ``demo`` and the benchmarks drive the server with.

Commands never import the LSP feature modules (nor those them): what both sides need is in
``kodama.server.setup``, and ``kodama serve`` starts the server through ``kodama.server.serve``.
"""
