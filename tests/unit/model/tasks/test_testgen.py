"""The tests task: where the tests go, what the answer must hold, how it is merged."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kodama.model.errors import TaskError
from kodama.model.tasks import testgen
from kodama.model.tasks.subject import Subject, subject_at
from kodama.syntax.analysis import parses

SOURCE = ("class Cart:\n    def total(self, prices):\n        if not prices:\n"
          "            raise ValueError('empty')\n        return sum(prices)\n")
EXISTING = "import pytest\n\nfrom shop.cart import Cart\n\n\ndef test_total():\n" \
           "    assert Cart().total([1, 2]) == 3\n"


def repo(tmp_path: Path, existing: str | None = None) -> tuple[Subject, Path]:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    source = tmp_path / "shop" / "cart.py"
    source.write_text(SOURCE)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "conftest.py").write_text("")
    if existing is not None:
        (tmp_path / "tests" / "test_cart.py").write_text(existing)
    subject = subject_at("python", SOURCE, SOURCE.index("return"), path="shop/cart.py")
    assert subject is not None
    return subject, source


def test_a_method_is_named_with_its_class_and_tests_import_the_class(tmp_path: Path) -> None:
    subject, source = repo(tmp_path)
    assert subject.qualified_name == "Cart.total"
    assert subject.code.startswith("def total(self, prices):\n    if not prices:")
    request = testgen.prepare(subject, tmp_path, source, open_text=lambda _p: None)
    chat = testgen.chat(request)
    assert chat.prefill == "```python\n" and chat.stop("x\n```\nmore") == 1
    assert "method `Cart.total`" in chat.messages[1]["content"]
    answer = ("def test_sum():\n    assert Cart().total([2, 3]) == 5\n\n\n"
              "def test_empty():\n    with pytest.raises(ValueError):\n        Cart().total([])\n")
    result = testgen.finish(request, answer)
    assert result.path == tmp_path / "tests" / "test_cart.py" and not result.exists
    assert "from shop.cart import Cart" in result.text and "import pytest" in result.text
    assert parses("python", result.text)


def test_an_answer_cut_by_the_budget_keeps_its_finished_tests(tmp_path: Path) -> None:
    subject, source = repo(tmp_path)
    request = testgen.prepare(subject, tmp_path, source, open_text=lambda _p: None)
    answer = ("def test_sum():\n    assert Cart().total([2, 3]) == 5\n\n\n"
              "def test_many():\n    assert Cart().total([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 1")
    result = testgen.finish(request, answer)
    assert "def test_sum" in result.text and "test_many" not in result.text


@pytest.mark.parametrize("answer", [
    "", "def total(self, prices):\n    return sum(prices)\n", "Here are some tests for you.",
])
def test_an_answer_without_tests_is_refused(tmp_path: Path, answer: str) -> None:
    subject, source = repo(tmp_path)
    request = testgen.prepare(subject, tmp_path, source, open_text=lambda _p: None)
    with pytest.raises(TaskError, match="no pytest tests"):
        testgen.finish(request, answer)


def test_existing_tests_are_not_repeated_or_shadowed(tmp_path: Path) -> None:
    subject, source = repo(tmp_path, EXISTING)
    request = testgen.prepare(subject, tmp_path, source, open_text=lambda _p: None)
    assert request.existing == EXISTING and request.plan.exists
    assert "already starts like this" in testgen.messages(request)[1]["content"]
    copy = "def test_total():\n    assert Cart().total([1, 2]) == 3\n"
    with pytest.raises(TaskError, match="only repeated existing tests"):
        testgen.finish(request, copy)
    other = "def test_total():\n    assert Cart().total([5]) == 5\n"
    result = testgen.finish(request, copy + "\n\n" + other)
    assert result.text.startswith(EXISTING.rstrip())
    assert result.text.count("def test_total():") == 1
    assert "def test_total_2():\n    assert Cart().total([5]) == 5" in result.text
    assert parses("python", result.text)


def test_the_editors_unsaved_text_of_the_test_file_is_used(tmp_path: Path) -> None:
    subject, source = repo(tmp_path, EXISTING)
    unsaved = EXISTING + "\n\ndef test_unsaved():\n    pass\n"
    request = testgen.prepare(subject, tmp_path, source, open_text=lambda _p: unsaved)
    result = testgen.finish(request, "def test_new():\n    assert Cart().total([1]) == 1\n")
    assert "def test_unsaved" in result.text and result.before == unsaved


def test_python_the_compiler_rejects_is_not_written(tmp_path: Path) -> None:
    subject, source = repo(tmp_path)
    request = testgen.prepare(subject, tmp_path, source, open_text=lambda _p: None)
    answer = ("def test_sum():\n    assert Cart().total([2, 3]) == 5\n\n\n"
              "def test_bad():\n    x = 1\n      y = 2\n")
    assert parses("python", answer), "tree-sitter alone accepts this indentation"
    result = testgen.finish(request, answer)
    assert "test_sum" in result.text and "test_bad" not in result.text


def test_a_link_made_out_of_the_repository_while_the_model_wrote_is_refused(
        tmp_path: Path) -> None:
    repo_root = tmp_path / "repo"
    repo_root.mkdir()
    subject, source = repo(repo_root)
    request = testgen.prepare(subject, repo_root, source, open_text=lambda _p: None)
    assert request.plan.path == repo_root / "tests" / "test_cart.py"
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.rmtree(repo_root / "tests")
    (repo_root / "tests").symlink_to(outside)  # the tests folder now leads out
    with pytest.raises(TaskError, match=r"outside the repository.*nothing was written"):
        testgen.finish(request, "def test_sum():\n    assert Cart().total([2]) == 2\n")
    assert list(outside.iterdir()) == []
