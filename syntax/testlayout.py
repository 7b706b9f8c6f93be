"""Where generated tests go: test framework, test file, imports, and merging (pure).

The repository half of the "Generate tests" code action; no model is involved.

* :func:`detect_framework` reads a bounded sample of a repository (configuration files and
  existing tests, at most :data:`MAX_FILES` files, skipping ``.git``, dependencies, virtual
  environments, build output and ``.gitignore``-d paths) and names its test framework.
* :func:`plan_tests` decides where the tests of one symbol go and what they need: a
  :class:`TestPlan` with the test file, whether it exists, the header a new file starts with,
  the import lines, how the code under test is imported, and a one- or two-sentence style hint
  for the prompt.
* :func:`merge` (the resulting text) and :func:`merge_edits` (text and edits) put generated
  test code into the new or existing test file: import lines of the generated code are hoisted
  into the file's import block and de-duplicated against the imports already there (by bound
  name where the statement can be read, by text otherwise); the rest is appended (Python: two
  blank lines before it, and before a trailing ``if __name__ == "__main__":`` block; other
  languages: one blank line), or, for Rust and existing Java test classes, inserted before the
  closing brace of the test module / class.

Layouts, per language:

* **Python** — an existing ``test_<module>.py`` (or ``<module>_test.py``) anywhere in the
  repository whose folders agree with the module's path wins.  Otherwise: next to the source
  when test files already sit there; else in the nearest ``tests/`` or ``test/`` folder (its
  ``unit/`` sub-folder when that holds tests), mirroring the package path when that folder has
  test files in sub-folders (``src/pkg/sub/mod.py`` → ``tests/sub/test_mod.py``, keeping the
  top-level package folder only when the tests folder has one); else next to the source when the
  repository keeps tests next to code; else ``<root>/tests/``.  The ``*_test.py`` naming is used
  when most existing test files use it.  The module's dotted name follows the ``__init__.py``
  chain (a ``src/`` folder, namespace packages and top-level files are handled).
* **JavaScript / TypeScript** — the test sits where most existing tests sit (next to the
  source, in a ``__tests__`` folder, or in a ``test/``/``tests/`` folder), named
  ``<name>.test.<ext>`` or ``<name>.spec.<ext>`` as most existing tests are, with the source's
  extension.  The import specifier is relative, without extension unless existing relative
  imports carry one (or the package is ``"type": "module"`` JavaScript / ``.mjs``), and the
  import syntax (ESM / CommonJS), quotes and semicolons follow the existing tests and source.
* **Go** — ``<file>_test.go`` next to the source, in the source's package (or the ``_test``
  package when the folder's existing tests all use it), importing ``testing``.
* **Rust** — unit tests in the source file itself: an existing inline ``mod tests { … }``
  (:attr:`TestPlan.insert_offset` is where new tests go, before its closing brace) or a new
  ``#[cfg(test)] mod tests { use super::*; … }`` appended to the file.  A ``mod tests;``
  declared out of line sends the tests to that module's file.
* **Java** — Maven/Gradle ``src/main/java/x/y/Foo.java`` → ``src/test/java/x/y/FooTest.java``
  (``test/`` beside ``src/`` for the older layout, else next to the source), same package.
* **C / C++** have no standard test layout: :class:`UnsupportedLanguageError`.

Offsets (:attr:`TestPlan.insert_offset`, :class:`Edit`) are ``str`` indices (code points).
Parsing uses tree-sitter; :class:`~kodama.syntax.languages.GrammarUnavailableError` propagates
when a grammar cannot be loaded.
"""

from __future__ import annotations

import ast
import json
import os
import re
import textwrap
import tomllib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import tree_sitter

from kodama.syntax.ignore import Ignorer

from . import languages

__all__ = [
    "FRAMEWORKS",
    "MAX_FILES",
    "SUPPORTED_LANGUAGES",
    "Edit",
    "Framework",
    "Merged",
    "TestPlan",
    "UnsupportedLanguageError",
    "apply_edits",
    "detect_framework",
    "merge",
    "merge_edits",
    "plan_tests",
]

Framework = Literal[
    "pytest", "unittest", "jest", "vitest", "mocha", "node:test", "go", "rust", "junit4", "junit5"
]
"""A test framework :func:`detect_framework` can name."""

FRAMEWORKS: tuple[Framework, ...] = get_args(Framework)

SUPPORTED_LANGUAGES = ("python", "javascript", "typescript", "tsx", "go", "rust", "java")
"""Kodama language ids :func:`plan_tests` supports (LSP ids such as ``typescriptreact`` too)."""

MAX_FILES = 2000
"""At most this many files of a repository are looked at (shallow folders first)."""

MAX_SAMPLED_TESTS = 100
"""At most this many existing test files are read for conventions."""

MAX_READ = 256 * 1024
"""Characters read from one file."""

