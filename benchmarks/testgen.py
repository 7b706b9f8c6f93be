"""Test generation on a real repository (issue #4): do Kodama's generated tests parse, import
and pass when the repository's own runner runs them?

One command, one Markdown table. For a seeded sample of public functions and methods of a
repository's package source (default: the sdist of ``requests==2.34.2``, fetched with ``pip
download`` into ``~/.cache/kodama-bench/sdists``; ``--repo PATH`` for another Python
repository), on a temporary copy of the repository:

1. Kodama's task layer builds the request exactly as ``kodama tests FILE:LINE`` does
   (``subject_at`` with repository context from a ``WorkspaceIndex`` of the copy, ``testgen
   .prepare`` / ``chat``), the model answers (``run_chat``: started as a code block, within
   the task's budget),
   ``testgen.finish`` merges the answer into the planned test file (a ``TaskError`` there: the
   answer does not parse, or has no code).
2. The generated tests ALONE go into a fresh file next to the planned one
   (``tests/test_kodama_<n>_<name>.py``): ``testgen.finish`` again, on the same request with the
   existing test file reduced to its module-level imports (a new test file: the plan's header),
   so the file holds the imports the merged file would give the tests and the generated code
   with its imports hoisted — none of the existing tests, fixtures or helpers.
3. That file is run alone with the repository's runner, pytest, from a dedicated virtual
   environment (``~/.cache/kodama-bench/venvs/<repo>``: the repository's test requirements from
   PyPI, the copy installed into it): ``python -m pytest FILE -q -p no:cacheprovider
   --junitxml=…`` with a timeout; the exit code and the JUnit report say whether the file was
   collected and how many of its tests passed.

    .venv/bin/python benchmarks/testgen.py                       # 15 functions of requests
    .venv/bin/python benchmarks/testgen.py --count 3 --json out.json
    .venv/bin/python benchmarks/testgen.py --repo path/to/repo --seed 1 --keep

Progress goes to stderr, the tables to stdout. The helpers without a model (sampling, the
runner's requirements, the isolated test file, classifying pytest outcomes, the tables) are
unit-tested in ``tests/unit/test_bench_testgen.py``.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(ROOT))

from benchmarks.common import SDIST_CACHE, Summary, log, ms, sdist_folders  # noqa: E402

if TYPE_CHECKING:
    from kodama.model.tasks.testgen import TestRequest

DEFAULT_SDIST = "requests==2.34.2"
CACHE = Path.home() / ".cache" / "kodama-bench"
MAX_LINES = 80
"""Longer definitions are not sampled."""
OVERLOAD = re.compile(r"^\s*@(?:\w+\.)?overload\b", re.M)
"""``@overload`` stubs are not sampled (their implementation is)."""
OUTPUT_TAIL = 4000
"""Characters of pytest's output kept per function in the JSON."""

EXCLUDED_DIRS = frozenset({
    "tests", "test", "testing", "docs", "doc", "examples", "example", "benchmarks", "bench",
    "scripts", "tools", "build", "dist", "node_modules", "site-packages", "venv", "env",
    "__pycache__",
})
"""Folders that hold no package source (as well as hidden folders and ``_private`` ones)."""
EXCLUDED_FILES = frozenset({"setup.py", "conftest.py", "noxfile.py", "fabfile.py", "tasks.py"})
TEST_GROUPS = ("test", "tests", "testing", "dev")
"""Dependency groups / extras that hold test requirements."""
REQUIREMENT_FILES = (
    "requirements-dev.txt", "requirements-test.txt", "requirements-tests.txt",
    "requirements-testing.txt", "test-requirements.txt", "test_requirements.txt",
    "dev-requirements.txt", "requirements/test.txt", "requirements/tests.txt",
    "requirements/dev.txt", "requirements/testing.txt",
)
NETWORK_SIGNS = re.compile(
    r"NameResolutionError|Failed to resolve|Name or service not known|Max retries exceeded|"
    r"Temporary failure in name resolution|nodename nor servname|ConnectionError|"
    r"ConnectTimeout|Network is unreachable")
"""What a test that needed the internet fails with here (only PyPI is reachable)."""


# ------------------------------------------------------------------------------ sampling
@dataclass(frozen=True)
class Candidate:
    """A public module-level function or method of a public class."""

    path: str
    """``/``-separated, relative to the repository root."""
    name: str
    qualname: str
    """``name`` or ``Class.name``."""
    kind: str
    """``function`` or ``method``."""
    line: int
    """1-based line of the ``def``."""
    lines: int
    start_byte: int


def source_files(root: Path) -> list[str]:
    """The repository's package source files, sorted: ``.py`` files outside tests, docs,
    examples, build output, hidden and ``_private`` folders; neither test files, ``setup.py``
    and friends, nor ``_private`` modules (``__init__.py`` is kept)."""
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in EXCLUDED_DIRS and not d.startswith((".", "_"))
                         and not d.endswith(".egg-info"))
        rel_dir = Path(folder).relative_to(root).as_posix()
        for name in sorted(files):
            if not name.endswith(".py") or name in EXCLUDED_FILES:
                continue
            if name.startswith("test_") or name.endswith("_test.py"):
                continue
            if name.startswith("_") and name != "__init__.py":
                continue
            found.append(name if rel_dir == "." else f"{rel_dir}/{name}")
    return sorted(found)


