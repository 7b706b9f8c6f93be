"""The docstring benchmark's pure helpers: stripping, sampling, compliance, the task-layer judge."""

from __future__ import annotations

import ast
import io
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root

from benchmarks.docstrings import (
    INSTALL_HINT,
    Record,
    candidates,
    compliance,
    documents_return,
    is_package_source,
    judge,
    leaks,
    markdown_table,
    package_files,
    repository_convention,
    rouge_scorer,
    sample,
    sdist_folders,
    strip_docstring,
    styles_used,
    summarize,
    syntax_ok,
)
from kodama.model.tasks.subject import subject_at


def _doc_of(text: str, name: str) -> str | None:
    """The docstring ``ast`` sees on function ``name`` of ``text``."""
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return ast.get_docstring(node)
    raise AssertionError(f"no function {name}")


# ------------------------------------------------------------------ stripping
def test_docstring_only_body_becomes_pass() -> None:
    text = 'def f(x):\n    """Do nothing.\n\n    More.\n    """\n\n\ndef g():\n    return 1\n'
    stripped = strip_docstring(text, "f", 0)
    assert stripped is not None
    assert stripped.text == "def f(x):\n    pass\n\n\ndef g():\n    return 1\n"
    ast.parse(stripped.text)


def test_one_line_docstring_followed_by_code_is_removed_with_its_line() -> None:
    text = 'class A:\n    def m(self):\n        """Say hi."""\n        return "hi"\n'
    stripped = strip_docstring(text, "m", 1)
    assert stripped is not None
    assert stripped.text == 'class A:\n    def m(self):\n        return "hi"\n'
    assert _doc_of(stripped.text, "m") is None


def test_multi_line_docstring_and_the_blank_lines_after_it_go_code_stays() -> None:
    text = ("def f(a, b):\n    '''Add.\n\n    :param a: left\n    '''\n\n    # sum\n"
            "    s = a + b\n    return s\n")
    stripped = strip_docstring(text, "f", 0)
    assert stripped is not None
    assert stripped.text == "def f(a, b):\n    # sum\n    s = a + b\n    return s\n"
    ns: dict[str, object] = {}
    exec(stripped.text, ns)
    assert ns["f"](2, 3) == 5  # type: ignore[operator]


def test_inline_and_semicolon_docstrings_keep_the_code_valid() -> None:
    inline = strip_docstring('def f(): "Doc."\nx = 1\n', "f", 0)
    assert inline is not None and inline.text == "def f(): pass\nx = 1\n"
    semi = strip_docstring('def f():\n    "Doc."; return 2\n', "f", 0)
    assert semi is not None and semi.text == "def f():\n    return 2\n"
    one_line = strip_docstring('def f(): "Doc."; return 2\n', "f", 0)
    assert one_line is not None and one_line.text == "def f(): return 2\n"


def test_docstring_at_end_of_file_without_newline_and_tabs() -> None:
    stripped = strip_docstring('if True:\n\tdef f():\n\t\t"""Doc."""', "f", 1)
    assert stripped is not None
    assert stripped.text == "if True:\n\tdef f():\n\t\tpass"
    ast.parse(stripped.text)


def test_nothing_to_strip() -> None:
    assert strip_docstring("def f():\n    return 1\n", "f", 0) is None
    assert strip_docstring('def f():\n    x = "not a docstring"\n', "f", 0) is None
    assert strip_docstring('def f():\n    """Doc."""\n', "g", 0) is None  # wrong name
    assert strip_docstring('def f():\n    """Doc."""\n', "f", 3) is None  # wrong line
    assert strip_docstring('def f(:\n    """Doc."""\n', "f", 0) is None  # does not parse


def test_unicode_before_the_docstring_keeps_offsets_right() -> None:
    text = 'def f(s="é€"):  # ünïcode\n    """Döc."""\n    return s\n'
    stripped = strip_docstring(text, "f", 0)
    assert stripped is not None
    assert stripped.text == 'def f(s="é€"):  # ünïcode\n    return s\n'


# ------------------------------------------------------------------- sampling
SOURCE = '''"""Module."""


class Box:
    """A box: classes are not sampled."""

    def __init__(self, size):
        """Make a box of ``size``.

        :param size: how big.
        """
        self.size = size

    def __repr__(self):
        """Dunders other than __init__ are not sampled."""
        return "Box()"

    def grow(self, by):
        """Grow the box.

        :param by: how much.
        :returns: the new size.
        """
        self.size += by
        return self.size

    def empty(self):
        """

        """
        return None


def undocumented(x):
    return x


def long_one():
    """Too long."""
''' + "    x = 1\n" * 130


