"""Tests for kodama.syntax.testlayout.detect: the bounded repository listing and test framework
detection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kodama.syntax.testlayout import detect, detect_framework

from .repo import POM_JUNIT4, POM_JUNIT5, UNITTEST_FILE, make


# ---------------------------------------------------------------------------- Python detection
def test_python_defaults_to_pytest(tmp_path: Path) -> None:
    make(tmp_path, {"pkg/__init__.py": "", "pkg/mod.py": "x = 1\n"})
    assert detect_framework(tmp_path, "python") == "pytest"


def test_python_unittest_when_tests_subclass_testcase(tmp_path: Path) -> None:
    make(tmp_path, {"tests/test_thing.py": UNITTEST_FILE, "setup.cfg": "[metadata]\nname = x\n"})
    assert detect_framework(tmp_path, "python") == "unittest"


@pytest.mark.parametrize(
    "files",
    [
        {"tests/conftest.py": "import os\n"},
        {"pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = ['tests']\n"},
        {"pyproject.toml": "[project]\nname = 'x'\n[project.optional-dependencies]\n"
                           "test = ['pytest>=7', 'coverage']\n"},
        {"pyproject.toml": "[dependency-groups]\ndev = ['pytest-cov']\n"},
        {"pyproject.toml": "[tool.poetry.group.dev.dependencies]\npytest = '^8.0'\n"},
        {"setup.cfg": "[tool:pytest]\naddopts = -q\n"},
        {"pytest.ini": "[pytest]\n"},
        {"tox.ini": "[pytest]\nminversion = 6\n"},
        {"requirements-dev.txt": "black\npytest==8.1\n"},
        {"requirements/test.txt": "pytest\n"},
        {"tests/test_other.py": "import pytest\n\n@pytest.fixture\ndef f():\n    return 1\n"},
        {"tests/test_other.py": "def test_plain():\n    assert 1 + 1 == 2\n"},
    ],
    ids=["conftest", "ini-options", "optional-deps", "dependency-groups", "poetry-group",
         "setup-cfg", "pytest-ini", "tox-ini", "requirements-dev", "requirements-dir",
         "import-pytest", "module-level-test-function"],
)
def test_python_pytest_signal_beats_testcase_classes(tmp_path: Path, files: dict[str, str]) -> None:
    make(tmp_path, {"tests/test_thing.py": UNITTEST_FILE, **files})
    assert detect_framework(tmp_path, "python") == "pytest"


@pytest.mark.parametrize(
    "files",
    [
        {"pyproject.toml": "[project]\nname = 'x'\ndependencies = ['requests', 'pytestify']\n"},
        {"requirements.txt": "requests\n# pytest is not used here\n"},
        {"README.md": "We do not use pytest.\n"},
    ],
    ids=["other-dependency", "comment", "readme"],
)
def test_python_non_signals_leave_unittest(tmp_path: Path, files: dict[str, str]) -> None:
    make(tmp_path, {"tests/test_thing.py": UNITTEST_FILE, **files})
    assert detect_framework(tmp_path, "python") == "unittest"


def test_ignored_and_skipped_folders_are_not_read(tmp_path: Path) -> None:
    make(tmp_path, {
        "tests/test_thing.py": UNITTEST_FILE,
        ".gitignore": "scratch/\n",
        "scratch/conftest.py": "",
        "node_modules/pkg/conftest.py": "",
        ".venv/lib/conftest.py": "",
        "build/conftest.py": "",
    })
    assert detect_framework(tmp_path, "python") == "unittest"
    make(tmp_path, {"other/conftest.py": ""})
    assert detect_framework(tmp_path, "python") == "pytest"


def test_walk_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make(tmp_path, {"tests/test_thing.py": UNITTEST_FILE, "z/deep/conftest.py": ""})
    make(tmp_path, {f"a{i}.txt": "" for i in range(10)})
    assert detect_framework(tmp_path, "python") == "pytest"
    monkeypatch.setattr(detect, "MAX_FILES", 11)  # root files + tests/, not z/
    assert detect_framework(tmp_path, "python") == "unittest"


# ---------------------------------------------------------------------------- other detection
@pytest.mark.parametrize(
    ("package", "expected"),
    [
        ({"devDependencies": {"jest": "^29"}}, "jest"),
        ({"devDependencies": {"ts-jest": "^29", "typescript": "^5"}}, "jest"),
        ({"devDependencies": {"vitest": "^1"}}, "vitest"),
        ({"devDependencies": {"mocha": "^10", "chai": "^4"}}, "mocha"),
        ({"scripts": {"test": "node --test test/"}}, "node:test"),
        ({"scripts": {"test": "vitest run"}, "devDependencies": {"jest": "^29"}}, "vitest"),
        ({"scripts": {"test": "mocha 'test/**/*.js'"}}, "mocha"),
        ({"dependencies": {"react": "^18"}}, "jest"),
    ],
)
def test_js_framework_from_package_json(
    tmp_path: Path, package: dict[str, object], expected: str
) -> None:
    make(tmp_path, {"package.json": json.dumps(package)})
    assert detect_framework(tmp_path, "javascript") == expected
    assert detect_framework(tmp_path, "typescriptreact") == expected  # LSP ids work too


def test_js_framework_from_config_file_without_package_json(tmp_path: Path) -> None:
    make(tmp_path, {"vitest.config.ts": "export default {}\n"})
    assert detect_framework(tmp_path, "typescript") == "vitest"


def test_go_and_rust(tmp_path: Path) -> None:
    assert detect_framework(tmp_path, "go") == "go"
    assert detect_framework(tmp_path, "rust") == "rust"



@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"pom.xml": POM_JUNIT5}, "junit5"),
        ({"pom.xml": POM_JUNIT4}, "junit4"),
        ({"build.gradle": "dependencies { testImplementation 'junit:junit:4.13.2' }\n"}, "junit4"),
        ({"build.gradle.kts": 'dependencies { testImplementation("org.junit.jupiter:'
                              'junit-jupiter:5.10.0") }\n'}, "junit5"),
        ({"src/test/java/a/ATest.java": "package a;\nimport org.junit.Test;\nclass ATest {}\n"},
         "junit4"),
        ({"README.md": "nothing\n"}, "junit5"),
    ],
    ids=["pom-jupiter", "pom-junit4", "gradle-junit4", "gradle-kts-jupiter", "test-import",
         "default"],
)
def test_java_framework(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    make(tmp_path, files)
    assert detect_framework(tmp_path, "java") == expected

