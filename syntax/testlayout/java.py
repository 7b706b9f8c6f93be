"""Java: the test class of a class, and merging generated tests into it.

Maven/Gradle ``src/main/java/x/y/Foo.java`` → ``src/test/java/x/y/FooTest.java`` (``test/``
beside ``src/`` for the older layout, else next to the source), in the same package.  Merging
adds the missing imports after the file's last import and puts the generated test methods
before the closing brace of the existing test class.
"""

from __future__ import annotations

from pathlib import Path

import tree_sitter

from .common import Edit, Framework, TestPlan, join, normalized
from .detect import Repository
from .parsed import Parsed
from .splice import append, clean_body, cut, indent, insert_after_line, line_start

__all__ = ["merge_java", "plan_java"]

_JAVA_IMPORTS: dict[str, tuple[str, ...]] = {
    "junit5": ("import org.junit.jupiter.api.Test;",
               "import static org.junit.jupiter.api.Assertions.*;"),
    "junit4": ("import org.junit.Test;", "import static org.junit.Assert.*;"),
}


# ------------------------------------------------------------------------------ planning
def _java_package(text: str) -> str:
    """The package a Java file declares (``""``: the default package)."""
    parsed = Parsed("java", text)
    for declaration in parsed.children("package"):
        for name in parsed.children("package.name", declaration):
            return parsed.node_text(name)
    return ""


def _test_folder(repo: Repository, rel: str) -> str:
    """The folder of the tests of the class in *rel*."""
    parts = rel.split("/")
    for i in range(len(parts) - 3):
        if parts[i : i + 3] == ["src", "main", "java"]:
            return join(*parts[:i], "src", "test", "java", *parts[i + 3 : -1])
    if "src" in parts[:-1]:
        i = parts.index("src")
        sibling = join(*parts[:i], "test")
        if sibling in repo.dirs or repo.is_dir(sibling):
            return join(*parts[:i], "test", *parts[i + 1 : -1])
    return join(*parts[:-1])


def plan_java(repo: Repository, source: Path, rel: str, framework: Framework) -> TestPlan:
    """The plan for the tests of the Java file *source* (*rel* in *repo*)."""
    stem = source.stem
    folder = _test_folder(repo, rel)
    candidates = [join(folder, f"{stem}Test.java"), join(folder, f"{stem}Tests.java"),
                  join(folder, f"Test{stem}.java")]
    target = next((c for c in candidates if repo.is_file(c)), candidates[0])
    path = repo.root / target
    package = _java_package(repo.read(rel))
    imports = _JAVA_IMPORTS[framework]
    header = (f"package {package};\n\n" if package else "") + "".join(i + "\n" for i in imports)
    if framework == "junit5":
        hint = (f"JUnit 5: a package-private class {path.stem} with @Test void methods, static"
                " Assertions (assertEquals, assertTrue, assertThrows).")
    else:
        hint = (f"JUnit 4: a public class {path.stem} with public @Test void methods, static"
                " org.junit.Assert (assertEquals, assertTrue), @Test(expected = ...) for"
                " exceptions.")
    return TestPlan(framework, "java", path, repo.is_file(target), header, imports, package,
                    hint)


# ------------------------------------------------------------------------------- merging
def _java_class(parsed: Parsed, name: str | None) -> tree_sitter.Node | None:
    """The top-level class called *name*, else the first top-level class."""
    classes = parsed.children("class")
    for node in classes:
        ident = node.child_by_field_name("name")
        if name is not None and ident is not None and parsed.node_text(ident) == name:
            return node
    return classes[0] if classes else None


def _generated_body(gen: Parsed, test_class: str) -> str:
    """The members of the generated test class (and anything else besides package and
    imports), to go into an existing test class."""
    outer = [gen.span(n) for n in gen.root.named_children
             if gen.has_role(n, "package") or gen.has_role(n, "import")]
    gen_class = _java_class(gen, test_class)
    if gen_class is not None and (class_body := gen_class.child_by_field_name("body")):
        start, end = gen.span(class_body)
        members = clean_body(gen.text[start + 1 : end - 1])
        outside = clean_body(cut(gen.text, [*outer, gen.span(gen_class)]))
        return "\n\n".join(p for p in (members, outside) if p)
    return clean_body(cut(gen.text, outer))


def _new_java_file(plan: TestPlan, gen: Parsed, wanted: list[str]) -> Edit:
    """A new test file: package, imports, the generated class (one is made around bare
    methods)."""
    test_class = plan.path.stem
    body = clean_body(cut(gen.text, [gen.span(n) for n in gen.root.named_children
                                     if gen.has_role(n, "package") or gen.has_role(n, "import")]))
    if _java_class(gen, test_class) is None:
        public = "public " if plan.framework == "junit4" else ""
        body = f"{public}class {test_class} {{\n\n" + indent(body, "    ") + "\n}"
    clause = f"package {plan.module};\n\n" if plan.module else ""
    return Edit(0, 0, clause + "\n".join(wanted) + "\n\n" + body + "\n")


def _import_splice(parsed: Parsed, existing: str, missing: list[str]) -> Edit | None:
    """The insertion of the *missing* imports: after the last import, else after the package
    declaration, else at the top."""
    if not missing:
        return None
    imports = parsed.children("import")
    package = next(iter(parsed.children("package")), None)
    if imports:
        return insert_after_line(existing, parsed.off(imports[-1].end_byte), missing)
    if package is not None:
        return insert_after_line(existing, parsed.off(package.end_byte), ["", *missing])
    return Edit(0, 0, "".join(m + "\n" for m in missing) + "\n")


def merge_java(plan: TestPlan, existing: str | None, generated: str) -> list[Edit]:
    """The edits merging *generated* Java tests into *existing* (None: a new file)."""
    gen = Parsed("java", generated)
    gen_imports = [normalized(gen.node_text(n)) for n in gen.children("import")]
    wanted = list(dict.fromkeys([*(normalized(i) for i in plan.imports), *gen_imports]))
    if existing is None:
        return [_new_java_file(plan, gen, wanted)]

    body = _generated_body(gen, plan.path.stem)
    parsed = Parsed("java", existing)
    present = {normalized(parsed.node_text(n)) for n in parsed.children("import")}
    splices: list[Edit] = []
    edit = _import_splice(parsed, existing, [i for i in wanted if i not in present])
    if edit is not None:
        splices.append(edit)
    target = _java_class(parsed, plan.path.stem)
    class_body = target.child_by_field_name("body") if target is not None else None
    if class_body is None:
        splices.append(append(existing, body, "\n\n"))
        return splices
    close = parsed.off(class_body.end_byte) - 1
    items = class_body.named_children
    if items:
        first = parsed.off(items[0].start_byte)
        member_indent = existing[line_start(existing, first) : first]
        member_indent = member_indent if not member_indent.strip() else "    "
    else:
        member_indent = "    "
    chunk = indent(body, member_indent)
    pos = line_start(existing, close)
    if existing[pos:close].strip():
        splices.append(Edit(close, close, "\n" + chunk + "\n"))
    elif existing[:pos].rstrip().endswith("{"):
        splices.append(Edit(pos, pos, chunk + "\n"))
    else:
        splices.append(Edit(pos, pos, "\n" + chunk + "\n"))
    return splices
