"""Running generated Python tests before offering them (kodama.model.tasks.pytestrun, testrun,
testcheck.checked):
pure parts on text, then real pytest runs in a fixture repository, with this interpreter."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest

from kodama.model.config import TestRunConfig
from kodama.model.errors import TaskError
from kodama.model.tasks import pytestrun, testcheck, testgen, testrun
from kodama.model.tasks.sandbox import project_python

from .test_testgen import repo

GENERATED = '''import unittest

import pytest


def helper():
    return 2


def test_sum():
    assert Cart().total([2, 3]) == 5


@pytest.mark.parametrize("n", [1, 2])
def test_one(n):
    assert Cart().total([n]) == n


class TestEmpty:
    def test_raises(self):
        with pytest.raises(ValueError):
            Cart().total([])

    def test_wrong(self):
        assert Cart().total([]) == 0


class TestOnlyWrong:
    def test_a(self):
        assert False


class CartCase(unittest.TestCase):
    def test_case(self):
        self.assertEqual(Cart().total([1]), 1)
'''


def test_test_ids_are_pytest_node_id_tails() -> None:
    assert pytestrun.test_ids(GENERATED) == [
        "test_sum", "test_one", "TestEmpty::test_raises", "TestEmpty::test_wrong",
        "TestOnlyWrong::test_a", "CartCase::test_case"]
    assert pytestrun.test_ids("def broken(:\n") == []


def test_prune_drops_failing_tests_with_their_decorators_and_emptied_classes() -> None:
    pruned = pytestrun.prune(GENERATED, {"test_sum", "TestEmpty::test_raises"})
    assert pytestrun.test_ids(pruned) == ["test_sum", "TestEmpty::test_raises"]
    assert "parametrize" not in pruned and "TestOnlyWrong" not in pruned
    assert "def helper():" in pruned and "import pytest" in pruned
    compile(pruned, "pruned", "exec")


def test_sandbox_events_give_one_outcome_per_test() -> None:
    events = [
        {"event": "start", "id": "tests/test_cart.py::test_sum"},
        {"event": "result", "id": "tests/test_cart.py::test_sum", "when": "call",
         "outcome": "passed", "message": ""},
        {"event": "result", "id": "tests/test_cart.py::test_one[1]", "when": "call",
         "outcome": "passed", "message": ""},
        {"event": "result", "id": "tests/test_cart.py::test_one[2]", "when": "call",
         "outcome": "failed", "message": "assert 3 == 2\nE   assert 3 == 2"},
        {"event": "result", "id": "tests/test_cart.py::TestEmpty::test_wrong", "when": "setup",
         "outcome": "failed", "message": "TypeError: total() missing 1 required argument"},
        {"event": "result", "id": "tests/test_cart.py::TestEmpty::test_raises", "when": "setup",
         "outcome": "skipped", "message": "needs a database"},
        {"event": "result", "id": "tests/test_cart.py::test_sum", "when": "teardown",
         "outcome": "failed", "message": "OSError: cleanup"},
    ]
    outcomes = pytestrun.outcomes_from_events(events, "tests/test_cart.py")
    assert outcomes["test_one"] == testrun.Outcome(False, "assert 3 == 2\nE   assert 3 == 2")
    assert outcomes["TestEmpty::test_wrong"].message.startswith("TypeError: total() missing")
    assert outcomes["TestEmpty::test_raises"] == testrun.Outcome(False,
                                                                 "skipped: needs a database")
    assert outcomes["test_sum"] == testrun.Outcome(False, "error in teardown: OSError: cleanup")


def test_the_project_interpreter_is_its_venv(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    assert project_python(tmp_path, "/opt/py/bin/python") == "/opt/py/bin/python"
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").write_text("")
    assert project_python(tmp_path) == str(tmp_path / ".venv" / "bin" / "python")


# --- real runs ------------------------------------------------------------------------------

RUN_TESTS = '''import socket
from pathlib import Path

from shop.cart import Cart


def test_sum():
    assert Cart().total([2, 3]) == 5


def test_wrong_value():
    assert Cart().total([2, 3]) == 6


def test_network():
    with socket.create_connection(("93.184.216.34", 80), timeout=5) as connection:
        assert connection.fileno() > 0


def test_flaky():
    flag = Path(__file__).with_name("flag")
    assert not flag.exists(), "second run"
    flag.write_text("seen")


def test_writes_beside_itself():
    Path(__file__).with_name("scratch.txt").write_text("x")
    assert Path(__file__).with_name("scratch.txt").read_text() == "x"


def test_hollow():
    Path(__file__).with_name("never.txt").write_text("x")
'''


def run(root: Path, text: str, ids: list[str], timeout_s: float = 60,
        **kwargs: Any) -> testrun.RunReport:
    files = ["shop/__init__.py", "shop/cart.py", "tests/conftest.py"]
    return pytestrun.run(root, files, "tests/test_cart.py", text, ids,
                              command=sys.executable, timeout_s=timeout_s, **kwargs)


def test_only_tests_that_pass_twice_pass_and_the_users_tree_is_untouched(tmp_path: Path) -> None:
    repo(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    report = run(tmp_path, RUN_TESTS, pytestrun.test_ids(RUN_TESTS))
    assert not report.problem
    outcomes = report.outcomes
    assert outcomes["test_sum"].passed and outcomes["test_writes_beside_itself"].passed
    assert "assert 5 == 6" in outcomes["test_wrong_value"].message
    assert not outcomes["test_network"].passed  # refused inside the sandbox, never reached
    assert outcomes["test_network"].message != testrun.HOLLOW
    assert outcomes["test_hollow"] == testrun.Outcome(False, testrun.HOLLOW)
    assert outcomes["test_flaky"].message.startswith("flaky:")
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_only_hollow_tests_run_nothing(tmp_path: Path) -> None:
    repo(tmp_path)
    report = run(tmp_path, RUN_TESTS, ["test_hollow"])
    assert report == testrun.RunReport({"test_hollow": testrun.Outcome(False, testrun.HOLLOW)})


def test_a_test_past_its_time_limit_fails_and_the_others_still_run(tmp_path: Path) -> None:
    repo(tmp_path)
    text = ("import time\n\nfrom shop.cart import Cart\n\n\n"
            "def test_slow():\n    time.sleep(60)\n    assert time\n\n\n"
            "def test_sum():\n    assert Cart().total([2, 3]) == 5\n")
    seen: list[str] = []
    report = run(tmp_path, text, ["test_slow", "test_sum"], timeout_s=2, progress=seen.append)
    assert not report.problem
    assert report.outcomes["test_slow"].message.startswith("the test ran past the 2 s limit")
    assert report.outcomes["test_sum"].passed
    assert seen[:2] == ["running tests 1/2", "running tests 2/2"]
    assert seen[-1] == "running the passing tests again 1/1"


def test_a_test_that_kills_its_interpreter_fails_and_the_rest_run_again(tmp_path: Path) -> None:
    repo(tmp_path)
    text = ("import os\n\nfrom shop.cart import Cart\n\n\n"
            "def test_a():\n    assert Cart().total([1]) == 1\n\n\n"
            "def test_dies():\n    assert os.kill(os.getpid(), 9) is None\n\n\n"
            "def test_z():\n    assert Cart().total([2, 3]) == 5\n")
    report = run(tmp_path, text, ["test_a", "test_dies", "test_z"])
    assert report.outcomes["test_a"].passed and report.outcomes["test_z"].passed
    assert not report.outcomes["test_dies"].passed


def test_a_cancelled_run_stops_at_once(tmp_path: Path) -> None:
    repo(tmp_path)
    text = "import time\n\n\ndef test_slow():\n    time.sleep(60)\n    assert time\n"
    started = time.monotonic()
    report = run(tmp_path, text, ["test_slow"], cancelled=lambda: time.monotonic() > started + 2)
    assert time.monotonic() - started < 30
    assert report.problem == "the test run was cancelled"


def test_checked_offers_only_passing_tests_and_refuses_when_none_pass(tmp_path: Path) -> None:
    subject, source = repo(tmp_path)
    request = testgen.prepare(subject, tmp_path, source, open_text=lambda _p: None)
    code = testgen.tests_code(request, "def test_sum():\n    assert Cart().total([2, 3]) == 5\n"
                                       "\n\ndef test_bad():\n    assert Cart().total([1]) == 2\n")
    settings = TestRunConfig(python=sys.executable, timeout_s=60)
    checked = testcheck.checked(request, code, settings)
    assert "def test_sum" in checked.result.text and "test_bad" not in checked.result.text
    assert "test_bad" not in checked.code and (checked.generated, checked.kept) == (2, 1)
    assert checked.message.startswith(
        "kept 1 passing tests, dropped 1 that failed: test_bad: assert")
    assert not checked.result.path.exists()  # offered, not written
    code = testgen.tests_code(request, "def test_bad():\n    assert Cart().total([1]) == 2\n")
    with pytest.raises(TaskError, match=r"none of the 1 generated tests for 'Cart\.total' passes"):
        testcheck.checked(request, code, settings)


def test_checked_without_pytest_offers_the_tests_unrun_and_says_why(tmp_path: Path) -> None:
    subject, source = repo(tmp_path)
    request = testgen.prepare(subject, tmp_path, source, open_text=lambda _p: None)
    code = testgen.tests_code(request, "def test_sum():\n    assert Cart().total([2]) == 2\n")
    bare = tmp_path / "bare-python"
    bare.write_text(f"#!/bin/sh\nexec {sys.executable} -I -S \"$@\"\n")
    bare.chmod(0o755)
    checked = testcheck.checked(
        request, code, TestRunConfig(python=str(bare), timeout_s=60))
    assert "def test_sum" in checked.result.text and not checked.ran
    assert checked.message.startswith("the generated tests were not run: pytest is not installed")


def test_a_test_must_check_something() -> None:
    code = '''import pytest


def test_assert():
    assert add(1, 2) == 3


def test_raises():
    with pytest.raises(ValueError):
        add("x", 1)


def test_constant():
    add(1, 2)
    assert True


def test_nothing():
    add(1, 2)


class TestC:
    def test_method(self):
        self.assertEqual(add(1, 1), 2)
'''
    checks = {test_id: pytestrun.has_check(code, test_id) for test_id in pytestrun.test_ids(code)}
    assert checks == {"test_assert": True, "test_raises": True, "test_constant": False,
                      "test_nothing": False, "TestC::test_method": True}


def test_one_repair_round_keeps_the_rewritten_tests_that_pass(tmp_path: Path) -> None:
    subject, source = repo(tmp_path)
    request = testgen.prepare(subject, tmp_path, source, open_text=lambda _p: None)
    code = testgen.tests_code(request, (
        "def test_sum():\n    assert Cart().total([2, 3]) == 5\n\n\n"
        "def test_bad():\n    assert Cart().total([1]) == 2\n\n\n"
        "def test_type():\n    assert Cart().total(1, 2) == 3\n\n\n"
        "def test_hollow():\n    Cart().total([1])\n"))
    asked: list[str] = []

    def ask(chat: testgen.ChatRequest) -> str:
        asked.append(chat.messages[-1]["content"])
        assert chat.messages[-2]["content"].startswith("```python\ndef test_sum():")
        return ("def test_bad():\n    assert Cart().total([1]) == 1\n\n\n"
                "def test_type():\n    assert True\n")

    checked = testcheck.checked(request, code, TestRunConfig(python=sys.executable),
                              ask=ask)
    failures = asked[0]
    assert "`test_bad`: assert 1 == 2" in failures and "`test_type`: TypeError" in failures
    assert "The real signature of `Cart.total`:\n```python\ndef total(self, prices):" in failures
    assert "E       assert 1 == 2" in failures  # pytest's detail, indented under the test
    assert len(asked) == 2 and "`test_type`: its repair checks nothing" in asked[1]
    assert "test_hollow" not in failures and "test_sum" not in failures
    assert pytestrun.test_ids(checked.code) == ["test_sum", "test_bad"]
    assert "== 1" in checked.code and "== 2" not in checked.code
    assert (checked.generated, checked.kept) == (4, 2)
    assert checked.message.startswith("kept 2 passing tests (1 of them repaired), dropped 2")
    assert "test_hollow: checks nothing" in checked.message
    assert "test_type: its repair checks nothing" in checked.message  # it said assert True