def test_candidates_pick_documented_functions_and_methods_only() -> None:
    found = candidates("pkg/box.py", SOURCE, max_lines=120)
    assert [c.name for c in found] == ["__init__", "grow"]
    grow = found[1]
    assert grow.kind == "method" and grow.path == "pkg/box.py"
    assert grow.original == "Grow the box.\n\n:param by: how much.\n:returns: the new size."
    assert SOURCE[grow.offset:grow.offset + 4] == "grow"
    assert grow.stripped.text[grow.offset:grow.offset + 4] == "grow"
    subject = subject_at("python", grow.stripped.text, grow.offset, path="pkg/box.py")
    assert subject is not None and subject.name == "grow"
    assert subject.target.docstring is None
    assert [c.name for c in candidates("pkg/box.py", SOURCE, max_lines=200)] == [
        "__init__", "grow", "long_one"]


def test_package_source_excludes_tests_docs_examples_and_scripts() -> None:
    assert is_package_source("src/flask/app.py")
    assert is_package_source("requests/utils.py")
    for rel in ("tests/test_app.py", "src/pkg/tests/helpers.py", "docs/conf.py",
                "examples/tutorial/app.py", "setup.py", "pkg/test_x.py", "pkg/x_test.py",
                ".venv/lib/x.py", "src/pkg/data.txt", "conftest.py"):
        assert not is_package_source(rel), rel


def test_package_files_and_convention(tmp_path: Path) -> None:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "tests").mkdir()
    (tmp_path / "src" / "pkg" / "a.py").write_text(
        'def f(x):\n    """F.\r\n\r\n    :param x: it.\r\n    """\r\n', encoding="utf-8")
    (tmp_path / "tests" / "test_a.py").write_text(
        'def test():\n    """T.\n\n    Args:\n        x: y\n    """\n', encoding="utf-8")
    files = package_files(tmp_path)
    assert [rel for rel, _ in files] == ["src/pkg/a.py"]
    assert "\r" not in files[0][1]
    assert repository_convention(files) == "rest"


def test_sample_is_seeded_without_replacement_in_file_order() -> None:
    pool = [c for rel in ("b.py", "a.py", "c.py") for c in candidates(rel, SOURCE)]
    first = sample(pool, 3, seed=1)
    assert first == sample(list(reversed(pool)), 3, seed=1)  # the pool's order is irrelevant
    assert len({(c.path, c.name) for c in first}) == 3
    keys = [(c.path, c.row) for c in first]
    assert keys == sorted(keys)
    assert {tuple((c.path, c.name) for c in sample(pool, 3, seed=s)) for s in range(8)} != {
        tuple((c.path, c.name) for c in first)}  # another seed, another sample
    assert len(sample(pool, 50, seed=0)) == len(pool)


# ----------------------------------------------------------------- compliance
REST_ORIGINAL = """Send the request.

:param url: where to.
:param timeout: seconds to wait.
:param retries: a name the signature does not have.
:rtype: Response
"""


def test_compliance_of_a_faithful_rest_docstring() -> None:
    generated = ("Send a request.\n\n:param url: The URL.\n:param timeout: Seconds.\n"
                 ":returns: The response.")
    result = compliance(REST_ORIGINAL, generated, parameters=("url", "timeout"),
                        returns_value=True, convention="rest")
    assert result.original_params == ("url", "timeout")
    assert result.original_other == ("retries",)
    assert result.kept == ("url", "timeout") and result.all_kept
    assert result.none_invented
    assert result.original_returns and result.generated_returns  # `:rtype:` counts
    assert result.returns_match_original and result.returns_match_code
    assert result.syntax_ok


def test_compliance_catches_missing_invented_params_and_a_missing_return() -> None:
    generated = "Send a request.\n\n:param url: The URL.\n:param verify: Not a parameter."
    result = compliance(REST_ORIGINAL, generated, parameters=("url", "timeout"),
                        returns_value=True, convention="rest")
    assert result.kept == ("url",) and not result.all_kept
    assert result.invented == ("verify",) and not result.none_invented
    assert not result.generated_returns
    assert not result.returns_match_original and not result.returns_match_code


