"""Tests for kodama.syntax.testlayout: test framework detection, test file planning, merging."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from kodama.syntax import testlayout
from kodama.syntax.analysis import parses
from kodama.syntax.testlayout import (
    TestPlan,
    UnsupportedLanguageError,
    apply_edits,
    detect_framework,
    merge,
    merge_edits,
    plan_tests,
)


def make(root: Path, files: dict[str, str]) -> Path:
    """Write *files* (repository-relative path → text, dedented) under *root*."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


UNITTEST_FILE = """\
    import unittest

    class TestThing(unittest.TestCase):
        def test_it(self):
            self.assertEqual(1, 1)
"""


# ---------------------------------------------------------------------------- Python detection
def test_python_defaults_to_pytest(tmp_path: Path) -> None:
    make(tmp_path, {"pkg/__init__.py": "", "pkg/mod.py": "x = 1\n"})
    assert detect_framework(tmp_path, "python") == "pytest"


def test_python_unittest_when_tests_subclass_testcase(tmp_path: Path) -> None:
    make(tmp_path, {"tests/test_thing.py": UNITTEST_FILE, "setup.cfg": "[metadata]\nname = x\n"})
    assert detect_framework(tmp_path, "python") == "unittest"


@pytest.mark.parametrize(
    "files",
    [
        {"tests/conftest.py": "import os\n"},
        {"pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = ['tests']\n"},
        {"pyproject.toml": "[project]\nname = 'x'\n[project.optional-dependencies]\n"
                           "test = ['pytest>=7', 'coverage']\n"},
        {"pyproject.toml": "[dependency-groups]\ndev = ['pytest-cov']\n"},
        {"pyproject.toml": "[tool.poetry.group.dev.dependencies]\npytest = '^8.0'\n"},
        {"setup.cfg": "[tool:pytest]\naddopts = -q\n"},
        {"pytest.ini": "[pytest]\n"},
        {"tox.ini": "[pytest]\nminversion = 6\n"},
        {"requirements-dev.txt": "black\npytest==8.1\n"},
        {"requirements/test.txt": "pytest\n"},
        {"tests/test_other.py": "import pytest\n\n@pytest.fixture\ndef f():\n    return 1\n"},
        {"tests/test_other.py": "def test_plain():\n    assert 1 + 1 == 2\n"},
    ],
    ids=["conftest", "ini-options", "optional-deps", "dependency-groups", "poetry-group",
         "setup-cfg", "pytest-ini", "tox-ini", "requirements-dev", "requirements-dir",
         "import-pytest", "module-level-test-function"],
)
def test_python_pytest_signal_beats_testcase_classes(tmp_path: Path, files: dict[str, str]) -> None:
    make(tmp_path, {"tests/test_thing.py": UNITTEST_FILE, **files})
    assert detect_framework(tmp_path, "python") == "pytest"


@pytest.mark.parametrize(
    "files",
    [
        {"pyproject.toml": "[project]\nname = 'x'\ndependencies = ['requests', 'pytestify']\n"},
        {"requirements.txt": "requests\n# pytest is not used here\n"},
        {"README.md": "We do not use pytest.\n"},
    ],
    ids=["other-dependency", "comment", "readme"],
)
def test_python_non_signals_leave_unittest(tmp_path: Path, files: dict[str, str]) -> None:
    make(tmp_path, {"tests/test_thing.py": UNITTEST_FILE, **files})
    assert detect_framework(tmp_path, "python") == "unittest"


def test_ignored_and_skipped_folders_are_not_read(tmp_path: Path) -> None:
    make(tmp_path, {
        "tests/test_thing.py": UNITTEST_FILE,
        ".gitignore": "scratch/\n",
        "scratch/conftest.py": "",
        "node_modules/pkg/conftest.py": "",
        ".venv/lib/conftest.py": "",
        "build/conftest.py": "",
    })
    assert detect_framework(tmp_path, "python") == "unittest"
    make(tmp_path, {"other/conftest.py": ""})
    assert detect_framework(tmp_path, "python") == "pytest"


def test_walk_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make(tmp_path, {"tests/test_thing.py": UNITTEST_FILE, "z/deep/conftest.py": ""})
    make(tmp_path, {f"a{i}.txt": "" for i in range(10)})
    assert detect_framework(tmp_path, "python") == "pytest"
    monkeypatch.setattr(testlayout, "MAX_FILES", 11)  # root files + tests/, not z/
    assert detect_framework(tmp_path, "python") == "unittest"


