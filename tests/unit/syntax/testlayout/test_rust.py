"""Tests for kodama.syntax.testlayout.rust: tests in the test module, and merging them."""

from __future__ import annotations

from pathlib import Path

import pytest

from kodama.syntax.analysis import parses
from kodama.syntax.testlayout import apply_edits, merge, merge_edits, plan_tests

from .repo import dedent, make

RUST_SOURCE = """\
pub fn add(a: i32, b: i32) -> i32 {
    a + b
}
"""

RUST_WITH_TESTS = """\
pub fn add(a: i32, b: i32) -> i32 {
    a + b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds() {
        assert_eq!(add(1, 2), 3);
    }
}
"""


def test_rust_without_test_module(tmp_path: Path) -> None:
    make(tmp_path, {"src/lib.rs": RUST_SOURCE})
    plan = plan_tests(tmp_path, tmp_path / "src/lib.rs", "rust", "add")
    assert plan.path == tmp_path.resolve() / "src/lib.rs"
    assert plan.exists
    assert plan.insert_offset is None
    assert plan.header.startswith("#[cfg(test)]\nmod tests {")
    merged = merge(plan, RUST_SOURCE, "#[test]\nfn adds() {\n    assert_eq!(add(1, 2), 3);\n}")
    assert merged.startswith(RUST_SOURCE)
    assert merged.endswith(
        "\n\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    fn adds() {\n"
        "        assert_eq!(add(1, 2), 3);\n    }\n}\n"
    )
    assert parses("rust", merged)
    with pytest.raises(ValueError, match="source file"):
        merge(plan, None, "fn x() {}")


def test_rust_with_test_module(tmp_path: Path) -> None:
    make(tmp_path, {"src/lib.rs": RUST_WITH_TESTS})
    plan = plan_tests(tmp_path, tmp_path / "src/lib.rs", "rust", "add")
    assert plan.header == ""
    assert plan.insert_offset == RUST_WITH_TESTS.rindex("}")
    generated = dedent("""
        #[cfg(test)]
        mod tests {
            use super::*;
            use std::collections::HashMap;

            #[test]
            fn adds_negative() {
                let _m: HashMap<i32, i32> = HashMap::new();
                assert_eq!(add(-1, -2), -3);
            }
        }
    """)
    result = merge_edits(plan, RUST_WITH_TESTS, generated)
    assert result.text.count("mod tests") == 1
    assert result.text.count("use super::*;") == 1
    assert "    use super::*;\n    use std::collections::HashMap;\n" in result.text
    assert "        assert_eq!(add(1, 2), 3);\n    }\n\n    #[test]\n    fn adds_negative()" \
        in result.text
    assert result.text.endswith("        assert_eq!(add(-1, -2), -3);\n    }\n}\n")
    assert parses("rust", result.text)
    assert apply_edits(RUST_WITH_TESTS, result.edits) == result.text


def test_rust_test_module_without_use_lines(tmp_path: Path) -> None:
    source = "fn f() -> i32 { 1 }\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn x() {}\n}\n"
    make(tmp_path, {"src/main.rs": source})
    plan = plan_tests(tmp_path, tmp_path / "src/main.rs", "rust", "f")
    text = merge(plan, source, "use std::fmt;\n\n#[test]\nfn one() {\n    assert_eq!(f(), 1);\n}\n")
    assert text == (
        "fn f() -> i32 { 1 }\n\n#[cfg(test)]\nmod tests {\n    use super::*;\n"
        "    use std::fmt;\n\n    #[test]\n    fn x() {}\n\n    #[test]\n    fn one() {\n"
        "        assert_eq!(f(), 1);\n    }\n}\n"
    )
    assert parses("rust", text)


def test_rust_out_of_line_test_module(tmp_path: Path) -> None:
    make(tmp_path, {"src/parser.rs": "pub fn parse() {}\n\n#[cfg(test)]\nmod tests;\n"})
    plan = plan_tests(tmp_path, tmp_path / "src/parser.rs", "rust", "parse")
    assert plan.path == tmp_path.resolve() / "src/parser/tests.rs"
    assert not plan.exists
    text = merge(plan, None, "#[test]\nfn parses() {\n    parse();\n}\n")
    assert text == "use super::*;\n\n#[test]\nfn parses() {\n    parse();\n}\n"