def candidates_in(path: str, text: str, max_lines: int = MAX_LINES) -> list[Candidate]:
    """The sampleable definitions of one file: public (no leading underscore) module-level
    functions and methods of public module-level classes, at most ``max_lines`` lines, not
    ``@overload`` stubs."""
    from kodama.syntax import docstrings

    data = text.encode("utf-8")
    targets = docstrings.targets("python", text)

    def inside(inner: Any, outer: Any) -> bool:
        return outer is not inner and outer.start_byte <= inner.start_byte and \
            inner.end_byte <= outer.end_byte

    out: list[Candidate] = []
    for target in targets:
        if target.kind not in ("function", "method") or target.name.startswith("_"):
            continue
        owners = [t for t in targets if inside(target, t)]
        if target.kind == "function":
            if owners:
                continue  # nested in a function or class
            qualname = target.name
        else:
            if len(owners) != 1 or owners[0].kind != "class" or owners[0].name.startswith("_"):
                continue  # a method of a private, nested or local class
            qualname = f"{owners[0].name}.{target.name}"
        code = data[target.start_byte:target.end_byte].decode("utf-8", "replace")
        lines = code.count("\n") + 1
        if lines > max_lines or OVERLOAD.search(code.split("def ", 1)[0]):
            continue
        out.append(Candidate(path=path, name=target.name, qualname=qualname, kind=target.kind,
                             line=target.line + 1, lines=lines, start_byte=target.start_byte))
    return out


def candidates(root: Path, max_lines: int = MAX_LINES) -> list[Candidate]:
    """Every sampleable definition of the repository at ``root``, in file and line order."""
    out: list[Candidate] = []
    for rel in source_files(root):
        try:
            text = (root / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        out.extend(candidates_in(rel, text, max_lines))
    return out


def sample(pool: Sequence[Candidate], count: int, seed: int) -> list[Candidate]:
    """``count`` of ``pool`` drawn at random (``seed``), in the order drawn; all when fewer."""
    ordered = sorted(pool, key=lambda c: (c.path, c.line, c.qualname))
    rng = random.Random(seed)
    return rng.sample(ordered, min(max(count, 0), len(ordered)))


def offset_of(text: str, line: int) -> int:
    """Code-point offset of the first non-blank character of 1-based ``line`` (the ``def``)."""
    rows = text.split("\n")
    start = sum(len(row) + 1 for row in rows[:line - 1])
    row = rows[line - 1] if line - 1 < len(rows) else ""
    return start + len(row) - len(row.lstrip())


# ------------------------------------------------------------------------------ the runner
def requirement_name(spec: str) -> tuple[str, str]:
    """(normalised project name, extras with brackets or '') of a requirement string."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?", spec)
    if match is None:
        return "", ""
    return re.sub(r"[-_.]+", "-", match.group(1)).lower(), (match.group(2) or "").replace(" ", "")


def _group(groups: dict[str, Any], name: str, seen: set[str]) -> list[str]:
    """The requirements of dependency group ``name``, ``include-group`` entries followed."""
    if name in seen:
        return []
    seen.add(name)
    out: list[str] = []
    for item in groups.get(name, []):
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict) and isinstance(item.get("include-group"), str):
            out.extend(_group(groups, item["include-group"], seen))
    return out


def _requirement_lines(path: Path, root: Path, depth: int = 0) -> list[str]:
    """Requirement lines of a requirements file (``-r`` followed inside ``root``; ``-e``
    and local paths kept as ``-e PATH`` so the caller can spot the project itself)."""
    out: list[str] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return out
    for raw in lines:
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")) and depth < 3:
            included = (path.parent / line.split(None, 1)[1]).resolve()
            if included.is_relative_to(root.resolve()):
                out.extend(_requirement_lines(included, root, depth + 1))
        elif line.startswith(("-e ", "--editable ")) or line.startswith((".", "/")):
            out.append("-e " + line.split(None, 1)[-1] if line.startswith("-") else "-e " + line)
        elif not line.startswith("-"):
            out.append(line)
    return out


@dataclass(frozen=True)
class RunnerRequirements:
    """What the runner's environment needs besides the repository itself."""

    __test__ = False

    project: str
    """The repository's project name (normalised), '' when unknown."""
    extras: str
    """Extras to install the repository with, e.g. ``[socks]`` ('' for none)."""
    requirements: tuple[str, ...]
    sources: tuple[str, ...]
    """Where they were found (for the report)."""


def runner_requirements(root: Path) -> RunnerRequirements:
    """The repository's test requirements: ``[dependency-groups]`` and
    ``[project.optional-dependencies]`` named test/tests/testing/dev in ``pyproject.toml``, and
    the usual requirements files (``requirements-dev.txt``, ``test-requirements.txt``, …).
    References to the project itself (``-e .[socks]``, ``requests[socks]``) become its extras;
    pytest is added when nothing names it."""
    project = ""
    extras: set[str] = set()
    found: list[str] = []
    sources: list[str] = []
    pyproject = root / "pyproject.toml"
    data: dict[str, Any] = {}
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
            data = {}
    name = data.get("project", {}).get("name") if isinstance(data.get("project"), dict) else None
    if not name and (root / "setup.cfg").is_file():
        match = re.search(r"^\[metadata\][^\[]*?^name\s*=\s*(\S+)",
                          (root / "setup.cfg").read_text(encoding="utf-8", errors="replace"),
                          re.M | re.S)
        name = match.group(1) if match else None
    if isinstance(name, str):
        project = requirement_name(name)[0]
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        for group in TEST_GROUPS:
            if group in groups:
                found.extend(_group(groups, group, set()))
                sources.append(f"pyproject.toml [dependency-groups] {group}")
    optional = data.get("project", {}).get("optional-dependencies") if isinstance(
        data.get("project"), dict) else None
    if isinstance(optional, dict):
        for group in TEST_GROUPS:
            if isinstance(optional.get(group), list):
                found.extend(str(r) for r in optional[group])
                sources.append(f"pyproject.toml [project.optional-dependencies] {group}")
    for rel in REQUIREMENT_FILES:
        if (root / rel).is_file():
            found.extend(_requirement_lines(root / rel, root))
            sources.append(rel)
    requirements: list[str] = []
    for spec in found:
        if spec.startswith("-e "):
            local = spec[3:].strip()
            bracket = local.find("[")
            target = local[:bracket] if bracket >= 0 else local
            if (root / target).resolve() == root.resolve() and bracket >= 0:
                extras.update(e.strip() for e in local[bracket + 1:].rstrip("]").split(","))
            continue  # another local path: not on PyPI
        spec_name, spec_extras = requirement_name(spec)
        if not spec_name:
            continue
        if project and spec_name == project:
            extras.update(e for e in spec_extras.strip("[]").split(",") if e)
            continue
        if spec not in requirements:
            requirements.append(spec)
    if not any(requirement_name(r)[0] == "pytest" for r in requirements):
        requirements.insert(0, "pytest")
    extra = "[" + ",".join(sorted(e for e in extras if e)) + "]" if any(extras) else ""
    return RunnerRequirements(project, extra, tuple(requirements), tuple(sources))


@dataclass
class Runner:
    """The interpreter that runs the generated tests, and how its environment was made."""

    python: Path
    venv: Path | None
    requirements: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """Requirements that could not be installed."""
    note: str = ""


def function_coverage(python: Path, root: Path, source: str, first: int,
                      count: int) -> float | None:
    """Share of the executable lines ``first`` .. ``first + count - 1`` of the file matching
    ``source`` (a pattern) that the last coverage run (``root/.coverage``) executed; None
    without data or such lines."""
    with tempfile.TemporaryDirectory(prefix="kodama-cov-") as scratch:
        report = Path(scratch) / "coverage.json"
        done = subprocess.run([str(python), "-m", "coverage", "json", "-q", "-o", str(report),
                               f"--include={source}"], cwd=root, capture_output=True,
                              text=True, check=False)
        if done.returncode != 0 or not report.is_file():
            return None
        files = json.loads(report.read_text()).get("files", {})
    data = next(iter(files.values()), None)
    if data is None:
        return None
    span = range(first, first + count)
    executed = {n for n in data.get("executed_lines", []) if n in span}
    missing = {n for n in data.get("missing_lines", []) if n in span}
    return len(executed) / len(executed | missing) if executed | missing else None


def _pip(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check",
                           "-q", *args], capture_output=True, text=True, check=False)


