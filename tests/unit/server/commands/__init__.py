"""Unit tests of kodama.server.commands."""
