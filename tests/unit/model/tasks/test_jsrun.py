"""Running generated JavaScript tests (kodama.model.tasks.jsrun): finding, checking and cutting
test cases on text, reading Jest/Vitest and Mocha reports, then real node:test runs in a
fixture repository, and testcheck.checked end to end on it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kodama.model.config import TestRunConfig
from kodama.model.errors import TaskError
from kodama.model.tasks import jsrun, testcheck, testgen
from kodama.model.tasks.subject import subject_at

GENERATED = """import { test, describe } from 'node:test';
import assert from 'node:assert';
import { total } from '../src/cart.js';

describe('total', () => {
  test('sums prices', () => {
    assert.strictEqual(total([2, 3]), 5);
  });
  test('is wrong', () => {
    assert.strictEqual(total([1]), 2);
  });
});

test('checks nothing', () => {
  assert.ok(true);
});

test('downloads', async () => {
  const response = await fetch('http://192.0.2.1/');
  assert.strictEqual(response.status, 200);
});
"""


def test_cases_are_known_by_their_suites_and_titles() -> None:
    assert jsrun.test_ids(GENERATED) == ["total > sums prices", "total > is wrong",
                                         "checks nothing", "downloads"]
    checks = {test_id: jsrun.has_check(GENERATED, test_id)
              for test_id in jsrun.test_ids(GENERATED)}
    assert checks == {"total > sums prices": True, "total > is wrong": True,
                      "checks nothing": False, "downloads": True}


def test_prune_cuts_whole_statements() -> None:
    pruned = jsrun.prune(GENERATED, {"total > sums prices"})
    assert jsrun.test_ids(pruned) == ["total > sums prices"]
    assert "is wrong" not in pruned and "fetch" not in pruned
    assert pruned.startswith("import { test, describe } from 'node:test';")


def test_jest_and_mocha_reports() -> None:
    jest = {"testResults": [{"assertionResults": [
        {"ancestorTitles": ["total"], "title": "sums prices", "status": "passed"},
        {"ancestorTitles": ["total"], "title": "is wrong", "status": "failed",
         "failureMessages": ["\x1b[31mError: expect(received).toBe(expected)\n\nExpected: 2\n"
                             "Received: 1\n    at Object.<anonymous> (cart.test.js:9:5)"]}]}]}
    outcomes, problem = jsrun.outcomes_from_jest(jest)
    assert problem == "" and outcomes["total > sums prices"].passed
    assert outcomes["total > is wrong"].message == (
        "Error: expect(received).toBe(expected)\n\nExpected: 2\nReceived: 1")
    broken = {"testResults": [{"assertionResults": [], "message": "SyntaxError: Unexpected"}]}
    assert jsrun.outcomes_from_jest(broken) == ({}, "SyntaxError: Unexpected")
    mocha = {"passes": [{"fullTitle": "total sums prices"}],
             "failures": [{"fullTitle": "total is wrong",
                           "err": {"message": "expected 1 to equal 2", "actual": 1,
                                   "expected": 2}}], "pending": []}
    outcomes = jsrun.outcomes_from_mocha(mocha, ["total > sums prices", "total > is wrong"])
    assert outcomes["total > sums prices"].passed
    assert outcomes["total > is wrong"].message == "expected 1 to equal 2\nactual: 1\nexpected: 2"


needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node")

CART = "export function total(prices) {\n  return prices.reduce((a, b) => a + b, 0);\n}\n"


def repo(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / "cart.js").write_text(CART)
    (root / "test").mkdir()
    (root / "test" / "other.test.js").write_text(
        "import { test } from 'node:test';\nimport assert from 'node:assert';\n\n"
        "test('other', () => assert.ok(1));\n")
    (root / "package.json").write_text(
        '{"name": "cart", "type": "module", "scripts": {"test": "node --test"}}\n')
    return root / "src" / "cart.js"


@needs_node
def test_node_test_runs_keep_only_passing_tests(tmp_path: Path) -> None:
    repo(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    seen: list[str] = []
    report = jsrun.run(tmp_path, ["src/cart.js", "package.json"], "test/cart.test.js",
                       GENERATED, jsrun.test_ids(GENERATED), framework="node:test",
                       timeout_s=10, progress=seen.append)
    assert not report.problem, report
    outcomes = report.outcomes
    assert outcomes["total > sums prices"].passed
    assert "2" in outcomes["total > is wrong"].message
    assert outcomes["checks nothing"].message == "checks nothing"
    assert not outcomes["downloads"].passed  # refused inside the sandbox, never reached
    assert "network access is disabled" in outcomes["downloads"].message or \
        "ENETUNREACH" in outcomes["downloads"].message, outcomes["downloads"]
    assert "running tests 3/3" in seen and seen[-1] == "running the passing tests again 1/1"
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


@needs_node
def test_checked_offers_only_passing_javascript_tests(tmp_path: Path) -> None:
    source = repo(tmp_path)
    subject = subject_at("javascript", CART, CART.index("return"), path="src/cart.js")
    assert subject is not None
    request = testgen.prepare(subject, tmp_path, source, open_text=lambda _p: None)
    assert request.plan.framework == "node:test" and testcheck.runs(request)
    body = GENERATED.split("\n", 3)[3].replace("test(", "it(")  # the header imports it
    with pytest.raises(TaskError, match="cannot be loaded: ReferenceError: test is not def"):
        testcheck.checked(request, testgen.tests_code(request, GENERATED.split("\n", 3)[3]),
                          TestRunConfig(timeout_s=10))
    code = testgen.tests_code(request, body)
    checked = testcheck.checked(request, code, TestRunConfig(timeout_s=10))
    assert jsrun.test_ids(checked.code) == ["total > sums prices"]
    assert checked.message.startswith("kept 1 passing tests, dropped 3 that failed:")
    assert not checked.result.path.exists()
    with pytest.raises(TaskError, match="none of the 1 generated tests for 'total' passes"):
        testcheck.checked(request, testgen.tests_code(
            request, "test('wrong', () => {\n  assert.strictEqual(total([1]), 2);\n});\n"),
            TestRunConfig(timeout_s=10))


def test_tests_of_other_languages_are_offered_unrun_with_a_message(tmp_path: Path) -> None:
    (tmp_path / "go.mod").write_text("module example.com/cart\n\ngo 1.22\n")
    code = "package cart\n\nfunc Total(prices []int) int {\n\treturn len(prices)\n}\n"
    (tmp_path / "cart.go").write_text(code)
    subject = subject_at("go", code, code.index("return"), path="cart.go")
    assert subject is not None
    request = testgen.prepare(subject, tmp_path, tmp_path / "cart.go", open_text=lambda _p: None)
    assert not testcheck.runs(request)
    assert testcheck.not_run(request).startswith("these go tests were not run")