def ensure_runner(copy: Path, venv: Path) -> Runner:
    """The virtual environment at ``venv`` with the test requirements of the repository at
    ``copy`` (installed once; again when they change) and the copy itself installed into it
    (every run, without dependencies: the code under test is the copy's)."""
    reqs = runner_requirements(copy)
    python = venv / "bin" / "python"
    if not python.exists():
        log(f"creating the runner's virtual environment {venv} ...")
        venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True,
                       capture_output=True)
    key = hashlib.sha256(json.dumps([reqs.requirements, reqs.extras, sys.version]).encode())
    stamp = venv / "kodama-bench.json"
    state: dict[str, Any] = {}
    if stamp.is_file():
        try:
            state = json.loads(stamp.read_text())
        except (OSError, json.JSONDecodeError):
            state = {}
    runner = Runner(python=python, venv=venv, requirements=list(reqs.requirements))
    target = f"{copy}{reqs.extras}"
    if state.get("key") != key.hexdigest():
        log(f"installing the repository and its test requirements into {venv} "
            f"(from {', '.join(reqs.sources) or 'nothing: pytest only'}) ...")
        done = _pip(python, target, *reqs.requirements)
        missing: list[str] = []
        if done.returncode != 0:
            log("installing them together failed; one by one ...")
            for spec in (target, *reqs.requirements):
                if _pip(python, spec).returncode != 0:
                    missing.append(spec if spec != target else "the repository itself")
                    log(f"  could not install {spec}")
        state = {"key": key.hexdigest(), "missing": missing}
        stamp.write_text(json.dumps(state))
    else:
        log(f"installing the copy into {venv} ...")
        done = _pip(python, "--no-deps", "--force-reinstall", str(copy))
        if done.returncode != 0:
            raise RuntimeError(f"could not install {copy} into {venv}:\n{done.stderr[-2000:]}")
    runner.missing = list(state.get("missing", []))
    if subprocess.run([str(python), "-c", "import coverage"], capture_output=True,
                      check=False).returncode != 0 and _pip(python, "coverage").returncode != 0:
        runner.missing.append("coverage")
    return runner