# ---------------------------------------------------------------------------- other detection
@pytest.mark.parametrize(
    ("package", "expected"),
    [
        ({"devDependencies": {"jest": "^29"}}, "jest"),
        ({"devDependencies": {"ts-jest": "^29", "typescript": "^5"}}, "jest"),
        ({"devDependencies": {"vitest": "^1"}}, "vitest"),
        ({"devDependencies": {"mocha": "^10", "chai": "^4"}}, "mocha"),
        ({"scripts": {"test": "node --test test/"}}, "node:test"),
        ({"scripts": {"test": "vitest run"}, "devDependencies": {"jest": "^29"}}, "vitest"),
        ({"scripts": {"test": "mocha 'test/**/*.js'"}}, "mocha"),
        ({"dependencies": {"react": "^18"}}, "jest"),
    ],
)
def test_js_framework_from_package_json(
    tmp_path: Path, package: dict[str, object], expected: str
) -> None:
    make(tmp_path, {"package.json": json.dumps(package)})
    assert detect_framework(tmp_path, "javascript") == expected
    assert detect_framework(tmp_path, "typescriptreact") == expected  # LSP ids work too


def test_js_framework_from_config_file_without_package_json(tmp_path: Path) -> None:
    make(tmp_path, {"vitest.config.ts": "export default {}\n"})
    assert detect_framework(tmp_path, "typescript") == "vitest"


def test_go_and_rust(tmp_path: Path) -> None:
    assert detect_framework(tmp_path, "go") == "go"
    assert detect_framework(tmp_path, "rust") == "rust"


