"""Unit tests of kodama.server (the LSP side and what it shares with the commands)."""