def fetch_sdist(spec: str, cache: Path = SDIST_CACHE) -> Path:
    """The unpacked sdist of ``spec`` (``name==version``), downloaded with ``pip download`` and
    unpacked into ``cache`` on first use (:func:`benchmarks.common.sdist_folders`)."""
    name, _, version = spec.partition("==")
    if not version:
        raise ValueError(f"--sdist wants NAME==VERSION, not {spec!r}")
    return sdist_folders(cache, [(name, version)])[0]


def copy_repository(source: Path, into: Path) -> Path:
    """A copy of the repository at ``source`` under ``into`` (no VCS, caches or build output)."""
    target = into / source.resolve().name
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".hg", ".venv", "venv", ".tox", ".nox", "__pycache__", "*.pyc", "node_modules",
        ".mypy_cache", ".pytest_cache", ".ruff_cache", "build", "dist", "*.egg-info"))
    return target


# ------------------------------------------------------------------------------ test files
def isolated_path(planned: Path, number: int, qualname: str) -> Path:
    """The fresh test file next to the planned one: ``test_kodama_<n>_<name>.py``."""
    slug = re.sub(r"\W+", "_", qualname).strip("_").lower() or "subject"
    return planned.parent / f"test_kodama_{number:02d}_{slug}.py"


def existing_imports(text: str | None) -> str:
    """The module-level imports of an existing test file (``import``/``from`` statements, and
    ``try:`` blocks made only of imports), one after the other; '' when there are none or the
    file does not parse."""
    if not text:
        return ""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return ""
    kept: list[str] = []
    for node in tree.body:
        imports = (ast.Import, ast.ImportFrom)
        if isinstance(node, imports) or (isinstance(node, ast.Try) and all(
                isinstance(n, imports) for block in (node.body, *(h.body for h in node.handlers))
                for n in block)):
            segment = ast.get_source_segment(text, node)
            if segment:
                kept.append(segment)
    return "\n".join(kept) + "\n" if kept else ""


def isolated_file(request: TestRequest, answer: str, path: Path) -> str:
    """The generated tests alone as a new test file at ``path``, with the imports the merged
    file would give them: ``testgen.finish`` on the same request, the test file reduced to the
    module-level imports of the existing one (:func:`existing_imports`; none for a new file: the
    plan's header), the generated code merged in with its imports hoisted. The existing tests,
    fixtures and helpers are left out. Raises TaskError as ``finish`` does."""
    from kodama.model.tasks import testgen

    imports = existing_imports(request.existing) if request.plan.path != request.source else ""
    alone = replace(request, existing=imports or None,
                    plan=replace(request.plan, path=path, exists=bool(imports)))
    text: str = testgen.finish(alone, answer).text
    return text