POM_JUNIT4 = """\
    <project><dependencies><dependency>
      <groupId>junit</groupId><artifactId>junit</artifactId><version>4.13.2</version>
    </dependency></dependencies></project>
"""
POM_JUNIT5 = """\
    <project><dependencies><dependency>
      <groupId>org.junit.jupiter</groupId><artifactId>junit-jupiter</artifactId>
    </dependency></dependencies></project>
"""


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"pom.xml": POM_JUNIT5}, "junit5"),
        ({"pom.xml": POM_JUNIT4}, "junit4"),
        ({"build.gradle": "dependencies { testImplementation 'junit:junit:4.13.2' }\n"}, "junit4"),
        ({"build.gradle.kts": 'dependencies { testImplementation("org.junit.jupiter:'
                              'junit-jupiter:5.10.0") }\n'}, "junit5"),
        ({"src/test/java/a/ATest.java": "package a;\nimport org.junit.Test;\nclass ATest {}\n"},
         "junit4"),
        ({"README.md": "nothing\n"}, "junit5"),
    ],
    ids=["pom-jupiter", "pom-junit4", "gradle-junit4", "gradle-kts-jupiter", "test-import",
         "default"],
)
def test_java_framework(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    make(tmp_path, files)
    assert detect_framework(tmp_path, "java") == expected


@pytest.mark.parametrize("language", ["c", "cpp", "haskell"])
def test_unsupported_languages_raise_a_clear_error(tmp_path: Path, language: str) -> None:
    with pytest.raises(UnsupportedLanguageError, match="supported languages are python"):
        detect_framework(tmp_path, language)
    make(tmp_path, {"main.c": "int main(void) { return 0; }\n"})
    with pytest.raises(ValueError, match=repr(language)):
        plan_tests(tmp_path, tmp_path / "main.c", language, "main")


# ---------------------------------------------------------------------------- Python layout
def test_python_src_layout_flat_tests(tmp_path: Path) -> None:
    make(tmp_path, {
        "src/pkg/__init__.py": "", "src/pkg/sub/__init__.py": "",
        "src/pkg/sub/mod.py": "class Foo:\n    def bar(self):\n        return 1\n",
        "tests/test_other.py": "def test_x():\n    assert True\n",
    })
    plan = plan_tests(tmp_path, tmp_path / "src/pkg/sub/mod.py", "python", "Foo.bar")
    assert plan.framework == "pytest"
    assert plan.path == tmp_path.resolve() / "tests/test_mod.py"
    assert not plan.exists
    assert plan.module == "pkg.sub.mod"
    assert plan.imports == ("import pytest", "from pkg.sub.mod import Foo")
    assert plan.header == "import pytest\n\nfrom pkg.sub.mod import Foo\n"
    assert "module-level functions" in plan.style_hint


def test_python_src_layout_mirrored_tests_drop_the_top_package(tmp_path: Path) -> None:
    make(tmp_path, {
        "src/pkg/__init__.py": "", "src/pkg/sub/__init__.py": "", "src/pkg/sub/mod.py": "",
        "tests/other/test_a.py": "def test_a():\n    assert True\n",
    })
    plan = plan_tests(tmp_path, tmp_path / "src/pkg/sub/mod.py", "python", "f")
    assert plan.path == tmp_path.resolve() / "tests/sub/test_mod.py"


def test_python_mirrored_tests_keep_the_top_package_when_the_tests_do(tmp_path: Path) -> None:
    make(tmp_path, {
        "pkg/__init__.py": "", "pkg/sub/__init__.py": "", "pkg/sub/mod.py": "",
        "tests/pkg/test_a.py": "def test_a():\n    assert True\n",
    })
    plan = plan_tests(tmp_path, tmp_path / "pkg/sub/mod.py", "python", "f")
    assert plan.path == tmp_path.resolve() / "tests/pkg/sub/test_mod.py"
    assert plan.module == "pkg.sub.mod"


def test_python_tests_next_to_the_source(tmp_path: Path) -> None:
    make(tmp_path, {
        "pkg/__init__.py": "", "pkg/mod.py": "",
        "pkg/test_other.py": "def test_a():\n    assert True\n",
        "tests/test_unrelated.py": "def test_b():\n    assert True\n",
    })
    plan = plan_tests(tmp_path, tmp_path / "pkg/mod.py", "python", "f")
    assert plan.path == tmp_path.resolve() / "pkg/test_mod.py"


def test_python_tests_folder_inside_the_package(tmp_path: Path) -> None:
    make(tmp_path, {
        "pkg/__init__.py": "", "pkg/mod.py": "",
        "pkg/tests/__init__.py": "",
        "pkg/tests/test_other.py": "def test_a():\n    assert True\n",
    })
    plan = plan_tests(tmp_path, tmp_path / "pkg/mod.py", "python", "f")
    assert plan.path == tmp_path.resolve() / "pkg/tests/test_mod.py"
    assert plan.module == "pkg.mod"


def test_python_suffix_naming_is_followed(tmp_path: Path) -> None:
    make(tmp_path, {
        "app/__init__.py": "", "app/mod.py": "",
        "tests/a_test.py": "def test_a():\n    assert True\n",
        "tests/b_test.py": "def test_b():\n    assert True\n",
    })
    plan = plan_tests(tmp_path, tmp_path / "app/mod.py", "python", "f")
    assert plan.path.name == "mod_test.py"


def test_python_existing_test_file_is_chosen(tmp_path: Path) -> None:
    make(tmp_path, {
        "pkg/__init__.py": "", "pkg/mod.py": "", "other/__init__.py": "", "other/mod.py": "",
        "tests/unit/other/test_mod.py": "def test_other():\n    assert True\n",
        "tests/unit/pkg/test_mod.py": "def test_mine():\n    assert True\n",
    })
    plan = plan_tests(tmp_path, Path("pkg/mod.py"), "python", "f")  # relative
    assert plan.path == tmp_path.resolve() / "tests/unit/pkg/test_mod.py"
    assert plan.exists


def test_python_existing_test_file_elsewhere_in_the_tree(tmp_path: Path) -> None:
    make(tmp_path, {
        "lib/engine/__init__.py": "", "lib/engine/core.py": "",
        "tests/test_a.py": "def test_a():\n    assert True\n",
        "tests/regressions/test_core.py": "def test_core():\n    assert True\n",
    })
    plan = plan_tests(tmp_path, tmp_path / "lib/engine/core.py", "python", "f")
    assert plan.path == tmp_path.resolve() / "tests/test_core.py"  # not regressions/
    make(tmp_path, {"tests/integration/test_core.py": "def test_core():\n    assert True\n"})
    plan = plan_tests(tmp_path, tmp_path / "lib/engine/core.py", "python", "f")
    assert plan.path == tmp_path.resolve() / "tests/integration/test_core.py"
    assert plan.exists


def test_python_unit_subfolder_and_namespace_package(tmp_path: Path) -> None:
    make(tmp_path, {
        "syntax/tags.py": "def definitions():\n    return []\n",
        "tests/unit/syntax/test_other.py": "def test_a():\n    assert True\n",
        "tests/e2e/test_flow.py": "def test_b():\n    assert True\n",
    })
    plan = plan_tests(tmp_path, tmp_path / "syntax/tags.py", "python", "definitions")
    assert plan.path == tmp_path.resolve() / "tests/unit/syntax/test_tags.py"
    assert plan.module == "syntax.tags"
    assert plan.imports[-1] == "from syntax.tags import definitions"


def test_python_setuptools_package_dir_mapping(tmp_path: Path) -> None:
    make(tmp_path, {
        "pyproject.toml": "[tool.setuptools]\npackage-dir = { 'kodama.syntax' = 'syntax' }\n",
        "syntax/__init__.py": "", "syntax/tags.py": "",
        "tests/unit/syntax/test_other.py": "def test_a():\n    assert True\n",
    })
    plan = plan_tests(tmp_path, tmp_path / "syntax/tags.py", "python", "definitions")
    assert plan.module == "kodama.syntax.tags"
    assert plan.path == tmp_path.resolve() / "tests/unit/syntax/test_tags.py"
    make(tmp_path, {
        "pyproject.toml": "[tool.setuptools]\npackage-dir = { 'kodama.model' = 'model' }\n",
        "model/__init__.py": "", "model/context/__init__.py": "", "model/context/ignore.py": "",
        "tests/unit/context/test_index.py": "def test_a():\n    assert True\n",
    })
    plan = plan_tests(tmp_path, tmp_path / "model/context/ignore.py", "python", "Ignorer")
    assert plan.module == "kodama.model.context.ignore"
    assert plan.path == tmp_path.resolve() / "tests/unit/context/test_ignore.py"


def test_python_top_level_module(tmp_path: Path) -> None:
    make(tmp_path, {"mod.py": "def f():\n    return 1\n"})
    plan = plan_tests(tmp_path, tmp_path / "mod.py", "python", "f")
    assert plan.path == tmp_path.resolve() / "tests/test_mod.py"
    assert plan.module == "mod"
    assert plan.imports[-1] == "from mod import f"


def test_python_package_init_module(tmp_path: Path) -> None:
    make(tmp_path, {"pkg/__init__.py": "def f():\n    return 1\n"})
    plan = plan_tests(tmp_path, tmp_path / "pkg/__init__.py", "python", "f")
    assert plan.module == "pkg"
    assert plan.path.name == "test_pkg.py"


def test_python_unittest_plan_and_class_hint(tmp_path: Path) -> None:
    make(tmp_path, {"pkg/__init__.py": "", "pkg/mod.py": "", "tests/test_thing.py": UNITTEST_FILE})
    plan = plan_tests(tmp_path, tmp_path / "pkg/mod.py", "python", "Parser.parse")
    assert plan.framework == "unittest"
    assert plan.header == "import unittest\n\nfrom pkg.mod import Parser\n"
    assert "unittest.TestCase subclass named TestParser" in plan.style_hint


def test_python_pytest_class_style_is_described(tmp_path: Path) -> None:
    make(tmp_path, {
        "pkg/__init__.py": "", "pkg/mod.py": "",
        "tests/test_a.py": "import pytest\n\nclass TestA:\n    def test_x(self):\n"
                           "        assert True\n",
        "tests/test_b.py": "import pytest\n\n@pytest.mark.parametrize('x', [1])\n"
                           "class TestB:\n    def test_y(self, x):\n        assert x\n",
    })
    plan = plan_tests(tmp_path, tmp_path / "pkg/mod.py", "python", "f")
    assert "classes named Test<Name>" in plan.style_hint
    assert "@pytest.mark.parametrize" in plan.style_hint


def test_python_source_outside_the_repository(tmp_path: Path) -> None:
    make(tmp_path, {"repo/a.py": "", "elsewhere/b.py": ""})
    with pytest.raises(ValueError, match="not inside"):
        plan_tests(tmp_path / "repo", tmp_path / "elsewhere/b.py", "python", "f")


# ---------------------------------------------------------------------------- JS / TS layout
def test_jest_commonjs_colocated(tmp_path: Path) -> None:
    make(tmp_path, {
        "package.json": json.dumps({"devDependencies": {"jest": "^29"}}),
        "src/math.js": "function add(a, b) { return a + b; }\nmodule.exports = { add };\n",
        "src/util.js": "module.exports = {};\n",
        "src/util.test.js": "const { x } = require('./util');\ntest('x', () => {});\n",
    })
    plan = plan_tests(tmp_path, tmp_path / "src/math.js", "javascript", "add")
    assert plan.framework == "jest"
    assert plan.path == tmp_path.resolve() / "src/math.test.js"
    assert plan.module == "./math"
    assert plan.imports == ("const { add } = require('./math');",)
    assert plan.header == "const { add } = require('./math');\n"
    assert "CommonJS" in plan.style_hint


def test_vitest_typescript_in_tests_folder(tmp_path: Path) -> None:
    make(tmp_path, {
        "package.json": json.dumps({"type": "module", "devDependencies": {"vitest": "^1"}}),
        "src/lib/math.ts": "export function add(a: number, b: number): number {\n"
                           "  return a + b;\n}\n",
        "src/__tests__/util.test.ts": 'import { describe, it, expect } from "vitest";\n'
                                      'import { util } from "../util";\n',
    })
    plan = plan_tests(tmp_path, tmp_path / "src/lib/math.ts", "typescript", "add")
    assert plan.framework == "vitest"
    assert plan.path == tmp_path.resolve() / "src/__tests__/math.test.ts"
    assert plan.module == "../lib/math"
    assert plan.imports == (
        'import { describe, expect, it } from "vitest";',
        'import { add } from "../lib/math";',
    )


def test_tsx_spec_naming_and_default_export(tmp_path: Path) -> None:
    make(tmp_path, {
        "package.json": json.dumps({"devDependencies": {"jest": "^29"}}),
        "src/Button.tsx": "export default function Button() {\n  return <button />;\n}\n",
        "src/Card.tsx": "export const Card = () => null;\n",
        "src/Card.spec.tsx": "import { Card } from './Card';\n",
    })
    plan = plan_tests(tmp_path, tmp_path / "src/Button.tsx", "tsx", "Button")
    assert plan.path == tmp_path.resolve() / "src/Button.spec.tsx"
    assert plan.language == "tsx"
    assert plan.imports == ("import Button from './Button';",)


def test_esm_with_extensions_in_a_test_folder_with_mocha(tmp_path: Path) -> None:
    make(tmp_path, {
        "package.json": json.dumps({"type": "module", "devDependencies": {"mocha": "^10"}}),
        "src/math.js": "export function add(a, b) { return a + b; }\n",
        "src/util.js": "export const x = 1;\n",
        "test/util.test.js": "import assert from 'node:assert/strict';\n"
                             "import { x } from '../src/util.js';\n",
    })
    plan = plan_tests(tmp_path, tmp_path / "src/math.js", "javascript", "add")
    assert plan.framework == "mocha"
    assert plan.path == tmp_path.resolve() / "test/math.test.js"
    assert plan.module == "../src/math.js"
    assert plan.imports == (
        "import assert from 'node:assert/strict';",
        "import { add } from '../src/math.js';",
    )


def test_typescript_esm_uses_js_extension_when_tests_do(tmp_path: Path) -> None:
    make(tmp_path, {
        "package.json": json.dumps({"type": "module", "devDependencies": {"jest": "^29"}}),
        "src/math.ts": "export const add = (a: number, b: number) => a + b;\n",
        "src/util.test.ts": "import { x } from './util.js';\n",
    })
    plan = plan_tests(tmp_path, tmp_path / "src/math.ts", "typescript", "add")
    assert plan.module == "./math.js"
    assert plan.path.name == "math.test.ts"


def test_mocha_chai_commonjs_default(tmp_path: Path) -> None:
    make(tmp_path, {
        "package.json": json.dumps({"devDependencies": {"mocha": "^10", "chai": "^4"}}),
        "lib/parse.js": "module.exports = function parse(s) { return s; };\n",
    })
    plan = plan_tests(tmp_path, tmp_path / "lib/parse.js", "javascript", "parse")
    assert plan.path == tmp_path.resolve() / "test/parse.test.js"
    assert plan.imports == (
        "const { expect } = require('chai');",
        "const parse = require('../lib/parse');",
    )
    assert "chai" in plan.style_hint


def test_node_test_runner(tmp_path: Path) -> None:
    make(tmp_path, {
        "package.json": json.dumps({"type": "module", "scripts": {"test": "node --test"}}),
        "index.mjs": "export function hello() { return 'hi'; }\n",
    })
    plan = plan_tests(tmp_path, tmp_path / "index.mjs", "javascript", "hello")
    assert plan.framework == "node:test"
    assert plan.path == tmp_path.resolve() / "index.test.mjs"
    assert plan.imports == (
        "import { describe, it } from 'node:test';",
        "import assert from 'node:assert/strict';",
        "import { hello } from './index.mjs';",
    )


# ---------------------------------------------------------------------------- Go, Rust, Java
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


JAVA_SOURCE = "package com.acme;\n\npublic class Foo {\n    public int one() { return 1; }\n}\n"


def test_java_maven_junit5(tmp_path: Path) -> None:
    make(tmp_path, {"pom.xml": POM_JUNIT5, "src/main/java/com/acme/Foo.java": JAVA_SOURCE})
    plan = plan_tests(tmp_path, tmp_path / "src/main/java/com/acme/Foo.java", "java", "Foo.one")
    assert plan.framework == "junit5"
    assert plan.path == tmp_path.resolve() / "src/test/java/com/acme/FooTest.java"
    assert plan.module == "com.acme"
    assert plan.header == (
        "package com.acme;\n\nimport org.junit.jupiter.api.Test;\n"
        "import static org.junit.jupiter.api.Assertions.*;\n"
    )
    text = merge(plan, None, "@Test\nvoid one() {\n    assertEquals(1, new Foo().one());\n}\n")
    assert "class FooTest {\n\n    @Test\n    void one() {" in text
    assert text.startswith(plan.header)
    assert parses("java", text)


def test_java_maven_junit4_existing_test_class(tmp_path: Path) -> None:
    existing = dedent("""
        package com.acme;

        import org.junit.Test;

        public class FooTest {
            @Test
            public void first() {}
        }
    """)
    make(tmp_path, {
        "pom.xml": POM_JUNIT4, "src/main/java/com/acme/Foo.java": JAVA_SOURCE,
        "src/test/java/com/acme/FooTest.java": existing,
    })
    plan = plan_tests(tmp_path, tmp_path / "src/main/java/com/acme/Foo.java", "java", "Foo")
    assert plan.framework == "junit4"
    assert plan.exists
    assert plan.imports == ("import org.junit.Test;", "import static org.junit.Assert.*;")
    generated = dedent("""
        import org.junit.Test;
        import java.util.List;

        public class FooTest {
            @Test
            public void second() {
                assertEquals(1, List.of(1).size());
            }
        }
    """)
    result = merge_edits(plan, existing, generated)
    assert result.text.count("class FooTest") == 1
    assert result.text.count("import org.junit.Test;") == 1
    assert "import org.junit.Test;\nimport static org.junit.Assert.*;\nimport java.util.List;\n" \
        in result.text
    assert "    public void first() {}\n\n    @Test\n    public void second() {" in result.text
    assert parses("java", result.text)
    assert apply_edits(existing, result.edits) == result.text


# ---------------------------------------------------------------------------- merging Python
def python_plan(tmp_path: Path, framework: str = "pytest") -> TestPlan:
    files = {"pkg/__init__.py": "", "pkg/mod.py": "class Foo:\n    pass\n"}
    if framework == "unittest":
        files["tests/test_thing.py"] = UNITTEST_FILE
    make(tmp_path, files)
    return plan_tests(tmp_path, tmp_path / "pkg/mod.py", "python", "Foo")


def test_merge_python_new_file(tmp_path: Path) -> None:
    plan = python_plan(tmp_path)
    generated = dedent("""
        ```python
        import math
        import pytest
        from pkg.mod import Foo


        def test_foo():
            assert math.isclose(1.0, 1.0)
            with pytest.raises(TypeError):
                Foo(1)
        ```
    """)
    result = merge_edits(plan, None, generated)
    assert result.text == dedent("""
        import pytest
        import math

        from pkg.mod import Foo


        def test_foo():
            assert math.isclose(1.0, 1.0)
            with pytest.raises(TypeError):
                Foo(1)
    """)
    assert result.edits == (testlayout.Edit(0, 0, result.text),)
    assert parses("python", result.text)


def test_merge_python_new_file_drops_unused_pytest_import(tmp_path: Path) -> None:
    plan = python_plan(tmp_path)
    text = merge(plan, None, "def test_foo():\n    assert Foo() is not None\n")
    assert text == "from pkg.mod import Foo\n\n\ndef test_foo():\n    assert Foo() is not None\n"


def test_merge_python_replaces_a_wrong_import_of_the_symbol(tmp_path: Path) -> None:
    plan = python_plan(tmp_path)
    text = merge(plan, None, "from mod import Foo\n\ndef test_foo():\n    assert Foo()\n")
    assert "from mod import" not in text
    assert "from pkg.mod import Foo" in text


EXISTING_PY = '''\
"""Tests for pkg.mod."""

import pytest

from pkg.mod import Foo


def test_old():
    assert Foo()
'''


def test_merge_python_existing_hoists_and_dedupes_imports(tmp_path: Path) -> None:
    plan = python_plan(tmp_path)
    generated = dedent("""
        import math
        import pytest
        from pkg.mod import Foo, helper

        def test_new():
            assert helper(math.pi)
    """)
    result = merge_edits(plan, EXISTING_PY, generated)
    assert result.text == dedent('''
        """Tests for pkg.mod."""

        import pytest

        from pkg.mod import Foo
        import math
        from pkg.mod import helper


        def test_old():
            assert Foo()


        def test_new():
            assert helper(math.pi)
    ''')
    assert parses("python", result.text)
    assert apply_edits(EXISTING_PY, result.edits) == result.text
    assert len(result.edits) == 2  # one at the imports, one at the end


def test_merge_python_before_main_block_and_future_import_first(tmp_path: Path) -> None:
    plan = python_plan(tmp_path, "unittest")
    assert plan.framework == "unittest"
    existing = dedent("""
        import unittest


        class TestOld(unittest.TestCase):
            def test_old(self):
                self.assertTrue(True)


        if __name__ == "__main__":
            unittest.main()
    """)
    generated = dedent("""
        from __future__ import annotations
        import unittest
        from pkg.mod import Foo

        class TestFoo(unittest.TestCase):
            def test_new(self):
                self.assertIsNotNone(Foo())


        if __name__ == "__main__":
            unittest.main()
    """)
    text = merge(plan, existing, generated)
    assert text.count("__main__") == 1
    assert text.startswith("from __future__ import annotations\nimport unittest\n"
                           "from pkg.mod import Foo\n")
    assert text.count("import unittest") == 1
    assert text.index("class TestFoo") < text.index('if __name__ == "__main__":')
    assert text.endswith('\n\n\nif __name__ == "__main__":\n    unittest.main()\n')
    assert parses("python", text)


def test_merge_python_into_a_file_without_imports_or_newline(tmp_path: Path) -> None:
    plan = python_plan(tmp_path)
    existing = '"""Only a docstring."""'
    text = merge(plan, existing, "def test_new():\n    assert Foo()\n")
    assert text == ('"""Only a docstring."""\n\nfrom pkg.mod import Foo\n\n\n'
                    "def test_new():\n    assert Foo()\n")
    assert parses("python", text)
    existing = "from pkg.mod import Foo"
    text = merge(plan, existing, "import os\n\ndef test_new():\n    assert os.sep\n")
    assert text == "from pkg.mod import Foo\nimport os\n\n\ndef test_new():\n    assert os.sep\n"


def test_merge_python_adds_pytest_import_when_used(tmp_path: Path) -> None:
    plan = python_plan(tmp_path)
    existing = "from pkg.mod import Foo\n\n\ndef test_old():\n    assert Foo()\n"
    text = merge(plan, existing, "def test_new():\n    with pytest.raises(TypeError):\n"
                                 "        Foo(1)\n")
    assert text.startswith("from pkg.mod import Foo\nimport pytest\n\n\ndef test_old():")
    assert parses("python", text)
    unused = merge(plan, existing, "def test_new():\n    assert Foo()\n")
    assert "import pytest" not in unused


def test_merge_keeps_crlf_line_endings(tmp_path: Path) -> None:
    plan = python_plan(tmp_path)
    existing = EXISTING_PY.replace("\n", "\r\n")
    text = merge(plan, existing, "import os\n\ndef test_new():\n    assert os.sep\n")
    assert "\r\n" in text
    assert "\n" not in text.replace("\r\n", "")
    assert "import os\r\n" in text
    assert parses("python", text)


def test_merge_into_blank_existing_file_is_a_new_file(tmp_path: Path) -> None:
    plan = python_plan(tmp_path)
    result = merge_edits(plan, "\n\n", "def test_new():\n    assert Foo()\n")
    assert result.text.startswith("from pkg.mod import Foo\n")
    assert result.edits == (testlayout.Edit(0, 2, result.text),)


# ---------------------------------------------------------------------------- merging JS / Go
def js_plan(tmp_path: Path) -> TestPlan:
    make(tmp_path, {
        "package.json": json.dumps({"devDependencies": {"vitest": "^1"}}),
        "src/math.js": "export function add(a, b) { return a + b; }\n"
                       "export function sub(a, b) { return a - b; }\n",
    })
    return plan_tests(tmp_path, tmp_path / "src/math.js", "javascript", "add")


def test_merge_js_new_file(tmp_path: Path) -> None:
    plan = js_plan(tmp_path)
    assert plan.path.name == "math.test.js"
    generated = dedent("""
        import { describe, it, expect } from 'vitest';
        import { add } from '../src/math';

        describe('add', () => {
          it('adds', () => {
            expect(add(1, 2)).toBe(3);
          });
        });
    """)
    text = merge(plan, None, generated)
    assert text == dedent("""
        import { describe, expect, it } from 'vitest';

        import { add } from './math';

        describe('add', () => {
          it('adds', () => {
            expect(add(1, 2)).toBe(3);
          });
        });
    """)
    assert parses("javascript", text)


def test_merge_js_existing_file(tmp_path: Path) -> None:
    plan = js_plan(tmp_path)
    existing = dedent("""
        import { describe, expect, it } from 'vitest';
        import { add } from './math';

        describe('add', () => {
          it('adds', () => expect(add(1, 1)).toBe(2));
        });
    """)
    generated = dedent("""
        import { add, sub } from './math';
        import { vi } from 'vitest';

        describe('sub', () => {
          it('subtracts', () => expect(sub(2, 1)).toBe(1));
        });
    """)
    result = merge_edits(plan, existing, generated)
    assert result.text == dedent("""
        import { describe, expect, it } from 'vitest';
        import { add } from './math';
        import { sub } from './math';
        import { vi } from 'vitest';

        describe('add', () => {
          it('adds', () => expect(add(1, 1)).toBe(2));
        });

        describe('sub', () => {
          it('subtracts', () => expect(sub(2, 1)).toBe(1));
        });
    """)
    assert parses("javascript", result.text)
    assert apply_edits(existing, result.edits) == result.text


def test_merge_js_commonjs_dedupe(tmp_path: Path) -> None:
    make(tmp_path, {
        "package.json": json.dumps({"devDependencies": {"jest": "^29"}}),
        "math.js": "module.exports = { add: (a, b) => a + b, sub: (a, b) => a - b };\n",
    })
    plan = plan_tests(tmp_path, tmp_path / "math.js", "javascript", "add")
    existing = "'use strict';\n\nconst { add } = require('./math');\n\ntest('a', () => {});\n"
    generated = "const { add, sub: minus } = require('./math');\n\ntest('b', () => minus(1, 1));\n"
    text = merge(plan, existing, generated)
    assert text == ("'use strict';\n\nconst { add } = require('./math');\n"
                    "const { sub: minus } = require('./math');\n\ntest('a', () => {});\n\n"
                    "test('b', () => minus(1, 1));\n")
    assert parses("javascript", text)


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


def test_apply_edits_rejects_overlaps() -> None:
    edits = [testlayout.Edit(0, 3, "x"), testlayout.Edit(2, 4, "y")]
    with pytest.raises(ValueError, match="overlapping"):
        apply_edits("abcdef", edits)
    assert apply_edits("abcdef", [testlayout.Edit(4, 4, "Z"), testlayout.Edit(0, 1, "")]) \
        == "bcdZef"
