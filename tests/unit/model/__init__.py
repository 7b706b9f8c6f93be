"""Unit tests of kodama.model, mirroring model/."""
