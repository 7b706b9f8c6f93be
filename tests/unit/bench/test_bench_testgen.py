"""The test-generation benchmark's helpers: sampling, the runner's requirements, the isolated
test file, classifying pytest outcomes, the tables (no model)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root

from benchmarks.testgen import (
    Candidate,
    Record,
    candidates,
    candidates_in,
    classify,
    detail_table,
    existing_imports,
    isolated_file,
    isolated_path,
    offset_of,
    pct,
    redefined_tests,
    requirement_name,
    run_pytest,
    runner_requirements,
    sample,
    source_files,
    summary_counts,
    summary_table,
    task_error_kind,
)
from kodama.model.errors import TaskError
from kodama.model.tasks import testgen
from kodama.model.tasks.subject import subject_at

MODULE = textwrap.dedent('''\
    """A module."""
    import typing


    def public(a, b):
        """Add."""
        def nested():
            return 1
        return a + b


    def _private():
        return 2


    class Shape:
        def area(self):
            return 0

        def _hidden(self):
            return 1

        class Inner:
            def deep(self):
                return 2

        @typing.overload
        def scale(self, k: int) -> int: ...
        def scale(self, k):
            return k


    class _Secret:
        def method(self):
            return 3


    def factory():
        class Local:
            def inside(self):
                return 4
        return Local
    ''')


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


# ------------------------------------------------------------------------------ sampling
def test_candidates_are_public_top_level_functions_and_methods_of_public_classes() -> None:
    found = candidates_in("pkg/mod.py", MODULE)
    assert [(c.qualname, c.kind) for c in found] == [
        ("public", "function"), ("Shape.area", "method"), ("Shape.scale", "method"),
        ("factory", "function"),
    ]
    public = found[0]
    assert public.line == 5 and public.lines == 5
    assert MODULE.splitlines()[public.line - 1].startswith("def public")
    assert MODULE.encode()[public.start_byte:].startswith(b"def public")
    # the implementation of the overloaded method, not its stub
    scale = found[2]
    assert MODULE.splitlines()[scale.line - 1].strip() == "def scale(self, k):"


def test_candidates_skip_long_definitions() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(90))
    text = f"def long():\n{body}\n    return 0\n\n\ndef short():\n    return 1\n"
    assert [c.name for c in candidates_in("m.py", text)] == ["short"]
    assert [c.name for c in candidates_in("m.py", text, max_lines=200)] == ["long", "short"]


def test_source_files_leave_out_tests_docs_private_and_setup(tmp_path: Path) -> None:
    write(tmp_path, {
        "setup.py": "def setup_it(): pass\n",
        "src/pkg/__init__.py": "def top(): pass\n",
        "src/pkg/core.py": "def run(): pass\n",
        "src/pkg/_internal.py": "def helper(): pass\n",
        "src/pkg/_vendor/lib.py": "def vendored(): pass\n",
        "src/pkg/sub/util.py": "def util(): pass\n",
        "tests/test_core.py": "def test_run(): pass\n",
        "tests/conftest.py": "",
        "docs/conf.py": "def setup(app): pass\n",
        ".hidden/x.py": "def x(): pass\n",
        "src/pkg/core_test.py": "def test_x(): pass\n",
        "noxfile.py": "def tests(session): pass\n",
    })
    assert source_files(tmp_path) == [
        "src/pkg/__init__.py", "src/pkg/core.py", "src/pkg/sub/util.py"]
    assert [c.qualname for c in candidates(tmp_path)] == ["top", "run", "util"]


def test_sample_is_seeded_order_independent_and_bounded() -> None:
    pool = [Candidate(f"m{i % 3}.py", f"f{i}", f"f{i}", "function", i + 1, 3, 0)
            for i in range(30)]
    first = sample(pool, 5, seed=7)
    assert len(first) == 5 and len(set(first)) == 5
    assert sample(list(reversed(pool)), 5, seed=7) == first
    assert sample(pool, 5, seed=8) != first
    assert sorted(sample(pool, 100, seed=0), key=pool.index) == pool
    assert sample(pool, 0, seed=0) == []


def test_offset_of_points_at_the_def() -> None:
    text = "x = 1\n\nclass A:\n    @property\n    def b(self):\n        return 2\n"
    offset = offset_of(text, 5)
    assert text[offset:].startswith("def b")
    target = subject_at("python", text, offset, path="m.py")
    assert target is not None and target.name == "b" and target.kind == "method"


# ------------------------------------------------------------------------------ runner
def test_requirement_name_normalises_and_keeps_extras() -> None:
    assert requirement_name("Pytest_Mock>=3") == ("pytest-mock", "")
    assert requirement_name("requests[socks, security] ; python_version>'3'") == (
        "requests", "[socks,security]")
    assert requirement_name("  ") == ("", "")


def test_runner_requirements_read_groups_extras_and_requirement_files(tmp_path: Path) -> None:
    write(tmp_path, {
        "pyproject.toml": """\
            [project]
            name = "Demo_Pkg"
            [project.optional-dependencies]
            fast = ["ujson"]
            testing = ["hypothesis"]
            [dependency-groups]
            lint = ["ruff"]
            test = ["demo-pkg[fast]", "pytest-mock", {include-group = "extra"}]
            extra = ["trustme"]
            """,
        "requirements-dev.txt": """\
            -e .[socks]
            -r requirements/base.txt
            pytest>=7  # the runner
            # a comment
            --index-url https://example.invalid
            -e ../elsewhere
            """,
        "requirements/base.txt": "wheel\n",
    })
    reqs = runner_requirements(tmp_path)
    assert reqs.project == "demo-pkg"
    assert reqs.extras == "[fast,socks]"
    assert reqs.requirements == ("pytest-mock", "trustme", "hypothesis", "wheel", "pytest>=7")
    assert reqs.sources == ("pyproject.toml [dependency-groups] test",
                            "pyproject.toml [project.optional-dependencies] testing",
                            "requirements-dev.txt")


def test_runner_requirements_add_pytest_when_nothing_names_it(tmp_path: Path) -> None:
    reqs = runner_requirements(tmp_path)
    assert reqs.requirements == ("pytest",) and reqs.extras == "" and reqs.sources == ()


# ------------------------------------------------------------------------------ test files
def request_for(root: Path, name: str) -> testgen.TestRequest:
    source = root / "src" / "pkg" / "calc.py"
    text = source.read_text(encoding="utf-8")
    offset = text.index(f"def {name}")
    subject = subject_at("python", text, offset, path="src/pkg/calc.py")
    assert subject is not None
    return testgen.prepare(subject, root, source, open_text=lambda _p: None)


CALC_REPO: dict[str, str] = {
    "pyproject.toml": '[project]\nname = "pkg"\n[tool.pytest.ini_options]\n',
    "src/pkg/__init__.py": "",
    "src/pkg/calc.py": """\
        def add(a, b):
            return a + b


        class Box:
            def size(self):
                return 3
        """,
    "tests/__init__.py": "",
    "tests/helpers.py": "TWO = 2\n",
    "tests/test_calc.py": """\
        import pytest

        from pkg.calc import add

        from .helpers import TWO


        @pytest.fixture
        def two():
            return TWO


        def test_existing(two):
            assert add(1, 1) == two
        """,
}


def test_isolated_file_holds_the_imports_and_the_generated_tests_only(tmp_path: Path) -> None:
    write(tmp_path, CALC_REPO)
    request = request_for(tmp_path, "add")
    assert request.plan.path == tmp_path / "tests" / "test_calc.py" and request.plan.exists
    path = isolated_path(request.plan.path, 3, "add")
    assert path == tmp_path / "tests" / "test_kodama_03_add.py"
    answer = ("Here are the tests:\n```python\nimport math\n\ndef test_add():\n"
              "    assert add(2, 3) == 5 == TWO + 3\n"
              "    assert math.isclose(add(0.1, 0.2), 0.3)\n```\n")
    text = isolated_file(request, answer, path)
    assert text == ("import pytest\nfrom pkg.calc import add\nfrom .helpers import TWO\n"
                    "import math\n\n\ndef test_add():\n    assert add(2, 3) == 5 == TWO + 3\n"
                    "    assert math.isclose(add(0.1, 0.2), 0.3)\n")
    # the merged product file still carries the existing test and fixture
    merged = testgen.finish(request, answer).text
    assert "def test_existing" in merged and "def two" in merged


def test_isolated_file_of_a_new_test_file_starts_with_the_plan_header(tmp_path: Path) -> None:
    files = {k: v for k, v in CALC_REPO.items() if k != "tests/test_calc.py"}
    write(tmp_path, {**files, "tests/test_other.py": "def test_x():\n    pass\n"})
    request = request_for(tmp_path, "add")
    assert not request.plan.exists and request.existing is None
    path = isolated_path(request.plan.path, 1, "add")
    text = isolated_file(request, "def test_add():\n    assert add(1, 2) == 3\n", path)
    assert text == "from pkg.calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
    assert "import pytest" not in text  # the plan's header drops it when nothing uses it


def test_existing_imports_keeps_module_level_imports_only() -> None:
    text = textwrap.dedent("""\
        \"\"\"Tests.\"\"\"
        import os
        from .compat import (
            StringIO,
        )
        try:
            import simplejson as json
        except ImportError:
            import json
        try:
            VALUE = 1
        except Exception:
            VALUE = 2

        def test_x():
            import sys
        """)
    assert existing_imports(text) == (
        "import os\nfrom .compat import (\n    StringIO,\n)\n"
        "try:\n    import simplejson as json\nexcept ImportError:\n    import json\n")
    assert existing_imports("def broken(:\n") == ""
    assert existing_imports(None) == ""


def test_redefined_tests_names_what_the_merge_would_shadow() -> None:
    existing = "import x\n\ndef test_a():\n    pass\n\nclass TestB:\n    pass\n"
    code = "def test_a():\n    pass\n\ndef test_c():\n    pass\n\nclass TestB:\n    pass\n"
    assert redefined_tests(existing, code) == ["test_a", "TestB"]
    assert redefined_tests(None, code) == []


def test_isolated_file_imports_the_class_of_a_method(tmp_path: Path) -> None:
    write(tmp_path, CALC_REPO)
    request = request_for(tmp_path, "size")
    path = isolated_path(request.plan.path, 12, "Box.size")
    assert path.name == "test_kodama_12_box_size.py"
    text = isolated_file(request, "def test_size():\n    assert Box().size() == 3\n", path)
    assert "from pkg.calc import Box" in text


def test_isolated_file_raises_like_finish(tmp_path: Path) -> None:
    write(tmp_path, CALC_REPO)
    request = request_for(tmp_path, "add")
    path = isolated_path(request.plan.path, 1, "add")
    with pytest.raises(TaskError) as broken:
        isolated_file(request, "```python\ndef test_add(:\n```", path)
    assert task_error_kind(str(broken.value)) == "does not parse"
    with pytest.raises(TaskError) as empty:
        isolated_file(request, "```python\n\n```", path)
    assert task_error_kind(str(empty.value)) == "no test in the answer"
    assert task_error_kind("something else") == "task error"


# ------------------------------------------------------------------------------ outcomes
JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="1"
failures="3" skipped="1" tests="7">
<testcase classname="tests.t" name="test_ok" time="0.001" />
<testcase classname="tests.t" name="test_ok2" time="0.001" />
<testcase classname="tests.t" name="test_wrong"><failure message="AssertionError: assert 5 == 6"
>def test_wrong():
&gt;       assert add(2, 3) == 6
E       assert 5 == 6</failure></testcase>
<testcase classname="tests.t" name="test_old"><failure message="assert 1 == 2">E assert 1 == 2
</failure></testcase>
<testcase classname="tests.t" name="test_type"><failure message="TypeError: bad operand"
>E   TypeError: bad operand</failure></testcase>
<testcase classname="tests.t" name="test_fix"><error message="failed on setup with &quot;file
x.py, line 3&quot;">file x.py, line 3
  def test_fix(tmp_thing):
E       fixture 'tmp_thing' not found</error></testcase>
<testcase classname="tests.t" name="test_skip"><skipped message="no" /></testcase>
</testsuite></testsuites>"""