def redefined_tests(existing: str | None, code: str) -> list[str]:
    """Names of module-level functions and classes of ``code`` that the existing test file
    already defines (merged, the generated one would shadow the existing one)."""
    def names(text: str | None) -> list[str]:
        try:
            tree = ast.parse(text or "")
        except SyntaxError:
            return []
        return [n.name for n in tree.body if isinstance(
            n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]

    there = set(names(existing))
    return [name for name in names(code) if name in there]


def task_error_kind(message: str) -> str:
    """The failure kind of a ``TaskError`` from ``testgen.finish``."""
    if "wrote no" in message:
        return "no test in the answer"
    if "only repeated existing tests" in message:
        return "only copies of existing tests"
    if "do not parse" in message:
        return "does not parse"
    return "task error"


# ------------------------------------------------------------------------------ pytest
@dataclass(frozen=True)
class Outcome:
    """What running one generated test file gave."""

    collects: bool
    """Imported and at least one test collected (pytest exit code 0 or 1)."""
    passes: bool
    """Every test collected passed (exit code 0; skipped tests allowed)."""
    collected: int
    passed: int
    failed: int
    """Failures and errors (setup errors included)."""
    skipped: int
    reason: str
    """``passed`` or the failure kind (see :func:`classify`)."""


def summary_counts(output: str) -> dict[str, int]:
    """Counts from pytest's summary line (``2 failed, 3 passed, 1 error in 0.1s``)."""
    counts: dict[str, int] = {}
    lines = [line for line in output.splitlines() if re.search(r"\bin [\d.]+s\b", line)]
    if not lines:
        return counts
    for number, word in re.findall(
            r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected)", lines[-1]):
        key = "errors" if word.startswith("error") else word
        counts[key] = counts.get(key, 0) + int(number)
    return counts


def _exception_type(text: str) -> str | None:
    """The exception a failure message or ``E   …`` line names."""
    match = re.search(r"(?:^|\n)(?:E\s+)?([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt))\b",
                      text)
    if match:
        return match.group(1).rsplit(".", 1)[-1]
    if re.search(r"(?:^|\n)(?:E\s+)?assert\b", text):
        return "AssertionError"
    return None


def _failure_kind(message: str, details: str) -> str:
    both = message + "\n" + details
    if re.search(r"fixture '[^']+' not found", both):
        return "fixture not found"
    if NETWORK_SIGNS.search(both):
        return "needs network"
    kind = _exception_type(message) or _exception_type(details)
    if kind == "AssertionError":
        return "assertion failed"
    return f"exception: {kind}" if kind else "test failed"


@dataclass(frozen=True)
class _Report:
    collected: int
    passed: int
    failed: int
    skipped: int
    kinds: tuple[str, ...]


def junit_report(text: str) -> _Report | None:
    """Counts and failure kinds of pytest's JUnit XML (None when it cannot be read)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    passed = failed = skipped = 0
    kinds: list[str] = []
    cases = list(root.iter("testcase"))
    for case in cases:
        bad = [c for c in case if c.tag in ("failure", "error")]
        if bad:
            failed += 1
            kinds.append(_failure_kind(bad[0].get("message", ""), bad[0].text or ""))
        elif any(c.tag == "skipped" for c in case):
            skipped += 1
        else:
            passed += 1
    return _Report(len(cases), passed, failed, skipped, tuple(kinds))


def classify(returncode: int | None, output: str, junit: str | None = None) -> Outcome:
    """The outcome of ``pytest FILE`` from its exit code (None: timed out), its output and
    its JUnit XML report.

    Exit code 0 or 1 means the file was imported and its tests ran; 2 (a collection error —
    the import failed, or a name was missing at import time), 3, 4 (internal, usage error) and
    5 (no tests collected) mean it was not. Failure kinds: ``timeout``, ``import error``
    (ImportError/ModuleNotFoundError while collecting), ``collection error: <Type>``, ``no tests
    collected``, ``pytest internal error``, ``pytest usage error``; for files that ran, the most
    frequent kind among the failing tests: ``assertion failed`` (a wrong expected value),
    ``exception: <Type>`` (the test raised), ``fixture not found``, ``needs network``.
    """
    if returncode is None:
        return Outcome(False, False, 0, 0, 0, 0, "timeout")
    report = junit_report(junit) if junit else None
    if returncode in (0, 1):
        if report is not None:
            collected, passed, failed, skipped = (report.collected, report.passed,
                                                  report.failed, report.skipped)
            kinds = list(report.kinds)
        else:
            counts = summary_counts(output)
            passed, skipped = counts.get("passed", 0), counts.get("skipped", 0)
            failed = counts.get("failed", 0) + counts.get("errors", 0)
            collected = passed + failed + skipped + counts.get("xfailed", 0) + counts.get(
                "xpassed", 0)
            kinds = [_failure_kind("", output)] * failed
        if returncode == 0:
            return Outcome(True, collected > 0, collected, passed, failed, skipped,
                           "passed" if collected else "no tests collected")
        reason = Counter(kinds).most_common(1)[0][0] if kinds else _failure_kind("", output)
        return Outcome(True, False, collected, passed, failed, skipped, reason)
    if returncode == 2:
        kind = _exception_type("\n".join(
            line for line in output.splitlines() if line.startswith("E ")))
        if kind in ("ImportError", "ModuleNotFoundError"):
            reason = "import error"
        else:
            reason = f"collection error: {kind}" if kind else "collection error"
    elif returncode == 5:
        reason = "no tests collected"
    elif returncode == 3:
        reason = "pytest internal error"
    elif returncode == 4:
        reason = "pytest usage error"
    else:
        reason = f"pytest exit code {returncode}"
    return Outcome(False, False, 0, 0, 0, 0, reason)


def pytest_command(python: Path, test_file: str, junit: Path, *,
                   noconftest: bool = False) -> list[str]:
    """The command that runs one generated test file alone."""
    command = [str(python), "-m", "pytest", test_file, "-q", "-p", "no:cacheprovider",
               "--tb=short", f"--junitxml={junit}"]
    if noconftest:
        command.append("--noconftest")
    return command


def run_pytest(python: Path, root: Path, test_file: Path, *, timeout: float,
               noconftest: bool = False, cover: str | None = None) -> tuple[Outcome, str]:
    """Run ``test_file`` alone with pytest from ``root`` (its rootdir and configuration);
    the outcome and pytest's output. With ``cover`` (a file pattern), under coverage.py
    measuring the files it matches (data in ``root/.coverage``)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTEST_ADDOPTS")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    with tempfile.TemporaryDirectory(prefix="kodama-junit-") as scratch:
        junit = Path(scratch) / "report.xml"
        command = pytest_command(python, test_file.relative_to(root).as_posix(), junit,
                                 noconftest=noconftest)
        if cover is not None:
            command[1:3] = ["-m", "coverage", "run", f"--include={cover}", "-m", "pytest"]
        process = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            output, _ = process.communicate(timeout=timeout)
            returncode: int | None = process.returncode
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            output += f"\n[killed after {timeout:g} s]"
            returncode = None
        report = junit.read_text(encoding="utf-8", errors="replace") if junit.is_file() else None
    return classify(returncode, output, report), output


# ------------------------------------------------------------------------------ results
@dataclass
class Record:
    """One sampled function, from generation to pytest."""

    number: int
    path: str
    qualname: str
    kind: str
    line: int
    lines: int
    test_file: str = ""
    """The planned test file (relative)."""
    run_file: str = ""
    """The isolated file that was run (relative)."""
    prompt_tokens: int = 0
    tokens: int = 0
    latency_ms: float = 0.0
    answer: str = ""
    code: str = ""
    """The isolated test file that was run."""
    redefines: list[str] = field(default_factory=list)
    """Generated definitions the existing test file already has (merged, they shadow it)."""
    parses: bool = False
    collects: bool = False
    passes: bool = False
    collected: int = 0
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    reason: str = ""
    error: str = ""
    """The TaskError's message, when there was one."""
    output_tail: str = ""
    generated_tests: int = 0
    """Tests in the generated code (what the check ran)."""
    offered: bool = False
    """The checked task offered tests (some passed twice, or they could not be run)."""
    offered_tests: int = 0
    offered_collected: int = 0
    offered_passed: int = 0
    """The offered tests alone, run again with the benchmark's own runner."""
    check: str = ""
    """The checked task's message, or the TaskError that refused to offer anything."""
    check_ms: float = 0.0
    """Wall time of the check (copies of the repository, pytest runs, repair generations)."""
    repaired: int = 0
    """Offered tests that passed only after a repair round."""
    coverage: float | None = None
    """Share of the function's executable lines the offered tests run (coverage.py)."""


def pct(part: int, whole: int) -> str:
    """``part`` of ``whole`` for a table cell: ``66.7 % (2)``, '–' when ``whole`` is 0."""
    if whole <= 0:
        return "–"
    return f"{100 * part / whole:.1f} % ({part})"


def summary_table(records: Sequence[Record], label: str) -> str:
    """The headline Markdown table and the failure kinds."""
    n = len(records)
    collected = sum(r.collected for r in records)
    latency = Summary.of([r.latency_ms for r in records if r.latency_ms > 0])
    rows = [
        "| repository | n | parses | imports + collects | all tests pass | tests passing | "
        "p50 / p95 ms |",
        "|---|---|---|---|---|---|---|",
        f"| {label} | {n} | {pct(sum(r.parses for r in records), n)} | "
        f"{pct(sum(r.collects for r in records), n)} | {pct(sum(r.passes for r in records), n)} "
        f"| {pct(sum(r.passed for r in records), collected)} of {collected} | "
        f"{ms(latency.p50)} / {ms(latency.p95)} |",
    ]
    offered = [r for r in records if r.offered]
    offered_collected = sum(r.offered_collected for r in offered)
    total = Summary.of([r.latency_ms + r.check_ms for r in records if r.latency_ms > 0])
    covered = [r.coverage for r in offered if r.coverage is not None]
    mean_cover = f"{100 * sum(covered) / len(covered):.0f} % (n {len(covered)})" if covered \
        else "–"
    rows += [
        "",
        "| checked (what is offered) | offered | all offered tests pass | offered tests "
        "passing | tests kept per function | repaired | line coverage of the function | "
        "generation + check p50 / p95 ms |",
        "|---|---|---|---|---|---|---|---|",
        f"| {label} | {pct(len(offered), n)} | "
        f"{pct(sum(r.offered_passed == r.offered_collected > 0 for r in offered), n)} | "
        f"{pct(sum(r.offered_passed for r in offered), offered_collected)} of "
        f"{offered_collected} | {sum(r.offered_tests for r in offered) / max(n, 1):.2f} "
        f"(of {sum(r.generated_tests for r in records) / max(n, 1):.2f} generated) | "
        f"{sum(r.repaired for r in offered)} | {mean_cover} | "
        f"{ms(total.p50)} / {ms(total.p95)} |",
    ]
    reasons = Counter(r.reason for r in records if r.reason != "passed")
    if reasons:
        rows += ["", "| failure kind | files |", "|---|---|"]
        rows += [f"| {kind} | {count} |" for kind, count in sorted(
            reasons.items(), key=lambda item: (-item[1], item[0]))]
    return "\n".join(rows)


def detail_table(records: Iterable[Record]) -> str:
    """One row per sampled function."""
    rows = ["| # | function | test file run | parses | tests passed | outcome | tokens | s |",
            "|---|---|---|---|---|---|---|---|"]
    for r in records:
        tests = f"{r.passed}/{r.collected}" if r.collects else "–"
        rows.append(f"| {r.number} | `{r.path}:{r.line}` {r.qualname} | {r.run_file or '–'} | "
                    f"{'yes' if r.parses else 'no'} | {tests} | {r.reason} | {r.tokens} | "
                    f"{r.latency_ms / 1000:.1f} |")
    return "\n".join(rows)


# ------------------------------------------------------------------------------ main
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, default=None,
                        help="a Python repository to use (default: the sdist of --sdist)")
    parser.add_argument("--sdist", default=DEFAULT_SDIST,
                        help="NAME==VERSION whose sdist is fetched with pip download when no "
                        f"--repo is given (default {DEFAULT_SDIST})")
    parser.add_argument("--count", type=int, default=15, help="functions sampled (default 15)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    parser.add_argument("--max-lines", type=int, default=MAX_LINES,
                        help=f"longest definition sampled, in lines (default {MAX_LINES})")
    parser.add_argument("--model", default="default", help="model preset, folder or GGUF")
    parser.add_argument("--dtype", default="auto", choices=["auto", "bfloat16", "float32"])
    parser.add_argument("--quantization", default="int8", choices=["none", "int8", "int4"],
                        help="weight format of the Engine (default int8, the server's)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds one generated test file may run, and one test in the "
                        "check (default 60)")
    parser.add_argument("--repairs", type=int, default=2,
                        help="repair rounds of the check (default 2, the server's)")
    parser.add_argument("--python", type=Path, default=None,
                        help="run pytest with this interpreter instead of the benchmark's own "
                        "virtual environment (it must have pytest and the repository)")
    parser.add_argument("--venvs", type=Path, default=CACHE / "venvs",
                        help="where the runners' virtual environments live "
                        "(default ~/.cache/kodama-bench/venvs)")
    parser.add_argument("--noconftest", action="store_true",
                        help="run pytest with --noconftest (when the repository's conftest.py "
                        "needs plugins that cannot be installed)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary copy with the generated test files")
    parser.add_argument("--json", type=Path, default=None,
                        help="write every record (generated code, pytest output) here")
    return parser.parse_args(argv)


