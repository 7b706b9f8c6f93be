"""Tests for kodama.syntax.testlayout, one module per part of the package."""