def test_classify_a_file_whose_tests_ran_from_its_junit_report() -> None:
    outcome = classify(1, "4 failed, 2 passed, 1 skipped in 0.10s", JUNIT)
    assert outcome.collects and not outcome.passes
    assert (outcome.collected, outcome.passed, outcome.failed, outcome.skipped) == (7, 2, 4, 1)
    assert outcome.reason == "assertion failed"  # 2 of the 4 failures


def test_classify_without_a_report_falls_back_on_the_summary_line() -> None:
    outcome = classify(0, "....\n4 passed, 1 skipped in 0.02s\n")
    assert outcome.collects and outcome.passes and outcome.reason == "passed"
    assert (outcome.collected, outcome.passed, outcome.skipped) == (5, 4, 1)
    failing = classify(1, "F.\nE   requests.exceptions.ConnectionError: Failed to resolve\n"
                          "1 failed, 1 passed in 0.3s\n")
    assert failing.reason == "needs network" and (failing.collected, failing.failed) == (2, 1)


def test_classify_files_that_did_not_collect() -> None:
    output = ("ImportError while importing test module 'tests/test_x.py'.\n"
              "E   ModuleNotFoundError: No module named 'responses'\n"
              "1 error in 0.12s\n")
    assert classify(2, output).reason == "import error"
    assert not classify(2, output).collects
    named = "E   NameError: name 'Session' is not defined\n1 error in 0.1s\n"
    assert classify(2, named).reason == "collection error: NameError"
    assert classify(5, "no tests ran in 0.01s").reason == "no tests collected"
    assert classify(4, "").reason == "pytest usage error"
    assert classify(3, "").reason == "pytest internal error"
    timed_out = classify(None, "")
    assert timed_out.reason == "timeout" and not timed_out.collects


