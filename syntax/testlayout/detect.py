"""Reading a repository: its bounded file listing and the test framework it uses.

This is the only module of the test layout that touches the file system.  :func:`scan` lists
at most :data:`MAX_FILES` files (shallow folders first, skipping ``.git``, dependencies,
virtual environments, build output and ``.gitignore``-d paths) into a :class:`Repository`,
whose methods are how the planners read files and ask whether paths exist.  Framework
detection reads configuration files and a sample of the existing tests; the evidence about
Python and JavaScript tests is shared with the planners (style hints, test placement).
Nothing is read through a symbolic link, and :func:`source_in` and :func:`check_target` keep
the code under test and the planned test file inside the repository.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from kodama.syntax.walk import inside, walk, within

from .common import (
    JS_LANGUAGES,
    Framework,
    OutsideRepositoryError,
    ancestors,
    base_name,
    join,
    language_id,
    parent_dir,
)

__all__ = [
    "JS_TEST_DIRS",
    "MAX_FILES",
    "MAX_READ",
    "MAX_SAMPLED_TESTS",
    "PyEvidence",
    "Repository",
    "as_dict",
    "check_target",
    "detect_framework",
    "framework_of",
    "is_py_test",
    "js_deps",
    "js_test_parts",
    "js_tests",
    "package_json",
    "python_evidence",
    "sample_js_tests",
    "scan",
    "source_in",
]

MAX_FILES = 2000
"""At most this many files of a repository are looked at (shallow folders first)."""

MAX_SAMPLED_TESTS = 100
"""At most this many existing test files are read for conventions."""

MAX_READ = 256 * 1024
"""Characters read from one file."""


# ------------------------------------------------------------------------------ repository
@dataclass(frozen=True)
class Repository:
    """A bounded listing of a repository (``/``-separated paths relative to :attr:`root`) and
    the reads the planners make in it (any path under the root, listed or not, that no
    symbolic link leads to)."""

    root: Path
    files: tuple[str, ...]
    dirs: frozenset[str]

    def named(self, *names: str) -> list[str]:
        """Files whose base name is one of *names*, shallow first."""
        wanted = set(names)
        return [f for f in self.files if base_name(f) in wanted]

    def at(self, rel: str) -> Path | None:
        """The path of *rel* (``""``: the root) when reaching it follows no symbolic link out
        of the repository (:func:`~kodama.syntax.walk.inside`), else None: a planner never
        reads, nor places a test, through a link."""
        return self.root if not rel else inside(self.root, rel)

    def read(self, rel: str) -> str:
        """The first :data:`MAX_READ` characters of *rel* (``""`` when it cannot be read)."""
        path = self.at(rel)
        if path is None:
            return ""
        try:
            with path.open(encoding="utf-8", errors="replace") as handle:
                return handle.read(MAX_READ)
        except OSError:
            return ""

    def is_file(self, rel: str) -> bool:
        path = self.at(rel)
        return path is not None and path.is_file()

    def is_dir(self, rel: str) -> bool:
        path = self.at(rel)
        return path is not None and path.is_dir()

    def glob(self, rel_dir: str, pattern: str) -> list[str]:
        """The paths in folder *rel_dir* matching *pattern*, sorted (links left out)."""
        folder = self.at(rel_dir)
        if folder is None:
            return []
        return [join(rel_dir, path.name) for path in sorted(folder.glob(pattern))
                if not path.is_symlink()]

    def nearest(self, source_dir: str, name: str) -> str | None:
        """The nearest file called *name* in *source_dir* or a folder above it."""
        files = set(self.files)
        for folder in ancestors(source_dir):
            rel = join(folder, name)
            if rel in files or self.is_file(rel):
                return rel
        return None


def scan(root: Path) -> Repository:
    """At most :data:`MAX_FILES` files of *root* (the repository walk: shallow folders first,
    ignore rules honoured, no links) and the folders the walk entered on the way."""
    files: list[str] = []
    dirs: set[str] = set()
    for found in walk(root, on_folder=dirs.add):
        files.append(found.path)
        if len(files) >= MAX_FILES:
            break
    return Repository(root, tuple(files), frozenset(dirs))


def source_in(root: Path, source: Path) -> str:
    """The repository-relative path of the absolute *source*; raises
    :class:`~kodama.syntax.testlayout.OutsideRepositoryError` when it is not inside *root* as
    the walk sees it (:func:`~kodama.syntax.walk.within`: no ``..`` out, no link on the way)."""
    rel = within(root, source)
    if rel is None:
        raise OutsideRepositoryError(
            f"{source} is not inside the repository {root} (or is reached through a symbolic "
            "link): tests are only generated for the repository's own files")
    return rel


def check_target(root: Path, path: Path) -> None:
    """Raise :class:`~kodama.syntax.testlayout.OutsideRepositoryError` unless writing the test
    file *path* stays inside *root*, checked on the file system as it is now: no ``..`` out,
    no symbolic link as the file or as any folder on the way
    (:func:`~kodama.syntax.walk.within`), and, when it exists, a regular file."""
    if within(root, path) is None:
        raise OutsideRepositoryError(
            f"the test file {path} would be outside the repository {root} (a symbolic link "
            "on the way leads out of it); nothing was written")
    if os.path.lexists(path) and not path.is_file():
        raise OutsideRepositoryError(
            f"the test file {path} exists but is not a regular file; nothing was written")


def package_json(repo: Repository, rel: str) -> dict[str, object]:
    """The object in the ``package.json`` at *rel* (``{}`` when unreadable)."""
    try:
        data = json.loads(repo.read(rel))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def as_dict(value: object) -> dict[str, object]:
    """*value* when it is a dict (a parsed JSON / TOML table), else ``{}``."""
    return value if isinstance(value, dict) else {}


# ------------------------------------------------------------------------------ frameworks
def detect_framework(root: Path, language: str) -> Framework:
    """The test framework *root*'s repository uses for *language* (a Kodama or LSP id).

    Python: ``pytest`` or ``unittest`` (default ``pytest``); JavaScript/TypeScript: ``vitest``,
    ``jest``, ``mocha`` or ``node:test`` (default ``jest``); Go: ``go``; Rust: ``rust``; Java:
    ``junit5`` or ``junit4`` (default ``junit5``).  Raises
    :class:`~kodama.syntax.testlayout.UnsupportedLanguageError`.
    """
    lang = language_id(language)
    return framework_of(scan(root.resolve()), lang, "")


def framework_of(repo: Repository, lang: str, source_dir: str) -> Framework:
    """The framework of *repo* for Kodama language *lang*, for code in *source_dir* (the
    nearest ``package.json`` / build file wins)."""
    if lang == "python":
        evidence = python_evidence(repo)
        return "unittest" if evidence.unittest and not evidence.pytest else "pytest"
    if lang in JS_LANGUAGES:
        return _js_framework(repo, source_dir)
    if lang == "go":
        return "go"
    if lang == "rust":
        return "rust"
    return _java_framework(repo, source_dir)


# ---- Python
_REQ_PYTEST = re.compile(r"^\s*[\"']?pytest(?![\w.])", re.M)
_PYTEST_USE = re.compile(r"^\s*(?:import\s+pytest\b|from\s+pytest\b)|@pytest\.|\bpytest\.", re.M)
_MODULE_TEST_FN = re.compile(r"^(?:async\s+)?def\s+test\w*\s*\(", re.M)
_TESTCASE_CLASS = re.compile(r"^class\s+\w+\s*\([^)]*\w*TestCase\b[^)]*\)\s*:", re.M)
_PLAIN_TEST_CLASS = re.compile(r"^class\s+Test\w*\s*(?:\(\s*(?:object)?\s*\))?\s*:", re.M)
_PY_TEST_NAME = re.compile(r"^(?:test_\w+|\w+_test)\.py$")


def is_py_test(rel: str) -> bool:
    """Whether *rel* is named like a Python test file."""
    return _PY_TEST_NAME.match(base_name(rel)) is not None


@dataclass(frozen=True)
class PyEvidence:
    """What a repository's configuration and Python tests say about its conventions."""

    pytest: bool
    unittest: bool
    classes: bool
    """Existing tests mostly live in classes."""
    testcase_classes: bool
    """Existing tests mostly subclass ``unittest.TestCase``."""
    fixtures: bool
    parametrize: bool
    suffix_naming: bool
    """Existing test files mostly use ``<name>_test.py``."""


