"""Kodama language server: pygls server, one module per LSP feature, configuration, CLI."""