def test_summary_counts_reads_the_last_summary_line() -> None:
    assert summary_counts("x\n= 2 failed, 3 passed, 1 error, 2 warnings in 1.2s =\n") == {
        "failed": 2, "passed": 3, "errors": 1}
    assert summary_counts("nothing here") == {}


def test_run_pytest_runs_one_file_alone_and_classifies_it(tmp_path: Path) -> None:
    write(tmp_path, {
        "pytest.ini": "[pytest]\n",
        "tests/test_good.py": "def test_a():\n    assert 1 + 1 == 2\n",
        "tests/test_bad.py": ("import pytest\n\ndef test_a():\n    assert 1 == 2\n\n"
                              "def test_b():\n    pass\n\ndef test_c(missing_fixture):\n"
                              "    pass\n"),
        "tests/test_broken.py": "import module_that_does_not_exist\n\ndef test_a():\n    pass\n",
        "tests/test_slow.py": "import time\n\ndef test_a():\n    time.sleep(30)\n",
    })
    python = Path(sys.executable)
    good, _ = run_pytest(python, tmp_path, tmp_path / "tests" / "test_good.py", timeout=60)
    assert good.passes and good.reason == "passed" and good.collected == 1
    bad, output = run_pytest(python, tmp_path, tmp_path / "tests" / "test_bad.py", timeout=60)
    assert bad.collects and not bad.passes
    assert (bad.collected, bad.passed, bad.failed) == (3, 1, 2)
    assert bad.reason in ("assertion failed", "fixture not found")
    assert "test_good" not in output  # only the file asked for ran
    broken, _ = run_pytest(python, tmp_path, tmp_path / "tests" / "test_broken.py", timeout=60)
    assert broken.reason == "import error" and not broken.collects
    slow, output = run_pytest(python, tmp_path, tmp_path / "tests" / "test_slow.py", timeout=2)
    assert slow.reason == "timeout" and "killed after 2 s" in output