def _depends_on_pytest(data: object, in_deps: bool = False) -> bool:
    """Whether a parsed TOML document lists pytest under a ``*depend*`` key."""
    if isinstance(data, dict):
        for key, value in data.items():
            deps = in_deps or "depend" in str(key)
            if (deps and _REQ_PYTEST.match(str(key))) or _depends_on_pytest(value, deps):
                return True
    elif isinstance(data, list):
        return any(_depends_on_pytest(item, in_deps) for item in data)
    elif isinstance(data, str):
        return in_deps and _REQ_PYTEST.match(data) is not None
    return False


def _pyproject_uses_pytest(text: str) -> bool:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return re.search(r"^\[tool\.pytest", text, re.M) is not None
    tool = data.get("tool")
    if isinstance(tool, dict) and "pytest" in tool:
        return True
    return _depends_on_pytest(data)


def _python_config_uses_pytest(repo: Repository) -> bool:
    if repo.named("conftest.py", "pytest.ini"):
        return True
    for rel in repo.named("pyproject.toml"):
        if _pyproject_uses_pytest(repo.read(rel)):
            return True
    for rel in repo.named("setup.cfg"):
        text = repo.read(rel)
        if re.search(r"^\[tool:pytest\]", text, re.M) or _REQ_PYTEST.search(text):
            return True
    for rel in repo.named("tox.ini"):
        if re.search(r"\bpytest\b", repo.read(rel)):
            return True
    for rel in repo.files:
        name = base_name(rel)
        requirements = ("requirements" in name and name.endswith((".txt", ".in"))) or (
            "requirements/" in rel and name.endswith((".txt", ".in"))
        )
        if (requirements or name == "Pipfile") and _REQ_PYTEST.search(repo.read(rel)):
            return True
    return False