_JS_LANGUAGES = frozenset({"javascript", "typescript", "tsx"})
_JS_EXTENSIONS = (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts")
_JS_TEST_NAME = re.compile(r"^(?P<stem>.+)\.(?P<kind>test|spec)\.(?P<ext>[cm]?[jt]sx?)$")
_JS_TEST_DIRS = ("test", "tests", "spec")
_GENERIC_TEST_DIRS = frozenset({
    "test", "tests", "__tests__", "spec", "unit", "unittests", "unit_tests", "integration",
    "functional", "e2e", "src", "lib",
})
"""Folder names that say nothing about which module a test file tests."""


class UnsupportedLanguageError(ValueError):
    """Test generation does not support this language."""

    def __init__(self, language: str) -> None:
        super().__init__(
            f"generating tests is not supported for {language!r}: supported languages are "
            + ", ".join(SUPPORTED_LANGUAGES)
        )
        self.language = language


@dataclass(frozen=True)
class TestPlan:
    """Where the tests of one symbol go and what they need (see :func:`plan_tests`)."""

    __test__ = False  # not a pytest test class

    framework: Framework
    language: str
    """Kodama language id of the test file (``python``, ``typescript``, …)."""
    path: Path
    """Absolute path of the test file (for Rust usually the source file itself)."""
    exists: bool
    header: str
    """What a new test file starts with: package clause, framework and code-under-test imports
    (``\\n``-terminated).  Rust: the opening lines of a new ``#[cfg(test)] mod tests {`` (its
    ``}`` is added by :func:`merge`), ``""`` when an inline test module exists, ``use
    super::*;`` for an out-of-line test module file."""
    imports: tuple[str, ...]
    """Import lines the tests need (added to an existing file when missing)."""
    module: str
    """How the code under test is reached: Python dotted module, JS/TS relative specifier, Go
    package name, Rust ``super``, Java package (``""`` for the default package)."""
    style_hint: str
    """One or two sentences on the conventions, for the prompt."""
    insert_offset: int | None = None
    """Rust: offset in the source text where items go inside its existing inline test module
    (the start of the line of its closing brace); None otherwise.  :func:`merge` finds the
    module again in the text it is given, so a stale offset does no harm."""


@dataclass(frozen=True)
class Edit:
    """Replace ``existing[start:end]`` with :attr:`text`."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Merged:
    """The result of :func:`merge`."""

    text: str
    """The whole test file afterwards."""
    edits: tuple[Edit, ...]
    """Non-overlapping edits of the existing text, in order (one covering everything for a new
    file): ``apply_edits(existing or "", edits) == text``."""


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping *edits* (offsets into *text*) to *text*."""
    out: list[str] = []
    cursor = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start < cursor:
            raise ValueError(f"overlapping edit at {edit.start}")
        out.append(text[cursor : edit.start])
        out.append(edit.text)
        cursor = edit.end
    out.append(text[cursor:])
    return "".join(out)


# ------------------------------------------------------------------------------ repository
@dataclass(frozen=True)
class _Repo:
    """A bounded listing of a repository (``/``-separated paths relative to :attr:`root`)."""

    root: Path
    files: tuple[str, ...]
    dirs: frozenset[str]

    def named(self, *names: str) -> list[str]:
        """Files whose base name is one of *names*, shallow first."""
        wanted = set(names)
        return [f for f in self.files if _base(f) in wanted]

    def read(self, rel: str) -> str:
        return _read(self.root / rel)


def _base(rel: str) -> str:
    return rel.rsplit("/", 1)[-1]


def _dir(rel: str) -> str:
    return rel.rsplit("/", 1)[0] if "/" in rel else ""


def _join(*parts: str) -> str:
    return "/".join(p for p in parts if p)


def _ancestors(rel_dir: str) -> Iterator[str]:
    """*rel_dir*, its parent, …, ``""`` (the root)."""
    while True:
        yield rel_dir
        if not rel_dir:
            return
        rel_dir = _dir(rel_dir)


def _read(path: Path) -> str:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return handle.read(MAX_READ)
    except OSError:
        return ""


def _scan(root: Path) -> _Repo:
    """At most :data:`MAX_FILES` files of *root*, breadth first, honouring ``.gitignore``."""
    ignorer = Ignorer(root)
    files: list[str] = []
    dirs: set[str] = set()
    pending = [""]
    while pending and len(files) < MAX_FILES:
        folder = pending.pop(0)
        try:
            with os.scandir(root / folder if folder else root) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            rel = _join(folder, entry.name)
            try:
                if entry.is_symlink():
                    continue
                if entry.is_dir():
                    if not ignorer.skipped_dir(entry.name, Path(entry.path)) and not (
                        ignorer.verdict(rel, True)
                    ):
                        dirs.add(rel)
                        pending.append(rel)
                elif entry.is_file() and not ignorer.verdict(rel, False):
                    files.append(rel)
                    if len(files) >= MAX_FILES:
                        break
            except OSError:
                continue
    return _Repo(root, tuple(files), frozenset(dirs))


def _language_id(language: str) -> str:
    spec = languages.detect("", language)
    if spec is None or spec.id not in SUPPORTED_LANGUAGES:
        raise UnsupportedLanguageError(language)
    return spec.id


def _relative(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        raise ValueError(f"{path} is not inside the repository {root}") from None


def _majority(counter: Counter[str], default: str) -> str:
    if not counter:
        return default
    best = max(counter.values())
    return next(k for k, v in counter.items() if v == best)


# ------------------------------------------------------------------------------ frameworks
def detect_framework(root: Path, language: str) -> Framework:
    """The test framework *root*'s repository uses for *language* (a Kodama or LSP id).

    Python: ``pytest`` or ``unittest`` (default ``pytest``); JavaScript/TypeScript: ``vitest``,
    ``jest``, ``mocha`` or ``node:test`` (default ``jest``); Go: ``go``; Rust: ``rust``; Java:
    ``junit5`` or ``junit4`` (default ``junit5``).  Raises :class:`UnsupportedLanguageError`.
    """
    lang = _language_id(language)
    return _detect(_scan(root.resolve()), lang, "")


def _detect(repo: _Repo, lang: str, source_dir: str) -> Framework:
    if lang == "python":
        evidence = _python_evidence(repo)
        return "unittest" if evidence.unittest and not evidence.pytest else "pytest"
    if lang in _JS_LANGUAGES:
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


def _is_py_test(rel: str) -> bool:
    return _PY_TEST_NAME.match(_base(rel)) is not None


@dataclass(frozen=True)
class _PyEvidence:
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


def _python_config_uses_pytest(repo: _Repo) -> bool:
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
        name = _base(rel)
        requirements = ("requirements" in name and name.endswith((".txt", ".in"))) or (
            "requirements/" in rel and name.endswith((".txt", ".in"))
        )
        if (requirements or name == "Pipfile") and _REQ_PYTEST.search(repo.read(rel)):
            return True
    return False


def _python_evidence(repo: _Repo) -> _PyEvidence:
    tests = [f for f in repo.files if _is_py_test(f)]
    sampled = [repo.read(f) for f in tests[:MAX_SAMPLED_TESTS]]
    pytest_used = any(_PYTEST_USE.search(t) or _MODULE_TEST_FN.search(t) for t in sampled)
    testcase = [t for t in sampled if _TESTCASE_CLASS.search(t)]
    plain_classes = [t for t in sampled if _PLAIN_TEST_CLASS.search(t)]
    functions = [
        t for t in sampled if _MODULE_TEST_FN.search(t) and not _PLAIN_TEST_CLASS.search(t)
    ]
    classes = len(testcase) + len(plain_classes) > len(functions)
    suffix = sum(1 for f in tests if _base(f).endswith("_test.py"))
    return _PyEvidence(
        pytest=pytest_used or _python_config_uses_pytest(repo),
        unittest=bool(testcase),
        classes=classes,
        testcase_classes=len(testcase) > len(plain_classes) + len(functions),
        fixtures=any("@pytest.fixture" in t for t in sampled),
        parametrize=any("pytest.mark.parametrize" in t for t in sampled),
        suffix_naming=suffix * 2 > len(tests),
    )


# ---- JavaScript / TypeScript
def _package_json(repo: _Repo, rel: str) -> dict[str, object]:
    try:
        data = json.loads(repo.read(rel))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _dict(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _js_deps(pkg: dict[str, object]) -> set[str]:
    return {
        str(name)
        for key in ("devDependencies", "dependencies", "peerDependencies")
        for name in _dict(pkg.get(key))
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
    scripts = _dict(pkg.get("scripts"))
    test = scripts.get("test")
    if isinstance(test, str) and (found := _js_from_script(test)) is not None:
        return found
    deps = _js_deps(pkg)
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


def _nearest(repo: _Repo, source_dir: str, name: str) -> str | None:
    """The nearest file called *name* in *source_dir* or a folder above it."""
    files = set(repo.files)
    for folder in _ancestors(source_dir):
        rel = _join(folder, name)
        if rel in files or (repo.root / rel).is_file():
            return rel
    return None


def _js_framework(repo: _Repo, source_dir: str) -> Framework:
    nearest = _nearest(repo, source_dir, "package.json")
    candidates = ([nearest] if nearest else []) + [
        rel for rel in repo.named("package.json") if rel != nearest
    ]
    for rel in candidates:
        found = _js_from_package(_package_json(repo, rel))
        if found is not None:
            return found
    for rel in repo.files:
        name = _base(rel)
        if name.startswith("vitest.config.") or name.startswith("vitest.workspace."):
            return "vitest"
        if name.startswith("jest.config."):
            return "jest"
        if name.startswith(".mocharc"):
            return "mocha"
    for text in _sample_js_tests(repo):
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


def _java_framework(repo: _Repo, source_dir: str) -> Framework:
    builds = ("pom.xml", "build.gradle", "build.gradle.kts")
    nearest = [
        _join(folder, name) for folder in _ancestors(source_dir) for name in builds
        if (repo.root / folder / name).is_file()
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
    stem = _base(rel)[: -len(".java")]
    return "/src/test/" in f"/{rel}" or stem.endswith(("Test", "Tests")) or stem.startswith(
        "Test"
    )


# ------------------------------------------------------------------------------ planning
def plan_tests(root: Path, source: Path, language: str, symbol: str) -> TestPlan:
    """Where the tests of *symbol* (``name``, or ``Class.method``) in *source* go.

    *source* is absolute or relative to *root*; *language* is a Kodama or LSP language id.
    Raises :class:`UnsupportedLanguageError` (C, C++, unknown languages) and ``ValueError``
    when *source* is outside *root*.
    """
    lang = _language_id(language)
    root = root.resolve()
    source = (source if source.is_absolute() else root / source).resolve()
    rel = _relative(root, source)
    repo = _scan(root)
    framework = _detect(repo, lang, _dir(rel))
    if lang == "python":
        return _plan_python(repo, source, rel, symbol, framework)
    if lang in _JS_LANGUAGES:
        return _plan_js(repo, source, rel, lang, symbol, framework)
    if lang == "go":
        return _plan_go(repo, source, rel)
    if lang == "rust":
        return _plan_rust(source)
    return _plan_java(repo, source, rel, framework)


def _import_name(symbol: str) -> str:
    """The name to import for *symbol*: ``Class`` for ``Class.method`` / ``Class::method``."""
    return re.split(r"\.|::|#", symbol.strip(), maxsplit=1)[0]


def _test_dirs_with(tests: Sequence[str]) -> set[str]:
    """Every folder that holds one of *tests*, directly or below."""
    out: set[str] = set()
    for rel in tests:
        out.update(a for a in _ancestors(_dir(rel)) if a)
    return out


def _find_test_dir(
    repo: _Repo,
    tests: Sequence[str],
    source_dir: str,
    names: Sequence[str],
    any_folder: bool = False,
) -> str | None:
    """The nearest folder named one of *names* in *source_dir* or above that holds one of
    *tests* (with *any_folder*: that exists)."""
    pool = repo.dirs if any_folder else _test_dirs_with(tests)
    for folder in _ancestors(source_dir):
        for name in names:
            if _join(folder, name) in pool:
                return _join(folder, name)
    return None


def _place_in_test_dir(
    repo: _Repo,
    tests: Sequence[str],
    test_dir: str,
    rel_parts: Sequence[str],
    droppable: frozenset[str],
) -> str:
    """The folder for a new test under *test_dir*: its ``unit/`` sub-folder when that holds
    tests; then, when the test folder keeps tests in sub-folders, mirroring *rel_parts*: the
    longest tail of them that exists there, else all of them less the leading *droppable*
    folders the test folder lacks."""
    holding = _test_dirs_with(tests)
    if _join(test_dir, "unit") in holding:
        test_dir = _join(test_dir, "unit")
    mirrored = any(
        t.startswith(test_dir + "/") and "/" in t[len(test_dir) + 1 :] for t in tests
    )
    if not mirrored:
        return test_dir
    for i in range(len(rel_parts)):  # the longest tail of the path the tests already mirror
        if _join(test_dir, *rel_parts[i:]) in repo.dirs:
            return _join(test_dir, *rel_parts[i:])
    parts = list(rel_parts)
    while parts and parts[0] in droppable and _join(test_dir, parts[0]) not in repo.dirs:
        parts.pop(0)
    return _join(test_dir, *parts)


def _existing_test(
    candidates: Iterable[str], source_parts: Sequence[str], preferred: str
) -> str | None:
    """The best of *candidates* (tests named for the module): its folders (generic ones
    aside) must all appear among *source_parts*; more shared folders win, then *preferred*
    (the computed location), then the shortest path."""
    wanted = set(source_parts)
    best: tuple[int, int, int, str] | None = None
    for rel in candidates:
        parts = [p for p in _dir(rel).split("/") if p and p not in _GENERIC_TEST_DIRS]
        if not set(parts) <= wanted:
            continue
        key = (-len(parts), 0 if rel == preferred else 1, rel.count("/"), rel)
        if best is None or key < best:
            best = key
    return None if best is None else best[3]


# ---- Python
@dataclass(frozen=True)
class _PyModule:
    dotted: str
    packages: tuple[str, ...]
    """Package names from the import root down to the module's package."""
    import_root: str
    """The repository folder that must be on ``sys.path`` (``""``: the root)."""


def _package_dirs(repo: _Repo, source_dir: str) -> dict[str, str]:
    """setuptools ``package-dir`` of the nearest ``pyproject.toml`` (package → folder)."""
    rel = _nearest(repo, source_dir, "pyproject.toml")
    if rel is None:
        return {}
    try:
        data = tomllib.loads(repo.read(rel))
    except tomllib.TOMLDecodeError:
        return {}
    mapping = _dict(_dict(_dict(data.get("tool")).get("setuptools")).get("package-dir"))
    base = _dir(rel)
    return {
        str(pkg): _join(base, *str(folder).strip("/").split("/"))
        for pkg, folder in mapping.items() if isinstance(folder, str)
        and folder.strip("/") not in (".", "")
    }


def _python_module(repo: _Repo, source: Path, rel: str) -> _PyModule:
    """The dotted name of *source* (``__init__.py`` chain, setuptools ``package-dir``, a
    ``src/`` folder, namespace packages, top-level files)."""
    source_dir = _dir(rel)
    name = [] if source.stem == "__init__" else [source.stem]
    mapping = _package_dirs(repo, source_dir)
    for pkg, folder in sorted(mapping.items(), key=lambda item: -len(item[1])):
        if pkg and (source_dir == folder or source_dir.startswith(folder + "/")):
            rest = [p for p in source_dir[len(folder) :].split("/") if p]
            packages = (*pkg.split("."), *rest)
            return _PyModule(".".join([*packages, *name]), packages, _dir(folder))
    folders = [p for p in source_dir.split("/") if p]
    chain: list[str] = []
    folder_path = source.parent
    while len(chain) < len(folders) and (folder_path / "__init__.py").is_file():
        chain.insert(0, folder_path.name)
        folder_path = folder_path.parent
    if not chain:
        start = 0
        top = mapping.get("")
        if top is not None and (source_dir == top or source_dir.startswith(top + "/")):
            start = len(top.split("/"))
        elif "src" in folders:
            start = folders.index("src") + 1
        while start < len(folders) and not all(p.isidentifier() for p in folders[start:]):
            start += 1
        chain = folders[start:]
    import_root = "/".join(folders[: len(folders) - len(chain)])
    dotted = ".".join([*chain, *name]) or source.parent.name
    return _PyModule(dotted, tuple(chain), import_root)


def _plan_python(
    repo: _Repo, source: Path, rel: str, symbol: str, framework: Framework
) -> TestPlan:
    located = _python_module(repo, source, rel)
    module, packages = located.dotted, located.packages
    evidence = _python_evidence(repo)
    stem = source.stem if source.stem != "__init__" else (packages[-1] if packages else "init")
    names = (f"test_{stem}.py", f"{stem}_test.py")
    name = names[1] if evidence.suffix_naming else names[0]
    tests = [f for f in repo.files if _is_py_test(f)]
    source_dir = _dir(rel)

    in_dirs = [t for t in tests if {"tests", "test"} & set(_dir(t).split("/"))]
    colocated = [t for t in tests if t not in in_dirs]
    holding = _find_test_dir(repo, in_dirs, source_dir, ("tests", "test"))
    if any(_dir(t) == source_dir for t in tests):
        test_dir = source_dir
    elif holding is not None:
        test_dir = _py_test_dir(repo, tests, holding, source_dir, located)
    elif colocated:
        test_dir = source_dir
    elif (empty := _find_test_dir(repo, (), source_dir, ("tests", "test"), True)) is not None:
        test_dir = _py_test_dir(repo, tests, empty, source_dir, located)
    else:
        test_dir = "tests"
    preferred = _join(test_dir, name)
    existing = _existing_test(
        (t for t in tests if _base(t) in names),
        [*source_dir.split("/"), *packages],
        preferred,
    )
    target = existing or preferred
    path = repo.root / target

    imports: list[str] = ["import pytest" if framework == "pytest" else "import unittest"]
    imported = _import_name(symbol)
    if imported:
        imports.append(f"from {module} import {imported}")
    elif "." in module:
        parent, _, last = module.rpartition(".")
        imports.append(f"from {parent} import {last}")
    else:
        imports.append(f"import {module}")
    header = imports[0] + "\n\n" + imports[1] + "\n"
    return TestPlan(
        framework=framework,
        language="python",
        path=path,
        exists=path.is_file(),
        header=header,
        imports=tuple(imports),
        module=module,
        style_hint=_python_hint(framework, evidence, imported),
    )


def _py_test_dir(
    repo: _Repo, tests: Sequence[str], test_dir: str, source_dir: str, located: _PyModule
) -> str:
    """The folder under *test_dir* for a test of a module in *source_dir*: the package path
    mirrored when the tests folder is at or above the import root (without the top-level
    package unless the tests folder has it), else the folders between them."""
    base = _dir(test_dir)
    import_root, packages = located.import_root, located.packages
    if not base or import_root == base or import_root.startswith(base + "/"):
        return _place_in_test_dir(repo, tests, test_dir, packages, frozenset(packages[:1]))
    rel_parts = [p for p in source_dir[len(base) :].split("/") if p]
    return _place_in_test_dir(repo, tests, test_dir, rel_parts, frozenset())


def _python_hint(framework: Framework, evidence: _PyEvidence, symbol: str) -> str:
    target = symbol or "<Name>"
    if framework == "unittest":
        return (
            f"unittest: a unittest.TestCase subclass named Test{target}"
            " with test_* methods, self.assertEqual and friends, self.assertRaises for expected"
            " errors; existing tests use TestCase classes."
        )
    hint = (
        "pytest: plain functions named test_<behaviour> with bare assert statements and"
        " pytest.raises for expected errors"
    )
    if evidence.testcase_classes:
        hint += "; existing tests subclass unittest.TestCase (run by pytest), follow that style."
    elif evidence.classes:
        hint += "; existing tests group them in classes named Test<Name> (no base class)."
    else:
        hint += "; existing tests are module-level functions, not classes."
    extras = [
        name for name, used in (
            ("@pytest.fixture", evidence.fixtures),
            ("@pytest.mark.parametrize", evidence.parametrize),
        ) if used
    ]
    if extras:
        hint += " They use " + " and ".join(extras) + "."
    return hint


# ---- JavaScript / TypeScript
def _js_test_parts(rel: str) -> tuple[str, str, str] | None:
    """(stem, kind ``test``/``spec``/``""``, placement ``colocated``/``__tests__``/``dir``) of
    a JS/TS test file, or None."""
    name = _base(rel)
    if name.endswith(".d.ts") or not name.endswith(_JS_EXTENSIONS):
        return None
    folders = _dir(rel).split("/")
    if "__tests__" in folders:
        placement = "__tests__"
    elif any(f in _JS_TEST_DIRS for f in folders):
        placement = "dir"
    else:
        placement = "colocated"
    match = _JS_TEST_NAME.match(name)
    if match is not None:
        return match["stem"], match["kind"], placement
    if placement == "colocated" or name.endswith((".config.js", ".config.ts")):
        return None
    return name.rsplit(".", 1)[0], "", placement


def _js_tests(repo: _Repo) -> list[str]:
    return [f for f in repo.files if _js_test_parts(f) is not None]


def _sample_js_tests(repo: _Repo) -> list[str]:
    return [repo.read(f) for f in _js_tests(repo)[:MAX_SAMPLED_TESTS]]


_JS_REL_SPEC = re.compile(r"""(?:\bfrom\s*|\brequire\(\s*|\bimport\(\s*)['"](\.{1,2}/[^'"]*)['"]""")
_JS_EXT_OF_SPEC = re.compile(r"\.(?:[cm]?[jt]sx?)$")
_ESM_LINE = re.compile(r"^\s*(?:import\s[^(]|import\{|export\s)", re.M)
_CJS_USE = re.compile(r"\brequire\(\s*['\"]|\bmodule\.exports\b|^\s*exports\.\w+\s*=", re.M)
_TO_RUNTIME_EXT = {
    ".ts": ".js", ".tsx": ".js", ".mts": ".mjs", ".cts": ".cjs",
    ".js": ".js", ".jsx": ".jsx", ".mjs": ".mjs", ".cjs": ".cjs",
}


@dataclass(frozen=True)
class _JsStyle:
    esm: bool
    quote: str
    semicolons: bool


def _js_style(ext: str, source_text: str, samples: list[str]) -> _JsStyle:
    esm_votes = sum(len(_ESM_LINE.findall(t)) for t in samples)
    cjs_votes = sum(len(re.findall(r"\brequire\(\s*['\"]", t)) for t in samples)
    if ext in (".mjs", ".mts", ".ts", ".tsx"):
        esm = True
    elif ext in (".cjs", ".cts"):
        esm = False
    elif esm_votes or cjs_votes:
        esm = esm_votes >= cjs_votes
    elif _ESM_LINE.search(source_text):
        esm = True
    elif _CJS_USE.search(source_text):
        esm = False
    else:  # no evidence either way: ESM, the standard
        esm = True
    import_lines = [
        line for t in [*samples, source_text] for line in t.splitlines()
        if re.match(r"\s*(import\s|export\s.*\sfrom\s|(const|let|var)\s.*require\()", line)
    ]
    quotes = Counter(q for line in import_lines for q in re.findall(r"['\"]", line)[:1])
    if not quotes:
        quotes = Counter({"'": source_text.count("'"), '"': source_text.count('"')})
    quote = '"' if quotes['"'] > quotes["'"] else "'"
    with_semi = sum(1 for line in import_lines if line.rstrip().endswith(";"))
    semicolons = with_semi * 2 >= len(import_lines) if import_lines else True
    return _JsStyle(esm, quote, semicolons)


def _js_specifier(
    test_dir: str, source_rel: str, ext: str, pkg: dict[str, object], texts: list[str]
) -> str:
    specs = [s for t in texts for s in _JS_REL_SPEC.findall(t)]
    with_ext = [s for s in specs if _JS_EXT_OF_SPEC.search(s)]
    if specs:
        use_ext = len(with_ext) * 2 > len(specs)
    else:
        use_ext = ext in (".mjs", ".mts") or (pkg.get("type") == "module" and ext == ".js")
    keep_ts = any(s.endswith((".ts", ".tsx", ".mts", ".cts")) for s in with_ext)
    rel = os.path.relpath(source_rel, test_dir or ".").replace(os.sep, "/")
    stem = rel[: -len(ext)]
    if use_ext:
        spec = stem + (ext if keep_ts else _TO_RUNTIME_EXT[ext])
    else:
        spec = stem
        if _base(stem) == "index" and "/" in stem and _dir(stem) not in (".", ".."):
            spec = _dir(stem)
    return spec if spec.startswith("../") else "./" + spec


def _js_default_export(source_text: str, name: str, esm: bool) -> bool:
    n = re.escape(name)
    if esm:
        return re.search(
            rf"export\s+default\s+(?:(?:async\s+)?function\*?\s+|(?:abstract\s+)?class\s+)?{n}\b",
            source_text,
        ) is not None
    return re.search(
        rf"module\.exports\s*=\s*(?:(?:async\s+)?function\*?\s+|class\s+)?{n}\b", source_text
    ) is not None


def _plan_js(
    repo: _Repo, source: Path, rel: str, lang: str, symbol: str, framework: Framework
) -> TestPlan:
    ext = source.suffix
    stem = source.name[: -len(ext)]
    source_dir = _dir(rel)
    tests = _js_tests(repo)
    parts = {t: _js_test_parts(t) for t in tests}
    kinds = Counter(p[1] for p in parts.values() if p is not None)
    places = Counter(p[2] for p in parts.values() if p is not None)
    placement = _majority(
        Counter({k: places[k] for k in ("colocated", "__tests__", "dir") if places[k]}),
        "dir" if framework == "mocha" else "colocated",
    )
    pkg_rel = _nearest(repo, source_dir, "package.json")
    pkg = _package_json(repo, pkg_rel) if pkg_rel else {}
    pkg_dir = _dir(pkg_rel) if pkg_rel else ""

    if placement == "colocated":
        test_dir = source_dir
    else:
        names = ("__tests__",) if placement == "__tests__" else _JS_TEST_DIRS
        in_place = [t for t in tests if (p := parts[t]) is not None and p[2] == placement]
        found = _find_test_dir(repo, in_place, source_dir, names) or _find_test_dir(
            repo, (), source_dir, names, True
        )
        if found is None:
            found = _join(source_dir if placement == "__tests__" else pkg_dir, names[0])
        base = _dir(found)
        rel_parts = [p for p in source_dir[len(base) :].split("/") if p]
        test_dir = _place_in_test_dir(repo, in_place, found, rel_parts, frozenset({"src", "lib"}))
    kind = _majority(kinds, "test")
    if kind == "" and test_dir == source_dir:
        kind = "test"
    name = f"{stem}.{kind}{ext}" if kind else f"{stem}{ext}"
    preferred = _join(test_dir, name)
    same = [
        t for t in tests
        if (p := parts[t]) is not None and p[0] == stem and p[1] in ("test", "spec", "")
    ]
    same.sort(key=lambda t: (_base(t).rsplit(".", 1)[-1] != ext[1:], t))
    existing = _existing_test(same, source_dir.split("/"), preferred)
    target = existing or preferred
    path = repo.root / target

    samples = _sample_js_tests(repo)
    source_text = _read(source)
    near = [repo.read(t) for t in tests if _dir(t) in (_dir(target), source_dir)][:20]
    style = _js_style(ext, source_text, near + samples)
    if framework == "vitest":
        style = _JsStyle(True, style.quote, style.semicolons)
    spec = _js_specifier(_dir(target), rel, ext, pkg, near + samples + [source_text])

    imports = _js_framework_imports(framework, style, pkg, samples)
    imported = _import_name(symbol)
    imports.append(_js_code_import(imported, stem, spec, style, source_text))
    header = "".join(line + "\n" for line in imports)
    return TestPlan(
        framework=framework,
        language=lang,
        path=path,
        exists=path.is_file(),
        header=header,
        imports=tuple(imports),
        module=spec,
        style_hint=_js_hint(framework, style, imported, imports),
    )


def _js_line(style: _JsStyle, what: str, src: str) -> str:
    """An import line binding *what* (``x``, ``{ a, b }``, ``* as ns``) from *src*."""
    q, semi = style.quote, ";" if style.semicolons else ""
    if style.esm:
        return f"import {what} from {q}{src}{q}{semi}"
    if what.startswith("* as "):
        what = what[5:]
    return f"const {what} = require({q}{src}{q}){semi}"


def _js_framework_imports(
    framework: Framework, style: _JsStyle, pkg: dict[str, object], samples: list[str]
) -> list[str]:
    if framework == "jest":
        if any("@jest/globals" in t for t in samples):
            return [_js_line(style, "{ describe, expect, it }", "@jest/globals")]
        return []
    if framework == "vitest":
        vitest_tests = [t for t in samples if re.search(r"\b(describe|it|test)\(", t)]
        if vitest_tests and not any(re.search(r"""['"]vitest['"]""", t) for t in vitest_tests):
            return []  # globals: true
        return [_js_line(style, "{ describe, expect, it }", "vitest")]
    if framework == "node:test":
        return [
            _js_line(style, "{ describe, it }", "node:test"),
            _js_line(style, "assert", "node:assert/strict"),
        ]
    # mocha: the assertion library the tests already use.
    pattern = re.compile(
        r"""^\s*(?:import\s.+\sfrom\s|(?:const|let|var)\s.+=\s*require\()\s*"""
        r"""['"](?:chai|assert|node:assert|assert/strict|node:assert/strict)['"]\)?;?\s*$""",
        re.M,
    )
    lines = Counter(m.group(0).strip() for t in samples for m in pattern.finditer(t))
    if lines:
        return [_majority(lines, "")]
    if "chai" in _js_deps(pkg):
        return [_js_line(style, "{ expect }", "chai")]
    return [_js_line(style, "assert", "node:assert/strict")]


def _js_code_import(
    imported: str, stem: str, spec: str, style: _JsStyle, source_text: str
) -> str:
    if not imported:
        alias = re.sub(r"\W", "_", stem)
        alias = alias if alias and not alias[0].isdigit() else "_" + alias
        return _js_line(style, f"* as {alias}", spec)
    source_esm = _ESM_LINE.search(source_text) is not None
    if _js_default_export(source_text, imported, source_esm):
        if style.esm or not source_esm:
            return _js_line(style, imported, spec)
        q, semi = style.quote, ";" if style.semicolons else ""
        return f"const {imported} = require({q}{spec}{q}).default{semi}"
    return _js_line(style, f"{{ {imported} }}", spec)


def _js_hint(framework: Framework, style: _JsStyle, symbol: str, imports: list[str]) -> str:
    block = f"describe('{symbol}', …)" if symbol else "describe(…)"
    syntax = "ESM import" if style.esm else "CommonJS require"
    if framework in ("jest", "vitest"):
        where = "imported from vitest" if framework == "vitest" and any(
            "vitest" in i for i in imports
        ) else "as globals"
        api = f"describe/it/expect {where}"
        assertion = "expect(...).toBe/toEqual/toThrow"
        if framework == "vitest":
            assertion += ", vi.fn() for mocks"
        else:
            assertion += ", jest.fn() for mocks"
        return (
            f"{framework}: a {block} block of it(...) cases, {api}, {assertion}; {syntax} syntax."
        )
    if framework == "node:test":
        return (
            f"node:test: a {block} block of it(...) cases from node:test with"
            f" node:assert/strict (assert.strictEqual, assert.deepStrictEqual, assert.throws);"
            f" {syntax} syntax."
        )
    chai = any("chai" in i for i in imports)
    assertion = "chai expect(...).to.equal / to.deep.equal / to.throw" if chai else (
        "assert.strictEqual / assert.deepStrictEqual / assert.throws"
    )
    return f"mocha: a {block} block of it(...) cases (globals) using {assertion}; {syntax} syntax."


# ---- Go
class _Parsed:
    """A tree-sitter parse of *text* with byte → code-point offset conversion."""

    def __init__(self, language: str, text: str) -> None:
        self.text = text
        self.data = text.encode("utf-8", "surrogatepass")
        self.tree = languages.thread_parser(languages.LANGUAGES[language]).parse(self.data)

    @property
    def root(self) -> tree_sitter.Node:
        return self.tree.root_node

    def off(self, byte: int) -> int:
        return len(self.data[:byte].decode("utf-8", "surrogatepass"))

    def span(self, node: tree_sitter.Node) -> tuple[int, int]:
        return self.off(node.start_byte), self.off(node.end_byte)

    def node_text(self, node: tree_sitter.Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "surrogatepass")


def _go_package(text: str) -> str | None:
    parsed = _Parsed("go", text)
    for node in parsed.root.named_children:
        if node.type == "package_clause":
            for child in node.named_children:
                if child.type == "package_identifier":
                    return parsed.node_text(child)
    return None


def _plan_go(repo: _Repo, source: Path, rel: str) -> TestPlan:
    source_text = _read(source)
    package = _go_package(source_text) or source.parent.name
    stem = source.name[: -len(".go")]
    path = source.parent / f"{stem}_test.go"
    siblings = sorted(source.parent.glob("*_test.go"))
    if path.is_file():
        test_package = _go_package(_read(path)) or package
    elif siblings and all(_go_package(_read(s)) == f"{package}_test" for s in siblings):
        test_package = f"{package}_test"
    else:
        test_package = package
    imports = ['import "testing"']
    if test_package != package:
        import_path = _go_import_path(repo, _dir(rel))
        if import_path is None:
            test_package = package
        else:
            imports.append(f'import "{import_path}"')
    header = f"package {test_package}\n\n" + _go_import_block(
        [line[len("import ") :] for line in imports]
    )
    texts = [_read(s) for s in siblings[:20]]
    gomod = _nearest(repo, _dir(rel), "go.mod")
    testify = any("stretchr/testify" in t for t in texts) or (
        gomod is not None and "stretchr/testify" in repo.read(gomod)
    )
    where = f"package {test_package}" + (
        f" (refer to the code under test as {package}.Name)" if test_package != package else ""
    )
    hint = (
        f"Go tests: func TestXxx(t *testing.T) in {where}, table-driven cases run with t.Run"
        " subtests, " + (
            "assertions with testify's assert/require as existing tests do."
            if testify else "t.Errorf/t.Fatalf for failures (no assertion library)."
        )
    )
    return TestPlan(
        framework="go",
        language="go",
        path=path,
        exists=path.is_file(),
        header=header,
        imports=tuple(imports),
        module=package,
        style_hint=hint,
    )


def _go_import_path(repo: _Repo, source_dir: str) -> str | None:
    gomod = _nearest(repo, source_dir, "go.mod")
    if gomod is None:
        return None
    match = re.search(r"^module\s+(\S+)", repo.read(gomod), re.M)
    if match is None:
        return None
    sub = source_dir[len(_dir(gomod)) :].strip("/")
    return _join(match[1], sub)


def _go_import_block(specs: Sequence[str]) -> str:
    """``import "x"`` or a parenthesized block (standard library first), ``\\n``-terminated."""
    if not specs:
        return ""
    if len(specs) == 1:
        return f"import {specs[0]}\n"

    def path(spec: str) -> str:
        return spec.rsplit(" ", 1)[-1].strip('"`')

    std = sorted((s for s in specs if "." not in path(s).split("/")[0]), key=path)
    other = sorted((s for s in specs if "." in path(s).split("/")[0]), key=path)
    groups = ["".join(f"\t{s}\n" for s in g) for g in (std, other) if g]
    return "import (\n" + "\n".join(groups) + ")\n"


# ---- Rust
@dataclass(frozen=True)
class _RustModule:
    open_end: int
    """Offset just after the ``{``."""
    close: int
    """Offset of the closing ``}``."""
    indent: str
    """Indentation of the module's items."""
    last_use_end: int | None
    uses: tuple[str, ...]


def _rust_tests_module(parsed: _Parsed) -> tuple[_RustModule | None, bool]:
    """The inline test module of a Rust file, and whether an out-of-line ``mod tests;``
    exists."""
    out_of_line = False
    for node in parsed.root.named_children:
        if node.type != "mod_item":
            continue
        name = node.child_by_field_name("name")
        if name is None or parsed.node_text(name) not in ("tests", "test"):
            continue
        body = node.child_by_field_name("body")
        if body is None:
            out_of_line = True
            continue
        start, end = parsed.span(body)
        mod_line = _line_start(parsed.text, parsed.off(node.start_byte))
        mod_indent = parsed.text[mod_line : parsed.off(node.start_byte)]
        items = [c for c in body.named_children]
        if items:
            first = parsed.off(items[0].start_byte)
            lead = parsed.text[_line_start(parsed.text, first) : first]
            indent = lead if not lead.strip() and first > start else mod_indent + "    "
        else:
            indent = mod_indent + "    "
        uses = [c for c in items if c.type == "use_declaration"]
        return _RustModule(
            open_end=start + 1,
            close=end - 1,
            indent=indent,
            last_use_end=parsed.off(uses[-1].end_byte) if uses else None,
            uses=tuple(_norm(parsed.node_text(u)) for u in uses),
        ), out_of_line
    return None, out_of_line


def _rust_insert_offset(text: str, module: _RustModule) -> int:
    line = _line_start(text, module.close)
    return line if not text[line : module.close].strip() else module.close


def _plan_rust(source: Path) -> TestPlan:
    text = _read(source)
    parsed = _Parsed("rust", text)
    module, out_of_line = _rust_tests_module(parsed)
    hint = (
        "Rust unit tests: #[test] fn <behaviour>() functions in the #[cfg(test)] mod tests"
        " module (use super::*), assert_eq!/assert! for checks and #[should_panic] for panics."
    )
    imports = ("use super::*;",)
    if module is not None:
        return TestPlan("rust", "rust", source, True, "", imports, "super", hint,
                        insert_offset=_rust_insert_offset(text, module))
    if out_of_line:
        folder = source.parent
        if source.stem not in ("lib", "main", "mod"):
            folder = folder / source.stem
        candidates = [folder / "tests.rs", folder / "tests" / "mod.rs", folder / "test.rs"]
        path = next((c for c in candidates if c.is_file()), candidates[0])
        return TestPlan("rust", "rust", path, path.is_file(), "use super::*;\n", imports,
                        "super", hint.replace("in the #[cfg(test)] mod tests module",
                                              "in the tests module file"))
    header = "#[cfg(test)]\nmod tests {\n    use super::*;\n"
    return TestPlan("rust", "rust", source, True, header, imports, "super", hint)


# ---- Java
def _java_package(text: str) -> str:
    parsed = _Parsed("java", text)
    for node in parsed.root.named_children:
        if node.type == "package_declaration":
            for child in node.named_children:
                if child.type in ("scoped_identifier", "identifier"):
                    return parsed.node_text(child)
    return ""


_JAVA_IMPORTS: dict[str, tuple[str, ...]] = {
    "junit5": ("import org.junit.jupiter.api.Test;",
               "import static org.junit.jupiter.api.Assertions.*;"),
    "junit4": ("import org.junit.Test;", "import static org.junit.Assert.*;"),
}


def _plan_java(repo: _Repo, source: Path, rel: str, framework: Framework) -> TestPlan:
    parts = rel.split("/")
    stem = source.stem
    test_parts: list[str] | None = None
    for i in range(len(parts) - 3):
        if parts[i : i + 3] == ["src", "main", "java"]:
            test_parts = [*parts[:i], "src", "test", "java", *parts[i + 3 : -1]]
            break
    if test_parts is None and "src" in parts[:-1]:
        i = parts.index("src")
        sibling = _join(*parts[:i], "test")
        if sibling in repo.dirs or (repo.root / sibling).is_dir():
            test_parts = [*parts[:i], "test", *parts[i + 1 : -1]]
    if test_parts is None:
        test_parts = parts[:-1]
    folder = repo.root.joinpath(*test_parts)
    candidates = [folder / f"{stem}Test.java", folder / f"{stem}Tests.java",
                  folder / f"Test{stem}.java"]
    path = next((c for c in candidates if c.is_file()), candidates[0])
    package = _java_package(_read(source))
    imports = _JAVA_IMPORTS[framework]
    header = (f"package {package};\n\n" if package else "") + "".join(i + "\n" for i in imports)
    if framework == "junit5":
        hint = (f"JUnit 5: a package-private class {path.stem} with @Test void methods, static"
                " Assertions (assertEquals, assertTrue, assertThrows).")
    else:
        hint = (f"JUnit 4: a public class {path.stem} with public @Test void methods, static"
                " org.junit.Assert (assertEquals, assertTrue), @Test(expected = ...) for"
                " exceptions.")
    return TestPlan(framework, "java", path, path.is_file(), header, imports, package, hint)


# ------------------------------------------------------------------------------ merging
def merge(plan: TestPlan, existing: str | None, generated: str) -> str:
    """The whole test file of *plan* after merging *generated* into it (see
    :func:`merge_edits`, which also gives the edits)."""
    return merge_edits(plan, existing, generated).text


def merge_edits(plan: TestPlan, existing: str | None, generated: str) -> Merged:
    """Merge *generated* test code into the test file of *plan*: the result and its edits.

    *existing* is the current text of :attr:`TestPlan.path` (None or blank: a new file; for
    Rust, the source file's text — required when the tests go into the source file).  Import
    lines of *generated* (and a package clause, a Rust ``mod tests`` or Java class wrapper) are
    taken apart: imports missing from the file are added after its last import, the tests are
    appended (or inserted into the existing test module / class).  ``import pytest`` from the
    plan is dropped when nothing uses ``pytest``.  Markdown code fences around *generated* are
    removed.  Line endings follow *existing*.
    """
    generated = _strip_fences(generated.replace("\r\n", "\n"))
    nl = "\r\n" if existing is not None and "\r\n" in existing else "\n"
    if existing is not None and not existing.strip():
        existing_text = existing
        existing = None
    else:
        existing_text = existing or ""
    lang = plan.language
    if lang == "rust" and existing is None and plan.header.startswith("#[cfg(test)]"):
        raise ValueError("merging Rust tests needs the text of the source file")
    if lang == "python":
        splices = _merge_python(plan, existing, generated)
    elif lang in _JS_LANGUAGES:
        splices = _merge_js(plan, existing, generated)
    elif lang == "go":
        splices = _merge_go(plan, existing, generated)
    elif lang == "rust":
        splices = _merge_rust(plan, existing, generated)
    elif lang == "java":
        splices = _merge_java(plan, existing, generated)
    else:
        raise UnsupportedLanguageError(lang)
    if existing is None:
        text = "".join(s.text for s in splices).replace("\n", nl)
        edits: tuple[Edit, ...] = (Edit(0, len(existing_text), text),)
        return Merged(text, edits)
    edits = _combine(splices, nl)
    return Merged(apply_edits(existing, edits), edits)


def _combine(splices: Sequence[Edit], nl: str) -> tuple[Edit, ...]:
    """Sort (stable), join inserts at the same offset, convert line endings."""
    out: list[Edit] = []
    for edit in sorted(splices, key=lambda e: e.start):
        if not edit.text and edit.start == edit.end:
            continue
        text = edit.text.replace("\n", nl)
        if out and out[-1].end == edit.start and out[-1].start == out[-1].end == edit.start:
            out[-1] = Edit(edit.start, edit.end, out[-1].text + text)
        elif out and edit.start < out[-1].end:
            raise AssertionError("overlapping merge edits")  # pragma: no cover
        else:
            out.append(Edit(edit.start, edit.end, text))
    return tuple(out)


def _strip_fences(text: str) -> str:
    match = re.fullmatch(r"\s*```[\w+.-]*[ \t]*\n(.*?)\n?```\s*", text, re.S)
    return match[1] if match else text


def _norm(text: str) -> str:
    return " ".join(text.split())


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _line_after(text: str, offset: int) -> int:
    """The offset just past the end of the line holding *offset* (its ``\\n`` included)."""
    end = text.find("\n", offset)
    return len(text) if end == -1 else end + 1


def _cut(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """*text* without *spans*; a line left blank by a cut disappears."""
    out: list[str] = []
    cursor = 0
    for start, end in sorted(spans):
        line = _line_start(text, start)
        if not text[line:start].strip():
            start = max(line, cursor)
        after = _line_after(text, end)
        if not text[end:after].strip() or text[end:after].strip() == ";":
            end = after
        if start < cursor:
            start = cursor
        out.append(text[cursor:start])
        cursor = max(cursor, end)
    out.append(text[cursor:])
    return "".join(out)


def _clean_body(text: str) -> str:
    """Dedented, without blank lines at either end and with trailing spaces removed."""
    lines = [line.rstrip() for line in textwrap.dedent(text).split("\n")]
    body = "\n".join(lines).strip("\n")
    return re.sub(r"\n{4,}", "\n\n\n", body)


def _append(existing: str, body: str, separator: str) -> Edit:
    """Append *body* after the last non-blank character, *separator* in between."""
    end = len(existing.rstrip())
    return Edit(end, len(existing), (separator + body if body else "") + "\n")


def _insert_after_line(existing: str, node_end: int, lines: Sequence[str]) -> Edit | None:
    """Insert *lines* after the line holding offset *node_end*."""
    if not lines:
        return None
    pos = _line_after(existing, node_end)
    end = len(existing.rstrip())
    if pos > end or not existing[:pos].endswith("\n"):  # the node is the last thing
        return Edit(end, end, "\n" + "\n".join(lines))
    return Edit(pos, pos, "".join(line + "\n" for line in lines))


def _indent(body: str, indent: str) -> str:
    return "\n".join(indent + line if line.strip() else "" for line in body.split("\n"))


# ---- Python
_PY_IMPORT_TYPES = frozenset({"import_statement", "import_from_statement",
                              "future_import_statement"})
_PY_DEFINITIONS = frozenset({"function_definition", "class_definition", "decorated_definition"})


@dataclass(frozen=True)
class _PyImport:
    text: str
    module: str | None
    """``from`` imports: the module (with leading dots); plain ``import``: None."""
    names: tuple[tuple[str, str | None], ...]

    def key(self, name: str, alias: str | None) -> str:
        if alias:
            return alias
        if name == "*":
            return f"{self.module}.*"
        return name

    def render(self, names: Sequence[tuple[str, str | None]]) -> str:
        listed = ", ".join(f"{n} as {a}" if a else n for n, a in names)
        return f"from {self.module} import {listed}" if self.module is not None else (
            f"import {listed}"
        )


def _py_import(text: str) -> _PyImport | None:
    try:
        tree = ast.parse(textwrap.dedent(text).strip())
    except SyntaxError:
        return None
    if len(tree.body) != 1:
        return None
    node = tree.body[0]
    if isinstance(node, ast.ImportFrom):
        module = "." * node.level + (node.module or "")
        return _PyImport(text, module, tuple((a.name, a.asname) for a in node.names))
    if isinstance(node, ast.Import):
        return _PyImport(text, None, tuple((a.name, a.asname) for a in node.names))
    return None


def _py_module_imports(parsed: _Parsed) -> list[tree_sitter.Node]:
    """Import statements outside functions and classes."""
    found: list[tree_sitter.Node] = []
    stack = list(reversed(parsed.root.named_children))
    while stack:
        node = stack.pop()
        if node.type in _PY_IMPORT_TYPES:
            found.append(node)
        elif node.type not in _PY_DEFINITIONS:
            stack.extend(reversed(node.named_children))
    return found


def _py_split(generated: str) -> tuple[list[str], str]:
    parsed = _Parsed("python", generated)
    nodes = [
        n for n in parsed.root.named_children if n.type in _PY_IMPORT_TYPES and not n.has_error
    ]
    return [parsed.node_text(n) for n in nodes], _clean_body(
        _cut(generated, (parsed.span(n) for n in nodes))
    )


def _py_missing(candidates: Iterable[str], existing: Iterable[str]) -> list[str]:
    """The *candidates* (or the parts of them) that bind names *existing* imports do not."""
    bound: set[str] = set()
    texts: set[str] = set()
    for text in existing:
        texts.add(_norm(text))
        imp = _py_import(text)
        if imp is not None:
            bound.update(imp.key(n, a) for n, a in imp.names)
    out: list[str] = []
    for text in candidates:
        imp = _py_import(text)
        if imp is None:
            if _norm(text) not in texts:
                texts.add(_norm(text))
                out.append(text)
            continue
        keep = [(n, a) for n, a in imp.names if imp.key(n, a) not in bound]
        if not keep:
            continue
        bound.update(imp.key(n, a) for n, a in keep)
        out.append(imp.text if len(keep) == len(imp.names) else imp.render(keep))
    return out


def _py_plan_imports(plan: TestPlan, body: str) -> list[str]:
    return [
        line for line in plan.imports
        if not (line == "import pytest" and re.search(r"\bpytest\b", body) is None)
    ]


def _is_future(line: str) -> bool:
    return line.lstrip().startswith("from __future__ ")


def _merge_python(plan: TestPlan, existing: str | None, generated: str) -> list[Edit]:
    gen_imports, body = _py_split(generated)
    wanted = [*_py_plan_imports(plan, body), *gen_imports]
    if existing is None:
        lines = _py_missing(wanted, ())
        top_package = plan.module.split(".")[0]
        local = [
            line for line in lines
            if (imp := _py_import(line)) is not None and imp.module is not None
            and (imp.module.startswith(".") or imp.module.split(".")[0] == top_package)
            and not _is_future(line)
        ]
        groups = [
            [line for line in lines if _is_future(line)],
            [line for line in lines if not _is_future(line) and line not in local],
            local,
        ]
        head = "\n\n".join("\n".join(g) for g in groups if g)
        text = (head + "\n\n\n" + body + "\n") if head else body + "\n"
        return [Edit(0, 0, text)]

    parsed = _Parsed("python", existing)
    all_imports = _py_module_imports(parsed)
    missing = _py_missing(wanted, (parsed.node_text(n) for n in all_imports))
    futures = [line for line in missing if _is_future(line)]
    others = [line for line in missing if not _is_future(line)]

    children = [c for c in parsed.root.named_children if c.type != "comment"]
    first = 0
    if children and children[0].type == "expression_statement" and \
            children[0].named_child_count == 1 and children[0].named_children[0].type == "string":
        first = 1  # the module docstring
    top = parsed.off(children[first].start_byte) if first < len(children) else None
    stop = next((i for i, c in enumerate(children) if c.type in _PY_DEFINITIONS), len(children))
    leading = [c for c in children[:stop] if c.type in _PY_IMPORT_TYPES]

    splices: list[Edit] = []
    if top is None:  # empty module apart from a docstring and comments
        after = parsed.off(children[0].end_byte) if children else 0
        edit = _insert_after_line(existing, after, [*futures, *others])
        if edit is not None:
            splices.append(Edit(edit.start, edit.end, "\n" + edit.text if children else
                                edit.text))
    else:
        top = _line_start(existing, top)
        if futures:
            splices.append(Edit(top, top, "".join(f + "\n" for f in futures)))
        if leading:
            edit = _insert_after_line(existing, parsed.off(leading[-1].end_byte), others)
            if edit is not None:
                splices.append(edit)
        elif others:
            gap = "\n\n" if children[first].type in _PY_DEFINITIONS else "\n"
            splices.append(Edit(top, top, "".join(o + "\n" for o in others) + gap))

    main = _py_main_block(parsed)
    if main is not None:
        parsed_body = _Parsed("python", body)
        generated_main = _py_main_block(parsed_body)
        if generated_main is not None:  # the file has one already
            body = _clean_body(body[: parsed_body.off(generated_main.start_byte)])
        pos = _line_start(existing, parsed.off(main.start_byte))
        if body:
            splices.append(Edit(pos, pos, body + "\n\n\n"))
        return splices
    splices.append(_append(existing, body, "\n\n\n"))
    return splices


def _py_main_block(parsed: _Parsed) -> tree_sitter.Node | None:
    """A last top-level ``if __name__ == "__main__":`` statement."""
    children = [c for c in parsed.root.named_children if c.type != "comment"]
    last = children[-1] if children else None
    if last is None or last.type != "if_statement":
        return None
    condition = last.child_by_field_name("condition")
    if condition is None or not re.fullmatch(
        r"__name__\s*==\s*['\"]__main__['\"]", parsed.node_text(condition)
    ):
        return None
    return last


# ---- JavaScript / TypeScript
_ESM_FROM = re.compile(
    r"""^\s*import\s+(?P<type>type\s+)?(?P<clause>[^'"]+?)\s+from\s*(?P<q>['"])(?P<src>[^'"]+)"""
    r"""(?P=q)\s*(?P<semi>;?)\s*$"""
)
_ESM_BARE = re.compile(r"""^\s*import\s*(?P<q>['"])(?P<src>[^'"]+)(?P=q)\s*(?P<semi>;?)\s*$""")
_CJS_REQUIRE = re.compile(
    r"""^\s*(?P<kw>const|let|var)\s+(?P<lhs>[^=]+?)\s*=\s*require\(\s*(?P<q>['"])(?P<src>[^'"]+)"""
    r"""(?P=q)\s*\)(?P<tail>(?:\.\w+)?)\s*(?P<semi>;?)\s*$"""
)
_TEST_CALL = re.compile(
    r"^\s*(?:describe|it|test|suite|context|before|after|beforeEach|afterEach|beforeAll"
    r"|afterAll)\s*[.(]"
)


@dataclass(frozen=True)
class _JsImport:
    text: str
    esm: bool
    src: str
    default: str | None
    namespace: str | None
    named: tuple[tuple[str, str], ...]
    """(imported, local) pairs."""
    prefix: str
    """``import type `` / ``const `` …"""
    quote: str
    semi: str
    tail: str = ""

    def bindings(self) -> list[str]:
        return [b for b in (self.default, self.namespace) if b] + [local for _, local in
                                                                   self.named]

    def render(self, default: str | None, namespace: str | None,
               named: Sequence[tuple[str, str]]) -> str:
        q = self.quote
        if self.esm:
            items = ", ".join(i if i == local else f"{i} as {local}" for i, local in named)
            clause = ", ".join(p for p in (
                default, f"* as {namespace}" if namespace else None,
                f"{{ {items} }}" if named else None) if p)
            return f"{self.prefix}{clause} from {q}{self.src}{q}{self.semi}"
        items = ", ".join(i if i == local else f"{i}: {local}" for i, local in named)
        lhs = default if default else f"{{ {items} }}"
        return f"{self.prefix}{lhs} = require({q}{self.src}{q}){self.tail}{self.semi}"


def _js_names(inner: str, separator: str) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for item in inner.split(","):
        item = item.strip()
        if not item:
            continue
        if separator == " as ":
            item = re.sub(r"^type\s+", "", item)
        imported, _, local = item.partition(separator)
        out.append((imported.strip(), (local or imported).strip()))
    return tuple(out)


def _js_import(text: str) -> _JsImport | None:
    text = text.strip()
    if (m := _ESM_BARE.match(text)) is not None:
        return _JsImport(text, True, m["src"], None, None, (), "import ", m["q"], m["semi"])
    if (m := _ESM_FROM.match(text)) is not None:
        clause = m["clause"].strip()
        default = namespace = None
        named: tuple[tuple[str, str], ...] = ()
        if "{" in clause:
            before, _, rest = clause.partition("{")
            named = _js_names(rest.partition("}")[0], " as ")
            clause = before
        for part in (p.strip() for p in clause.split(",")):
            if part.startswith("*"):
                namespace = part.split("as", 1)[-1].strip()
            elif part:
                default = part
        prefix = "import type " if m["type"] else "import "
        return _JsImport(text, True, m["src"], default, namespace, named, prefix, m["q"],
                         m["semi"])
    if (m := _CJS_REQUIRE.match(text)) is not None:
        lhs = m["lhs"].strip()
        if lhs.startswith("{"):
            named = _js_names(lhs.strip("{} "), ":")
            return _JsImport(text, False, m["src"], None, None, named, m["kw"] + " ", m["q"],
                             m["semi"], m["tail"])
        return _JsImport(text, False, m["src"], lhs, None, (), m["kw"] + " ", m["q"], m["semi"],
                         m["tail"])
    return None


def _js_missing(candidates: Iterable[str], existing: Iterable[str]) -> list[str]:
    bound: set[str] = set()
    sources: set[str] = set()
    texts: set[str] = set()
    for text in existing:
        texts.add(_norm(text))
        imp = _js_import(text)
        if imp is not None:
            bound.update(imp.bindings())
            sources.add(imp.src)
    out: list[str] = []
    for text in candidates:
        imp = _js_import(text)
        if imp is None:
            if _norm(text) not in texts:
                texts.add(_norm(text))
                out.append(text.strip())
            continue
        if not imp.bindings():
            if imp.src not in sources:
                sources.add(imp.src)
                out.append(imp.text)
            continue
        default = imp.default if imp.default and imp.default not in bound else None
        namespace = imp.namespace if imp.namespace and imp.namespace not in bound else None
        named = [(i, local) for i, local in imp.named if local not in bound]
        if not (default or namespace or named):
            continue
        bound.update(b for b in (default, namespace) if b)
        bound.update(local for _, local in named)
        sources.add(imp.src)
        unchanged = (default, namespace, tuple(named)) == (imp.default, imp.namespace,
                                                            imp.named)
        out.append(imp.text if unchanged else imp.render(default, namespace, named))
    return out


def _js_is_import(parsed: _Parsed, node: tree_sitter.Node) -> bool:
    if node.type == "import_statement":
        return True
    if node.type in ("lexical_declaration", "variable_declaration"):
        return _CJS_REQUIRE.match(parsed.node_text(node)) is not None
    return False


def _merge_js(plan: TestPlan, existing: str | None, generated: str) -> list[Edit]:
    gen = _Parsed(plan.language, generated)
    nodes = [n for n in gen.root.named_children if _js_is_import(gen, n)]
    gen_imports = [gen.node_text(n) for n in nodes]
    body = _clean_body(_cut(generated, (gen.span(n) for n in nodes)))
    wanted = [*plan.imports, *gen_imports]
    if existing is None:
        lines = _js_missing(wanted, ())
        local = [line for line in lines if (imp := _js_import(line)) and imp.src.startswith(".")]
        groups = [[line for line in lines if line not in local], local]
        head = "\n\n".join("\n".join(g) for g in groups if g)
        return [Edit(0, 0, (head + "\n\n" + body + "\n") if head else body + "\n")]

    parsed = _Parsed(plan.language, existing)
    children = parsed.root.named_children
    all_imports = [c for c in children if _js_is_import(parsed, c)]
    missing = _js_missing(wanted, (parsed.node_text(n) for n in all_imports))
    leading: list[tree_sitter.Node] = []
    prologue: tree_sitter.Node | None = None  # the last leading comment / directive
    for child in children:
        text = parsed.node_text(child)
        if child.type in ("function_declaration", "class_declaration",
                          "generator_function_declaration") or _TEST_CALL.match(text):
            break
        if _js_is_import(parsed, child):
            leading.append(child)
        elif not leading and (child.type in ("comment", "hash_bang_line") or (
            child.type == "expression_statement" and child.named_child_count == 1
            and child.named_children[0].type == "string"
        )):
            prologue = child
    splices: list[Edit] = []
    if leading:
        edit = _insert_after_line(existing, parsed.off(leading[-1].end_byte), missing)
        if edit is not None:
            splices.append(edit)
    elif missing and prologue is not None:
        edit = _insert_after_line(existing, parsed.off(prologue.end_byte), ["", *missing])
        if edit is not None:
            splices.append(edit)
    elif missing:
        splices.append(Edit(0, 0, "".join(m + "\n" for m in missing) + "\n"))
    splices.append(_append(existing, body, "\n\n"))
    return splices


# ---- Go
def _go_specs(parsed: _Parsed) -> list[tuple[tree_sitter.Node, str, str]]:
    """(import_declaration, spec text, path) of every import spec."""
    out: list[tuple[tree_sitter.Node, str, str]] = []
    for decl in parsed.root.named_children:
        if decl.type != "import_declaration":
            continue
        stack = list(decl.named_children)
        while stack:
            node = stack.pop(0)
            if node.type == "import_spec_list":
                stack[:0] = list(node.named_children)
            elif node.type == "import_spec":
                path = node.child_by_field_name("path")
                out.append((decl, _norm(parsed.node_text(node)),
                            parsed.node_text(path) if path is not None else ""))
    return out


def _merge_go(plan: TestPlan, existing: str | None, generated: str) -> list[Edit]:
    gen = _Parsed("go", generated)
    cut = [gen.span(n) for n in gen.root.named_children
           if n.type in ("package_clause", "import_declaration")]
    body = _clean_body(_cut(generated, cut))
    plan_specs = [s for line in plan.imports for _, s, _ in _go_specs(_Parsed("go", line))]
    wanted = [*plan_specs, *(s for _, s, _ in _go_specs(gen))]
    if existing is None:
        clause = plan.header.split("\n", 1)[0]
        specs = _go_missing(wanted, ())
        head = clause + "\n\n" + _go_import_block(specs)
        return [Edit(0, 0, head + "\n" + body + "\n")]

    parsed = _Parsed("go", existing)
    present = _go_specs(parsed)
    missing = _go_missing(wanted, (p for _, _, p in present))
    splices: list[Edit] = []
    if missing:
        decls = [n for n in parsed.root.named_children if n.type == "import_declaration"]
        lists = [
            c for d in decls for c in d.named_children if c.type == "import_spec_list"
        ]
        if lists:
            close = parsed.off(lists[-1].end_byte) - 1
            pos = _line_start(existing, close)
            if existing[pos:close].strip():
                splices.append(Edit(close, close, "".join(f"\n\t{s}" for s in missing) + "\n"))
            else:
                splices.append(Edit(pos, pos, "".join(f"\t{s}\n" for s in missing)))
        elif decls:
            edit = _insert_after_line(existing, parsed.off(decls[-1].end_byte),
                                      [f"import {s}" for s in missing])
            if edit is not None:
                splices.append(edit)
        else:
            package = next((n for n in parsed.root.named_children
                            if n.type == "package_clause"), None)
            block = _go_import_block(missing)
            if package is None:
                splices.append(Edit(0, 0, block + "\n"))
            else:
                edit = _insert_after_line(existing, parsed.off(package.end_byte),
                                          ["", block.rstrip("\n")])
                if edit is not None:
                    splices.append(edit)
    splices.append(_append(existing, body, "\n\n"))
    return splices


def _go_missing(specs: Iterable[str], present_paths: Iterable[str]) -> list[str]:
    seen = set(present_paths)
    out: list[str] = []
    for spec in specs:
        path = spec.rsplit(" ", 1)[-1]
        if path not in seen:
            seen.add(path)
            out.append(spec)
    return out


# ---- Rust
def _rust_split(generated: str) -> tuple[list[str], str]:
    """(use declarations, items) of generated Rust, unwrapping a ``mod tests { … }``."""
    gen = _Parsed("rust", generated)
    uses: list[str] = []
    outside: list[tuple[int, int]] = []
    inner = ""
    for node in gen.root.named_children:
        if node.type == "use_declaration":
            uses.append(_norm(gen.node_text(node)))
            outside.append(gen.span(node))
        elif node.type == "mod_item" and not inner:
            name = node.child_by_field_name("name")
            block = node.child_by_field_name("body")
            if block is None or name is None or gen.node_text(name) not in ("tests", "test"):
                continue
            outside.append(gen.span(node))
            previous = node.prev_named_sibling
            if previous is not None and previous.type == "attribute_item" and \
                    "cfg" in gen.node_text(previous):
                outside.append(gen.span(previous))
            start, end = gen.span(block)
            inner_uses = [gen.span(c) for c in block.named_children if c.type == "use_declaration"]
            uses.extend(_norm(gen.node_text(c)) for c in block.named_children
                        if c.type == "use_declaration")
            inner = _cut(generated[start + 1 : end - 1],
                         ((s - start - 1, e - start - 1) for s, e in inner_uses))
    rest = _clean_body(_cut(generated, outside))
    body = "\n\n".join(p for p in (_clean_body(inner), rest) if p)
    return uses, body


def _merge_rust(plan: TestPlan, existing: str | None, generated: str) -> list[Edit]:
    uses, body = _rust_split(generated)
    wanted = list(dict.fromkeys([*(_norm(i) for i in plan.imports), *uses]))
    if existing is None:  # a new out-of-line test module file
        head = "\n".join(wanted)
        return [Edit(0, 0, (head + "\n\n" if head else "") + body + "\n")]
    parsed = _Parsed("rust", existing)
    module, _ = _rust_tests_module(parsed)
    if module is not None:
        missing = [u for u in wanted if u not in module.uses]
        splices: list[Edit] = []
        if missing and module.last_use_end is not None:
            edit = _insert_after_line(existing, module.last_use_end,
                                      [module.indent + u for u in missing])
            if edit is not None:
                splices.append(edit)
            missing = []
        elif missing and "\n" in existing[module.open_end : module.close]:
            pos = _line_after(existing, module.open_end)
            blank = "" if not existing[pos : _line_after(existing, pos)].strip() else "\n"
            splices.append(Edit(pos, pos, "".join(module.indent + u + "\n" for u in missing)
                                + blank))
            missing = []
        chunk = "\n\n".join(p for p in ("\n".join(missing), body) if p)
        if not chunk:
            return splices
        chunk = _indent(chunk, module.indent)
        pos = _rust_insert_offset(existing, module)
        if pos == module.close:  # `}` shares its line with other text
            mod_indent = module.indent[:-4] if module.indent.endswith("    ") else ""
            splices.append(Edit(pos, pos, "\n" + chunk + "\n" + mod_indent))
        elif existing[: pos].rstrip().endswith("{"):
            splices.append(Edit(pos, pos, chunk + "\n"))
        else:
            splices.append(Edit(pos, pos, "\n" + chunk + "\n"))
        return splices
    if not plan.header.startswith("#[cfg(test)]"):  # an out-of-line test module file
        parsed_uses = [n for n in parsed.root.named_children if n.type == "use_declaration"]
        present = {_norm(parsed.node_text(n)) for n in parsed_uses}
        missing = [u for u in wanted if u not in present]
        splices = []
        if parsed_uses:
            edit = _insert_after_line(existing, parsed.off(parsed_uses[-1].end_byte), missing)
            if edit is not None:
                splices.append(edit)
        elif missing:
            splices.append(Edit(0, 0, "".join(m + "\n" for m in missing) + "\n"))
        splices.append(_append(existing, body, "\n\n"))
        return splices
    module_text = "#[cfg(test)]\nmod tests {\n" + _indent(
        "\n\n".join(p for p in ("\n".join(wanted), body) if p), "    "
    ) + "\n}"
    return [_append(existing, module_text, "\n\n")]


# ---- Java
def _java_class(parsed: _Parsed, name: str | None) -> tree_sitter.Node | None:
    classes = [n for n in parsed.root.named_children if n.type == "class_declaration"]
    for node in classes:
        ident = node.child_by_field_name("name")
        if name is not None and ident is not None and parsed.node_text(ident) == name:
            return node
    return classes[0] if classes else None


def _merge_java(plan: TestPlan, existing: str | None, generated: str) -> list[Edit]:
    gen = _Parsed("java", generated)
    import_nodes = [n for n in gen.root.named_children if n.type == "import_declaration"]
    gen_imports = [_norm(gen.node_text(n)) for n in import_nodes]
    wanted = list(dict.fromkeys([*(_norm(i) for i in plan.imports), *gen_imports]))
    cut = [gen.span(n) for n in gen.root.named_children
           if n.type in ("package_declaration", "import_declaration")]
    test_class = plan.path.stem
    gen_class = _java_class(gen, test_class)
    if existing is None:
        body = _clean_body(_cut(generated, cut))
        if gen_class is None:
            public = "public " if plan.framework == "junit4" else ""
            body = f"{public}class {test_class} {{\n\n" + _indent(body, "    ") + "\n}"
        clause = f"package {plan.module};\n\n" if plan.module else ""
        return [Edit(0, 0, clause + "\n".join(wanted) + "\n\n" + body + "\n")]

    if gen_class is not None and (class_body := gen_class.child_by_field_name("body")):
        start, end = gen.span(class_body)
        members = _clean_body(generated[start + 1 : end - 1])
        outside = _clean_body(_cut(generated, [*cut, gen.span(gen_class)]))
        body = "\n\n".join(p for p in (members, outside) if p)
    else:
        body = _clean_body(_cut(generated, cut))
    parsed = _Parsed("java", existing)
    present = {_norm(parsed.node_text(n)) for n in parsed.root.named_children
               if n.type == "import_declaration"}
    missing = [i for i in wanted if i not in present]
    splices: list[Edit] = []
    imports = [n for n in parsed.root.named_children if n.type == "import_declaration"]
    package = next((n for n in parsed.root.named_children if n.type == "package_declaration"),
                   None)
    if missing:
        if imports:
            edit = _insert_after_line(existing, parsed.off(imports[-1].end_byte), missing)
        elif package is not None:
            edit = _insert_after_line(existing, parsed.off(package.end_byte), ["", *missing])
        else:
            edit = Edit(0, 0, "".join(m + "\n" for m in missing) + "\n")
        if edit is not None:
            splices.append(edit)
    target = _java_class(parsed, test_class)
    class_body = target.child_by_field_name("body") if target is not None else None
    if class_body is None:
        splices.append(_append(existing, body, "\n\n"))
        return splices
    close = parsed.off(class_body.end_byte) - 1
    items = class_body.named_children
    if items:
        first = parsed.off(items[0].start_byte)
        indent = existing[_line_start(existing, first) : first]
        indent = indent if not indent.strip() else "    "
    else:
        indent = "    "
    chunk = _indent(body, indent)
    pos = _line_start(existing, close)
    if existing[pos:close].strip():
        splices.append(Edit(close, close, "\n" + chunk + "\n"))
    elif existing[:pos].rstrip().endswith("{"):
        splices.append(Edit(pos, pos, chunk + "\n"))
    else:
        splices.append(Edit(pos, pos, "\n" + chunk + "\n"))
    return splices