def generate_all(args: argparse.Namespace, copy: Path,
                 picked: Sequence[Candidate]) -> tuple[list[tuple[Record, Any]], Any]:
    """Plan, prompt and generate the tests of every sampled definition (before any generated
    file is written into the copy, so no plan sees another's tests)."""
    from kodama.model.context.index import WorkspaceIndex
    from kodama.model.context.provider import RepositoryContext
    from kodama.model.errors import TaskError
    from kodama.model.tasks import testgen
    from kodama.model.tasks.generate import run_chat
    from kodama.model.tasks.subject import subject_at
    from kodama.server.config import ContextConfig

    log(f"indexing {copy} ...")
    index = WorkspaceIndex(copy, max_files=ContextConfig().max_files, persist=False)
    index.build()
    context = RepositoryContext(index)

    from kodama.model.engine import Engine  # imports torch
    from kodama.model.loader import load_model

    log(f"loading model {args.model} ({args.quantization}, {args.threads} threads) ...")
    engine = Engine(load_model(args.model, dtype=args.dtype, threads=args.threads),
                    quantization=args.quantization)
    done: list[tuple[Record, Any]] = []
    for number, cand in enumerate(picked, 1):
        record = Record(number=number, path=cand.path, qualname=cand.qualname, kind=cand.kind,
                        line=cand.line, lines=cand.lines)
        source = copy / cand.path
        text = source.read_text(encoding="utf-8")
        offset = offset_of(text, cand.line)
        bare = subject_at("python", text, offset, path=cand.path)
        if bare is None or bare.target.start_byte != cand.start_byte:
            record.reason = record.error = "no subject at the definition"
            done.append((record, None))
            continue
        subject = replace(bare, context=context.snippets(cand.path, text, bare.middle))
        try:
            request = testgen.prepare(subject, copy, source, open_text=lambda _p: None)
        except TaskError as exc:
            record.reason, record.error = "no test plan", str(exc)
            done.append((record, None))
            continue
        record.test_file = request.plan.path.relative_to(copy).as_posix()
        started = time.perf_counter()
        generation = run_chat(engine, testgen.chat(request))
        record.latency_ms = (time.perf_counter() - started) * 1000
        record.prompt_tokens, record.tokens = generation.prompt_tokens, generation.tokens
        record.answer = generation.text
        try:
            testgen.finish(request, generation.text)
            record.parses = True
        except TaskError as exc:
            record.reason, record.error = task_error_kind(str(exc)), str(exc)
        log(f"{number}/{len(picked)} {cand.path}:{cand.line} {cand.qualname}: "
            f"{generation.tokens} tokens in {record.latency_ms / 1000:.1f} s"
            f" ({generation.prompt_tokens} prompt tokens) -> {record.test_file}"
            + ("" if record.parses else f" [{record.reason}]"))
        done.append((record, request))
    return done, engine