def python_evidence(repo: Repository) -> PyEvidence:
    """The conventions of *repo*'s Python tests (a sample of them) and configuration."""
    tests = [f for f in repo.files if is_py_test(f)]
    sampled = [repo.read(f) for f in tests[:MAX_SAMPLED_TESTS]]
    pytest_used = any(_PYTEST_USE.search(t) or _MODULE_TEST_FN.search(t) for t in sampled)
    testcase = [t for t in sampled if _TESTCASE_CLASS.search(t)]
    plain_classes = [t for t in sampled if _PLAIN_TEST_CLASS.search(t)]
    functions = [
        t for t in sampled if _MODULE_TEST_FN.search(t) and not _PLAIN_TEST_CLASS.search(t)
    ]
    classes = len(testcase) + len(plain_classes) > len(functions)
    suffix = sum(1 for f in tests if base_name(f).endswith("_test.py"))
    return PyEvidence(
        pytest=pytest_used or _python_config_uses_pytest(repo),
        unittest=bool(testcase),
        classes=classes,
        testcase_classes=len(testcase) > len(plain_classes) + len(functions),
        fixtures=any("@pytest.fixture" in t for t in sampled),
        parametrize=any("pytest.mark.parametrize" in t for t in sampled),
        suffix_naming=suffix * 2 > len(tests),
    )


# ---- JavaScript / TypeScript
JS_TEST_DIRS = ("test", "tests", "spec")
"""Folders that hold JavaScript / TypeScript tests (besides ``__tests__``)."""

