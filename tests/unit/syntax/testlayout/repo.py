"""Repositories on disk and the plans the test-layout tests share."""

from __future__ import annotations

import textwrap
from pathlib import Path

from kodama.syntax.testlayout import TestPlan, plan_tests


def make(root: Path, files: dict[str, str]) -> Path:
    """Write *files* (repository-relative path → text, dedented) under *root*."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def dedent(text: str) -> str:
    """*text* dedented, without its leading newline."""
    return textwrap.dedent(text).lstrip("\n")


UNITTEST_FILE = """\
    import unittest

    class TestThing(unittest.TestCase):
        def test_it(self):
            self.assertEqual(1, 1)
"""

POM_JUNIT4 = """\
    <project><dependencies><dependency>
      <groupId>junit</groupId><artifactId>junit</artifactId><version>4.13.2</version>
    </dependency></dependencies></project>
"""
POM_JUNIT5 = """\
    <project><dependencies><dependency>
      <groupId>org.junit.jupiter</groupId><artifactId>junit-jupiter</artifactId>
    </dependency></dependencies></project>
"""

EXISTING_PY = '''\
"""Tests for pkg.mod."""

import pytest

from pkg.mod import Foo


def test_old():
    assert Foo()
'''



def python_plan(tmp_path: Path, framework: str = "pytest") -> TestPlan:
    """The plan for the tests of ``Foo`` in a small package (with unittest tests when asked)."""
    files = {"pkg/__init__.py": "", "pkg/mod.py": "class Foo:\n    pass\n"}
    if framework == "unittest":
        files["tests/test_thing.py"] = UNITTEST_FILE
    make(tmp_path, files)
    return plan_tests(tmp_path, tmp_path / "pkg/mod.py", "python", "Foo")