def run_all(args: argparse.Namespace, copy: Path, python: Path,
            generated: Sequence[tuple[Record, Any]], engine: Any) -> list[Record]:
    """Write each parsing answer's isolated test file and run it alone."""
    from kodama.model.errors import TaskError

    records: list[Record] = []
    for record, request in generated:
        records.append(record)
        if not record.parses or request is None:
            continue
        path = isolated_path(request.plan.path, record.number, record.qualname)
        try:
            record.code = isolated_file(request, record.answer, path)
        except TaskError as exc:
            record.parses = False
            record.reason, record.error = "isolated file does not parse", str(exc)
            continue
        record.redefines = redefined_tests(request.existing, record.code)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(record.code, encoding="utf-8")
        record.run_file = path.relative_to(copy).as_posix()
        outcome, output = run_pytest(python, copy, path, timeout=args.timeout,
                                     noconftest=args.noconftest)
        record.collects, record.passes = outcome.collects, outcome.passes
        record.collected, record.passed = outcome.collected, outcome.passed
        record.failed, record.skipped = outcome.failed, outcome.skipped
        record.reason = outcome.reason
        record.output_tail = output[-OUTPUT_TAIL:]
        log(f"{record.number}/{len(generated)} {record.run_file}: {outcome.reason} "
            f"({outcome.passed}/{outcome.collected} tests passed)")
        path.unlink()  # the check copies the repository: no other record's file in it
        check_record(args, copy, python, request, record, engine)
    return records