_JS_EXTENSIONS = (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts")
_JS_TEST_NAME = re.compile(r"^(?P<stem>.+)\.(?P<kind>test|spec)\.(?P<ext>[cm]?[jt]sx?)$")


def js_test_parts(rel: str) -> tuple[str, str, str] | None:
    """(stem, kind ``test``/``spec``/``""``, placement ``colocated``/``__tests__``/``dir``) of
    a JS/TS test file, or None."""
    name = base_name(rel)
    if name.endswith(".d.ts") or not name.endswith(_JS_EXTENSIONS):
        return None
    folders = parent_dir(rel).split("/")
    if "__tests__" in folders:
        placement = "__tests__"
    elif any(f in JS_TEST_DIRS for f in folders):
        placement = "dir"
    else:
        placement = "colocated"
    match = _JS_TEST_NAME.match(name)
    if match is not None:
        return match["stem"], match["kind"], placement
    if placement == "colocated" or name.endswith((".config.js", ".config.ts")):
        return None
    return name.rsplit(".", 1)[0], "", placement


def js_tests(repo: Repository) -> list[str]:
    """The JavaScript / TypeScript test files of *repo*."""
    return [f for f in repo.files if js_test_parts(f) is not None]


def sample_js_tests(repo: Repository) -> list[str]:
    """The texts of the first :data:`MAX_SAMPLED_TESTS` JavaScript / TypeScript tests."""
    return [repo.read(f) for f in js_tests(repo)[:MAX_SAMPLED_TESTS]]


def js_deps(pkg: dict[str, object]) -> set[str]:
    """Every package a ``package.json`` depends on (dev, peer and runtime)."""
    return {
        str(name)
        for key in ("devDependencies", "dependencies", "peerDependencies")
        for name in as_dict(pkg.get(key))
    }


def _js_from_script(script: str) -> Framework | None:
    names: tuple[Framework, ...] = ("vitest", "jest", "mocha")
    for name in names:
        if re.search(rf"(?<![\w-]){name}(?![\w])", script):
            return name
    if re.search(r"\bnode\b[^&|;]*\s--test\b", script):
        return "node:test"
    return None


def _js_from_package(pkg: dict[str, object]) -> Framework | None:
    scripts = as_dict(pkg.get("scripts"))
    test = scripts.get("test")
    if isinstance(test, str) and (found := _js_from_script(test)) is not None:
        return found
    deps = js_deps(pkg)
    if "vitest" in deps:
        return "vitest"
    if deps & {"jest", "ts-jest", "babel-jest", "@jest/globals", "@types/jest", "jest-cli"}:
        return "jest"
    if "mocha" in deps:
        return "mocha"
    for script in scripts.values():
        if isinstance(script, str) and (found := _js_from_script(script)) is not None:
            return found
    return None


def _js_framework(repo: Repository, source_dir: str) -> Framework:
    nearest = repo.nearest(source_dir, "package.json")
    candidates = ([nearest] if nearest else []) + [
        rel for rel in repo.named("package.json") if rel != nearest
    ]
    for rel in candidates:
        found = _js_from_package(package_json(repo, rel))
        if found is not None:
            return found
    for rel in repo.files:
        name = base_name(rel)
        if name.startswith("vitest.config.") or name.startswith("vitest.workspace."):
            return "vitest"
        if name.startswith("jest.config."):
            return "jest"
        if name.startswith(".mocharc"):
            return "mocha"
    for text in sample_js_tests(repo):
        if re.search(r"""from\s+['"]vitest['"]""", text):
            return "vitest"
        if re.search(r"""['"]node:test['"]""", text):
            return "node:test"
    return "jest"


# ---- Java
_JUNIT5 = re.compile(r"org\.junit\.jupiter|spring-boot-starter-test|junit-jupiter")
_JUNIT4 = re.compile(
    r"junit:junit|<groupId>\s*junit\s*</groupId>|import\s+org\.junit\.(?:Test|Assert|Before)\b"
)


def _java_framework(repo: Repository, source_dir: str) -> Framework:
    builds = ("pom.xml", "build.gradle", "build.gradle.kts")
    nearest = [
        join(folder, name) for folder in ancestors(source_dir) for name in builds
        if repo.is_file(join(folder, name))
    ]
    texts = [repo.read(rel) for rel in nearest]
    texts += [repo.read(rel) for rel in repo.named(*builds) if rel not in nearest]
    tests = [f for f in repo.files if f.endswith(".java") and _is_java_test(f)]
    texts += [repo.read(rel) for rel in tests[:MAX_SAMPLED_TESTS]]
    if any(_JUNIT5.search(t) for t in texts):
        return "junit5"
    if any(_JUNIT4.search(t) for t in texts):
        return "junit4"
    return "junit5"


def _is_java_test(rel: str) -> bool:
    stem = base_name(rel)[: -len(".java")]
    return "/src/test/" in f"/{rel}" or stem.endswith(("Test", "Tests")) or stem.startswith(
        "Test"
    )