def test_compliance_wrong_convention_and_star_args() -> None:
    original = "Join.\n\nArgs:\n    *parts: the parts.\n    sep: between.\n"
    rest = "Join the parts.\n\n:param parts: The parts.\n:param sep: The separator.\n"
    result = compliance(original, rest, parameters=("parts", "sep"), returns_value=False,
                        convention="rest")
    assert result.original_params == ("parts", "sep")  # names compared without the stars
    assert result.all_kept and result.none_invented and result.syntax_ok
    google = "Join the parts.\n\nArgs:\n    parts: The parts.\n    sep: The separator.\n"
    result = compliance(original, google, parameters=("parts", "sep"), returns_value=False,
                        convention="rest")
    assert result.all_kept and result.none_invented
    assert not result.syntax_ok  # Google sections in a reST repository
    assert compliance(original, google, parameters=("parts", "sep"), returns_value=False,
                      convention="google").syntax_ok


def test_syntax_ok_by_convention() -> None:
    assert syntax_ok("Just prose.", "rest")  # nothing to document: prose is fine
    assert syntax_ok("Just prose.", "plain")
    assert not syntax_ok("Do it.\n\n:param x: y", "plain")
    assert not syntax_ok("Do it.\n\n@param x y", "rest")  # JSDoc tags in Python
    assert syntax_ok("Do it.\n\nParameters\n----------\nx\n    y", "numpy")
    assert not syntax_ok("Do it.\n\n:param x: y\n\nReturns:\n    z", "rest")  # mixed
    assert styles_used("Do it.\n\n:param x: y\n\nReturns:\n    z") == {"rest", "google"}
    assert documents_return("X.\n\nReturns:\n    y") and not documents_return("Returns x.")


def test_leaks_flag_code_quotes_fences_and_placeholders() -> None:
    assert leaks("Add two numbers.\n\n:param a: first.\n:returns: the sum.", "add") == []
    example = "Register a view.\n\n.. code-block:: python\n\n    def index():\n        pass"
    assert leaks(example, "route") == []  # an example with another definition is fine
    echoed = 'Def add(a, b): """ Add two numbers.\n\n:returns: The sum. """ return a + b.'
    assert leaks(echoed, "add") == ["code", "quotes"]
    assert leaks("```python\nx\n```", "f") == ["fence"]
    assert leaks("<one-line summary, imperative mood, ending with a period>.", "f") == [
        "placeholder"]


# ---------------------------------------------------------------- the judge
FILE = '''def scale(values, factor):
    return [v * factor for v in values]


def other():
    return 1
'''

ORIGINAL = "Multiply every value.\n\n:param values: the numbers.\n:param factor: by how much.\n" \
           ":return: the scaled list."


def _record(convention: str = "rest") -> Record:
    return Record("repo", "pkg/m.py", "scale", "function", 1, convention, ORIGINAL)


def test_judge_scores_a_model_answer_through_the_task_layer() -> None:
    pytest.importorskip("rouge_score")
    subject = subject_at("python", FILE, 4, path="pkg/m.py")
    assert subject is not None
    answer = ("Multiply every value by a factor.\n\nArgs:\n    values: The numbers.\n"
              "    factor: How much.\n    invented: Nope.\nReturns:\n    The scaled list.\n")
    record = _record()
    judge(record, subject, answer, 4, rouge_scorer())
    assert record.failure is None and record.parses is True
    assert record.generated is not None
    assert ":param values: The numbers." in record.generated  # rendered in reST
    assert ":returns: The scaled list." in record.generated
    assert "invented" not in record.generated  # the task layer drops unknown names
    assert record.rouge_l is not None and 0.5 < record.rouge_l < 1.0
    assert record.compliance is not None
    assert record.compliance["all_kept"] and record.compliance["none_invented"]
    assert record.compliance["returns_match_original"] and record.compliance["syntax_ok"]
    assert record.leaks == []


def test_judge_flags_a_function_echoed_back_as_its_docstring() -> None:
    """The model often answers with the whole function in a fence; what the task layer makes
    of it is scored (and flagged), whatever it is."""
    subject = subject_at("python", FILE, 4, path="pkg/m.py")
    assert subject is not None
    answer = ('```python\ndef scale(values, factor):\n    """\n    Multiply every value.\n\n'
              '    :param values: the numbers.\n    """\n'
              '    return [v * factor for v in values]\n```')
    record = _record()
    judge(record, subject, answer, 4, lambda _a, _b: 0.5)
    assert record.parses is True and record.generated is not None
    assert record.leaks is not None
    # Flagged exactly when the code came through (it does with today's task layer).
    assert ("quotes" in record.leaks) == ('"""' in record.generated)
    assert ("code" in record.leaks) == ("def scale(" in record.generated.lower())