def check_record(args: argparse.Namespace, copy: Path, python: Path, request: Any,
                 record: Record, engine: Any) -> None:
    """What the product offers for this answer (``testcheck.checked`` as the server runs it:
    twice in a scratch copy, repair rounds with the same engine, only the passing tests
    kept), then the offered tests alone run again with the benchmark's runner (they must all
    pass) under coverage.py, for the share of the function's lines they run."""
    from kodama.model.config import TestRunConfig
    from kodama.model.errors import TaskError
    from kodama.model.tasks import pytestrun, testcheck, testgen
    from kodama.model.tasks.generate import run_chat

    started = time.perf_counter()
    try:
        code = testgen.tests_code(request, record.answer)
        record.generated_tests = len(pytestrun.test_ids(code))
        checked = testcheck.checked(request, code, TestRunConfig(
            python=str(python), timeout_s=int(args.timeout), repairs=args.repairs),
            ask=lambda chat: run_chat(engine, chat).text)
    except TaskError as exc:
        record.check = str(exc)
        record.check_ms = (time.perf_counter() - started) * 1000
        log(f"{record.number}: nothing offered ({exc})")
        return
    record.check_ms = (time.perf_counter() - started) * 1000
    record.offered, record.offered_tests, record.check = True, checked.kept, checked.message
    found = re.search(r"\((\d+) of them repaired\)", checked.message)
    record.repaired = int(found[1]) if found else 0
    path = isolated_path(request.plan.path, record.number, record.qualname)
    try:
        path.write_text(isolated_file(request, checked.code, path), encoding="utf-8")
    except TaskError as exc:  # the offered tests alone do not make a file of their own
        record.check += f"; not re-run alone: {exc}"
        return
    # The runner has the copy installed (not editable): its module runs from site-packages,
    # found by its path inside the package.
    pattern = "*/" + record.path.removeprefix("src/")
    outcome, _ = run_pytest(python, copy, path, timeout=args.timeout, noconftest=args.noconftest,
                            cover=pattern)
    path.unlink()
    record.offered_collected, record.offered_passed = outcome.collected, outcome.passed
    record.coverage = function_coverage(python, copy, pattern, record.line, record.lines)
    (copy / ".coverage").unlink(missing_ok=True)
    cover = "–" if record.coverage is None else f"{100 * record.coverage:.0f} %"
    log(f"{record.number}: offered {checked.kept}/{record.generated_tests} tests "
        f"({checked.message}); alone: {outcome.passed}/{outcome.collected} pass; "
        f"function lines covered {cover}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the tables."""
    args = parse_args(argv)
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    source = args.repo.resolve() if args.repo else fetch_sdist(args.sdist)
    if not source.is_dir():
        raise SystemExit(f"{source} is not a folder")
    scratch = Path(tempfile.mkdtemp(prefix="kodama-testgen-"))
    try:
        copy = copy_repository(source, scratch)
        log(f"working on a copy: {copy}")
        if args.python is not None:
            runner = Runner(python=args.python, venv=None, note="--python")
        else:
            runner = ensure_runner(copy, args.venvs / source.name)
        if runner.missing:
            log(f"not installed into the runner: {', '.join(runner.missing)}")
        pool = candidates(copy, args.max_lines)
        picked = sample(pool, args.count, args.seed)
        log(f"{len(picked)} of {len(pool)} public functions and methods sampled (seed "
            f"{args.seed})")
        generated, engine = generate_all(args, copy, picked)
        records = run_all(args, copy, runner.python, generated, engine)
    finally:
        if args.keep:
            log(f"kept the copy with the generated tests: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    redefining = sum(bool(r.redefines) for r in records)
    print(summary_table(records, source.name))
    print()
    print(detail_table(records))
    print()
    print(f"Model {args.model} ({args.quantization}, {args.threads} threads); seed {args.seed}, "
          f"{len(records)} of {len(pool)} candidates; pytest timeout {args.timeout:g} s"
          + (", --noconftest" if args.noconftest else "")
          + (f"; not installed: {', '.join(runner.missing)}" if runner.missing else "")
          + (f"; {redefining} generated file(s) redefine a test of the existing test file"
             if redefining else "")
          + f"; load average before {load_before}, after {load_after}.")
    if args.json is not None:
        args.json.write_text(json.dumps({
            "repository": str(source), "seed": args.seed, "count": args.count,
            "candidates": len(pool), "model": args.model, "quantization": args.quantization,
            "threads": args.threads, "timeout_s": args.timeout, "noconftest": args.noconftest,
            "runner": {"python": str(runner.python), "requirements": runner.requirements,
                       "missing": runner.missing},
            "load_before": load_before, "load_after": load_after,
            "records": [asdict(r) for r in records],
        }, indent=2))
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