# ------------------------------------------------------------------------------ tables
def test_tables_count_parses_collects_passes_and_failure_kinds() -> None:
    records = [
        Record(1, "m.py", "a", "function", 1, 3, parses=True, collects=True, passes=True,
               collected=4, passed=4, reason="passed", latency_ms=1000, tokens=50),
        Record(2, "m.py", "b", "function", 9, 3, parses=True, collects=True, collected=2,
               passed=1, failed=1, reason="assertion failed", latency_ms=3000),
        Record(3, "m.py", "C.d", "method", 20, 3, parses=True, reason="import error",
               latency_ms=2000),
        Record(4, "m.py", "e", "function", 30, 3, reason="does not parse", latency_ms=4000),
    ]
    table = summary_table(records, "demo")
    assert ("| demo | 4 | 75.0 % (3) | 50.0 % (2) | 25.0 % (1) | 83.3 % (5) of 6 | "
            "2000 / 4000 |") in table
    assert "| assertion failed | 1 |" in table and "| import error | 1 |" in table
    assert "| passed |" not in table
    details = detail_table(records)
    assert "| 1 | `m.py:1` a | – | yes | 4/4 | passed | 50 | 1.0 |" in details
    assert "| 3 | `m.py:20` C.d | – | yes | – | import error | 0 | 2.0 |" in details
    assert pct(0, 0) == "–" and pct(1, 3) == "33.3 % (1)"