def test_judge_records_an_unusable_answer() -> None:
    subject = subject_at("python", FILE, 4, path="pkg/m.py")
    assert subject is not None
    record = _record()
    judge(record, subject, "Args:\n    values: x\n", 4, lambda _a, _b: 1.0)
    assert record.failure == "no usable answer"
    assert record.generated is None and record.rouge_l is None and record.parses is None
    assert "task_error" in record.extra


def test_summary_and_table() -> None:
    good = _record()
    good.rouge_l, good.parses, good.generation_ms, good.tokens = 0.5, True, 1000.0, 40
    good.generated, good.leaks = "x", ["code"]
    good.compliance = {"original_params": ["values", "factor"], "kept": ["values"],
                       "generated_params": ["values", "bad"], "invented": ["bad"],
                       "all_kept": False, "none_invented": False,
                       "returns_match_original": True, "returns_match_code": True,
                       "syntax_ok": True}
    bad = _record()
    bad.failure, bad.generation_ms, bad.tokens = "no usable answer", 3000.0, 200
    summary = summarize([good, bad])
    assert summary["n"] == 2 and summary["generated"] == 1
    assert summary["rouge_l_mean"] == 0.5
    assert summary["param_recall"] == {"hits": 1, "total": 2, "share": 0.5}
    assert summary["param_precision"]["share"] == 0.5
    assert summary["parses"] == {"hits": 1, "total": 1, "share": 1.0}
    assert summary["clean"] == {"hits": 0, "total": 1, "share": 0.0}
    assert summary["leaks"] == {"code": 1}
    assert summary["failures"] == {"no usable answer": 1}
    assert summary["latency_ms"]["n"] == 2
    table = markdown_table([("repo", summary)]).splitlines()
    assert len(table) == 3 and table[0].count("|") == table[2].count("|")
    assert "| repo | 2 | 0.500 | 0.500 | 50 % (1/2) |" in table[2]
    assert table[2].endswith("| no usable answer 1 |")


def test_missing_rouge_score_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rouge_score", None)  # makes the import fail
    with pytest.raises(SystemExit, match=r"pip install -e '\.\[dev,bench\]'"):
        rouge_scorer()
    assert "bench" in INSTALL_HINT


# --------------------------------------------------------------- repositories
def _tarball(folder: Path, name: str) -> None:
    with tarfile.open(folder / f"{name}.tar.gz", "w:gz") as archive:
        data = b"def f():\n    '''Doc.'''\n"
        info = tarfile.TarInfo(f"{name}/src/pkg/a.py")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))


def test_sdists_are_downloaded_with_pip_only_when_missing(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    _tarball(cache, "flask-3.1.3")  # already downloaded, not unpacked
    calls = tmp_path / "calls.txt"
    fake = tmp_path / "python"  # stands for `python -m pip download ... -d CACHE`
    fake.write_text(f"""#!{sys.executable}
import io, sys, tarfile
open({str(calls)!r}, "a").write(" ".join(sys.argv[1:]) + "\\n")
dest = sys.argv[sys.argv.index("-d") + 1]
with tarfile.open(dest + "/requests-2.34.2.tar.gz", "w:gz") as archive:
    info = tarfile.TarInfo("requests-2.34.2/src/requests/api.py")
    archive.addfile(info, io.BytesIO(b""))
""")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    folders = sdist_folders(cache, python=str(fake))
    assert folders == [cache / "flask-3.1.3", cache / "requests-2.34.2"]
    assert (cache / "flask-3.1.3" / "src" / "pkg" / "a.py").is_file()
    assert (cache / "requests-2.34.2" / "src" / "requests" / "api.py").is_file()
    call = calls.read_text().split()
    assert call[:6] == ["-m", "pip", "download", "--no-binary", ":all:", "--no-deps"]
    assert "requests==2.34.2" in call and "flask==3.1.3" not in call
    calls.unlink()
    assert sdist_folders(cache, python=str(fake)) == folders  # all there: no pip at all
    assert not calls.exists()


def test_helpers_import_without_torch() -> None:
    code = ("import sys; sys.path.insert(0, {root!r}); import benchmarks.docstrings; "
            "print('torch' in sys.modules, 'rouge_score' in sys.modules)")
    root = str(Path(__file__).resolve().parents[3])
    out = subprocess.run([sys.executable, "-c", code.format(root=root)], check=True,
                         capture_output=True, text=True).stdout
    assert out.split() == ["False", "False"]
