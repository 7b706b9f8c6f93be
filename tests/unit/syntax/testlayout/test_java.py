"""Tests for kodama.syntax.testlayout.java: the test class of a class, and merging into it."""

from __future__ import annotations

from pathlib import Path

from kodama.syntax.analysis import parses
from kodama.syntax.testlayout import apply_edits, merge, merge_edits, plan_tests

from .repo import POM_JUNIT4, POM_JUNIT5, dedent, make

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

