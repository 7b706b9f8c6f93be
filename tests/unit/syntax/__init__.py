"""Unit tests of kodama.syntax, mirroring syntax/."""
