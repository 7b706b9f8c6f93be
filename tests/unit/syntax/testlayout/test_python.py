"""Tests for kodama.syntax.testlayout.python: where Python tests go, and merging them."""

from __future__ import annotations

from pathlib import Path

from kodama.syntax import testlayout
from kodama.syntax.analysis import parses
from kodama.syntax.testlayout import apply_edits, merge, merge_edits, plan_tests

from .repo import EXISTING_PY, UNITTEST_FILE, dedent, make, python_plan


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



# ---------------------------------------------------------------------------- merging Python
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

