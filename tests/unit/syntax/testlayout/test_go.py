"""Tests for kodama.syntax.testlayout.go: Go test files, and merging Go tests."""

from __future__ import annotations

from pathlib import Path

from kodama.syntax.analysis import parses
from kodama.syntax.testlayout import TestPlan, apply_edits, merge, merge_edits, plan_tests

from .repo import make


def test_go_plan(tmp_path: Path) -> None:
    make(tmp_path, {"go.mod": "module example.com/m\n", "pkg/calc/calc.go":
                    "package calc\n\nfunc Add(a, b int) int { return a + b }\n"})
    plan = plan_tests(tmp_path, tmp_path / "pkg/calc/calc.go", "go", "Add")
    assert plan.path == tmp_path.resolve() / "pkg/calc/calc_test.go"
    assert plan.module == "calc"
    assert plan.header == 'package calc\n\nimport "testing"\n'
    assert plan.imports == ('import "testing"',)


def test_go_external_test_package(tmp_path: Path) -> None:
    make(tmp_path, {
        "go.mod": "module example.com/m\n",
        "pkg/calc/calc.go": "package calc\n\nfunc Add(a, b int) int { return a + b }\n",
        "pkg/calc/calc_test.go": 'package calc_test\n\nimport "testing"\n',
    })
    plan = plan_tests(tmp_path, tmp_path / "pkg/calc/calc.go", "go", "Add")
    assert plan.exists
    assert plan.header.startswith("package calc_test\n")
    assert 'import "example.com/m/pkg/calc"' in plan.imports
    assert "calc.Name" in plan.style_hint



def go_plan(tmp_path: Path) -> TestPlan:
    make(tmp_path, {"calc/calc.go": "package calc\n\nfunc Add(a, b int) int { return a + b }\n"})
    return plan_tests(tmp_path, tmp_path / "calc/calc.go", "go", "Add")


GO_GENERATED = """\
package calc

import (
	"strings"
	"testing"
)

func TestAdd(t *testing.T) {
	if Add(1, 2) != 3 || strings.ToUpper("a") != "A" {
		t.Fatal("bad")
	}
}
"""


def test_merge_go_new_file(tmp_path: Path) -> None:
    plan = go_plan(tmp_path)
    text = merge(plan, None, GO_GENERATED)
    assert text.startswith('package calc\n\nimport (\n\t"strings"\n\t"testing"\n)\n\nfunc TestAdd')
    assert text.count("package calc") == 1
    assert parses("go", text)


def test_merge_go_existing_file(tmp_path: Path) -> None:
    plan = go_plan(tmp_path)
    existing = ('package calc\n\nimport (\n\t"testing"\n)\n\n'
                "func TestOld(t *testing.T) {}\n")
    result = merge_edits(plan, existing, GO_GENERATED)
    assert result.text.startswith('package calc\n\nimport (\n\t"testing"\n\t"strings"\n)\n')
    assert result.text.count('"testing"') == 1
    assert result.text.count("package calc") == 1
    assert "func TestOld(t *testing.T) {}\n\nfunc TestAdd" in result.text
    assert parses("go", result.text)
    assert apply_edits(existing, result.edits) == result.text
    single = 'package calc\n\nimport "testing"\n\nfunc TestOld(t *testing.T) {}\n'
    text = merge(plan, single, GO_GENERATED)
    assert text.startswith('package calc\n\nimport "testing"\nimport "strings"\n\nfunc TestOld')
    assert parses("go", text)

