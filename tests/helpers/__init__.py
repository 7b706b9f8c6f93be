"""Helpers shared by the test suites (importable as ``helpers`` once conftest has run)."""
