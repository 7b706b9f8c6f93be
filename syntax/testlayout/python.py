"""Python: where the tests of a module go, and merging generated tests into a test file.

Placement: an existing ``test_<module>.py`` (or ``<module>_test.py``) whose folders agree with
the module's path wins; otherwise next to the source when tests sit there, else in the nearest
``tests/`` or ``test/`` folder (see :mod:`.placement`), else next to the source when the
repository keeps tests beside code, else ``<root>/tests/``.  The module's dotted name follows
the ``__init__.py`` chain, setuptools' ``package-dir``, a ``src/`` folder, namespace packages
and top-level files.

Merging hoists the generated imports into the file's import block (``from __future__``
first), de-duplicated by the names they bind, and appends the tests two blank lines down, or
before a trailing ``if __name__ == "__main__":`` block.
"""

from __future__ import annotations

import ast
import re
import textwrap
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import tree_sitter

from .common import (
    Edit,
    Framework,
    TestPlan,
    base_name,
    import_name,
    join,
    normalized,
    parent_dir,
)
from .detect import PyEvidence, Repository, as_dict, is_py_test, python_evidence
from .parsed import Parsed
from .placement import existing_test, find_test_dir, place_in_test_dir
from .splice import append, clean_body, cut, insert_after_line, line_start

__all__ = ["merge_python", "plan_python"]


# ------------------------------------------------------------------------------ planning
@dataclass(frozen=True)
class _PyModule:
    dotted: str
    packages: tuple[str, ...]
    """Package names from the import root down to the module's package."""
    import_root: str
    """The repository folder that must be on ``sys.path`` (``""``: the root)."""


def _package_dirs(repo: Repository, source_dir: str) -> dict[str, str]:
    """setuptools ``package-dir`` of the nearest ``pyproject.toml`` (package → folder)."""
    rel = repo.nearest(source_dir, "pyproject.toml")
    if rel is None:
        return {}
    try:
        data = tomllib.loads(repo.read(rel))
    except tomllib.TOMLDecodeError:
        return {}
    package_dir = as_dict(as_dict(as_dict(data.get("tool")).get("setuptools")).get("package-dir"))
    base = parent_dir(rel)
    return {
        str(pkg): join(base, *str(folder).strip("/").split("/"))
        for pkg, folder in package_dir.items() if isinstance(folder, str)
        and folder.strip("/") not in (".", "")
    }


def _python_module(repo: Repository, source: Path, rel: str) -> _PyModule:
    """The dotted name of *source* (``__init__.py`` chain, setuptools ``package-dir``, a
    ``src/`` folder, namespace packages, top-level files)."""
    source_dir = parent_dir(rel)
    name = [] if source.stem == "__init__" else [source.stem]
    package_dirs = _package_dirs(repo, source_dir)
    for pkg, folder in sorted(package_dirs.items(), key=lambda item: -len(item[1])):
        if pkg and (source_dir == folder or source_dir.startswith(folder + "/")):
            rest = [p for p in source_dir[len(folder) :].split("/") if p]
            packages = (*pkg.split("."), *rest)
            return _PyModule(".".join([*packages, *name]), packages, parent_dir(folder))
    folders = [p for p in source_dir.split("/") if p]
    chain: list[str] = []
    while len(chain) < len(folders):  # the packages holding the module, innermost first
        package = folders[: len(folders) - len(chain)]
        if not repo.is_file(join(*package, "__init__.py")):
            break
        chain.insert(0, package[-1])
    if not chain:
        start = 0
        top = package_dirs.get("")
        if top is not None and (source_dir == top or source_dir.startswith(top + "/")):
            start = len(top.split("/"))
        elif "src" in folders:
            start = folders.index("src") + 1
        while start < len(folders) and not all(p.isidentifier() for p in folders[start:]):
            start += 1
        chain = folders[start:]
    import_root = "/".join(folders[: len(folders) - len(chain)])
    dotted = ".".join([*chain, *name]) or source.parent.name
    return _PyModule(dotted, tuple(chain), import_root)


def _test_folder(repo: Repository, tests: Sequence[str], source_dir: str,
                 located: _PyModule) -> str:
    """The folder a new test of a module in *source_dir* goes to."""
    if any(parent_dir(t) == source_dir for t in tests):
        return source_dir
    in_dirs = [t for t in tests if {"tests", "test"} & set(parent_dir(t).split("/"))]
    colocated = [t for t in tests if t not in in_dirs]
    holding = find_test_dir(repo, in_dirs, source_dir, ("tests", "test"))
    if holding is not None:
        return _py_test_dir(repo, tests, holding, source_dir, located)
    if colocated:
        return source_dir
    empty = find_test_dir(repo, (), source_dir, ("tests", "test"), True)
    if empty is not None:
        return _py_test_dir(repo, tests, empty, source_dir, located)
    return "tests"


def plan_python(
    repo: Repository, source: Path, rel: str, symbol: str, framework: Framework
) -> TestPlan:
    """The plan for the tests of *symbol* in the Python file *source* (*rel* in *repo*)."""
    located = _python_module(repo, source, rel)
    module, packages = located.dotted, located.packages
    evidence = python_evidence(repo)
    stem = source.stem if source.stem != "__init__" else (packages[-1] if packages else "init")
    names = (f"test_{stem}.py", f"{stem}_test.py")
    name = names[1] if evidence.suffix_naming else names[0]
    tests = [f for f in repo.files if is_py_test(f)]
    source_dir = parent_dir(rel)
    preferred = join(_test_folder(repo, tests, source_dir, located), name)
    existing = existing_test(
        (t for t in tests if base_name(t) in names),
        [*source_dir.split("/"), *packages],
        preferred,
    )
    target = existing or preferred

    imports: list[str] = ["import pytest" if framework == "pytest" else "import unittest"]
    imported = import_name(symbol)
    if imported:
        imports.append(f"from {module} import {imported}")
    elif "." in module:
        parent, _, last = module.rpartition(".")
        imports.append(f"from {parent} import {last}")
    else:
        imports.append(f"import {module}")
    header = imports[0] + "\n\n" + imports[1] + "\n"
    return TestPlan(
        framework=framework,
        language="python",
        path=repo.root / target,
        exists=repo.is_file(target),
        header=header,
        imports=tuple(imports),
        module=module,
        style_hint=_python_hint(framework, evidence, imported),
    )


def _py_test_dir(
    repo: Repository, tests: Sequence[str], test_dir: str, source_dir: str, located: _PyModule
) -> str:
    """The folder under *test_dir* for a test of a module in *source_dir*: the package path
    mirrored when the tests folder is at or above the import root (without the top-level
    package unless the tests folder has it), else the folders between them."""
    base = parent_dir(test_dir)
    import_root, packages = located.import_root, located.packages
    if not base or import_root == base or import_root.startswith(base + "/"):
        return place_in_test_dir(repo, tests, test_dir, packages, frozenset(packages[:1]))
    rel_parts = [p for p in source_dir[len(base) :].split("/") if p]
    return place_in_test_dir(repo, tests, test_dir, rel_parts, frozenset())


def _python_hint(framework: Framework, evidence: PyEvidence, symbol: str) -> str:
    target = symbol or "<Name>"
    if framework == "unittest":
        return (
            f"unittest: a unittest.TestCase subclass named Test{target}"
            " with test_* methods, self.assertEqual and friends, self.assertRaises for expected"
            " errors; existing tests use TestCase classes."
        )
    hint = (
        "pytest: plain functions named test_<behaviour> with bare assert statements and"
        " pytest.raises for expected errors"
    )
    if evidence.testcase_classes:
        hint += "; existing tests subclass unittest.TestCase (run by pytest), follow that style."
    elif evidence.classes:
        hint += "; existing tests group them in classes named Test<Name> (no base class)."
    else:
        hint += "; existing tests are module-level functions, not classes."
    extras = [
        name for name, used in (
            ("@pytest.fixture", evidence.fixtures),
            ("@pytest.mark.parametrize", evidence.parametrize),
        ) if used
    ]
    if extras:
        hint += " They use " + " and ".join(extras) + "."
    return hint


# ------------------------------------------------------------------------------- merging
@dataclass(frozen=True)
class _PyImport:
    text: str
    module: str | None
    """``from`` imports: the module (with leading dots); plain ``import``: None."""
    names: tuple[tuple[str, str | None], ...]

    def key(self, name: str, alias: str | None) -> str:
        if alias:
            return alias
        if name == "*":
            return f"{self.module}.*"
        return name

    def render(self, names: Sequence[tuple[str, str | None]]) -> str:
        listed = ", ".join(f"{n} as {a}" if a else n for n, a in names)
        return f"from {self.module} import {listed}" if self.module is not None else (
            f"import {listed}"
        )


def _py_import(text: str) -> _PyImport | None:
    try:
        tree = ast.parse(textwrap.dedent(text).strip())
    except SyntaxError:
        return None
    if len(tree.body) != 1:
        return None
    node = tree.body[0]
    if isinstance(node, ast.ImportFrom):
        module = "." * node.level + (node.module or "")
        return _PyImport(text, module, tuple((a.name, a.asname) for a in node.names))
    if isinstance(node, ast.Import):
        return _PyImport(text, None, tuple((a.name, a.asname) for a in node.names))
    return None


def _py_module_imports(parsed: Parsed) -> list[tree_sitter.Node]:
    """Import statements outside functions and classes."""
    return [n for n in parsed.everywhere("import") if not parsed.inside(n, "definition")]


def _py_split(generated: str) -> tuple[list[str], str]:
    parsed = Parsed("python", generated)
    nodes = [n for n in parsed.children("import") if not n.has_error]
    return [parsed.node_text(n) for n in nodes], clean_body(
        cut(generated, (parsed.span(n) for n in nodes))
    )


def _py_missing(candidates: Iterable[str], existing: Iterable[str]) -> list[str]:
    """The *candidates* (or the parts of them) that bind names *existing* imports do not."""
    bound: set[str] = set()
    texts: set[str] = set()
    for text in existing:
        texts.add(normalized(text))
        imp = _py_import(text)
        if imp is not None:
            bound.update(imp.key(n, a) for n, a in imp.names)
    out: list[str] = []
    for text in candidates:
        imp = _py_import(text)
        if imp is None:
            if normalized(text) not in texts:
                texts.add(normalized(text))
                out.append(text)
            continue
        keep = [(n, a) for n, a in imp.names if imp.key(n, a) not in bound]
        if not keep:
            continue
        bound.update(imp.key(n, a) for n, a in keep)
        out.append(imp.text if len(keep) == len(imp.names) else imp.render(keep))
    return out


def _py_plan_imports(plan: TestPlan, body: str) -> list[str]:
    return [
        line for line in plan.imports
        if not (line == "import pytest" and re.search(r"\bpytest\b", body) is None)
    ]


def _is_future(line: str) -> bool:
    return line.lstrip().startswith("from __future__ ")


def _new_python_file(plan: TestPlan, wanted: Sequence[str], body: str) -> Edit:
    """A new test file: ``__future__`` imports, other imports, imports of the project, body."""
    lines = _py_missing(wanted, ())
    top_package = plan.module.split(".")[0]
    local = [
        line for line in lines
        if (imp := _py_import(line)) is not None and imp.module is not None
        and (imp.module.startswith(".") or imp.module.split(".")[0] == top_package)
        and not _is_future(line)
    ]
    groups = [
        [line for line in lines if _is_future(line)],
        [line for line in lines if not _is_future(line) and line not in local],
        local,
    ]
    head = "\n\n".join("\n".join(g) for g in groups if g)
    return Edit(0, 0, (head + "\n\n\n" + body + "\n") if head else body + "\n")


def _import_splices(parsed: Parsed, existing: str, missing: Sequence[str]) -> list[Edit]:
    """Insertions of the *missing* imports into the existing file's import block."""
    futures = [line for line in missing if _is_future(line)]
    others = [line for line in missing if not _is_future(line)]
    children = [c for c in parsed.root.named_children if not parsed.has_role(c, "comment")]
    first = 1 if children and parsed.has_role(children[0], "docstring") else 0
    top = parsed.off(children[first].start_byte) if first < len(children) else None
    stop = next((i for i, c in enumerate(children) if parsed.has_role(c, "definition")),
                len(children))
    leading = [c for c in children[:stop] if parsed.has_role(c, "import")]

    splices: list[Edit] = []
    if top is None:  # empty module apart from a docstring and comments
        after = parsed.off(children[0].end_byte) if children else 0
        edit = insert_after_line(existing, after, [*futures, *others])
        if edit is not None:
            splices.append(Edit(edit.start, edit.end, "\n" + edit.text if children else
                                edit.text))
        return splices
    top = line_start(existing, top)
    if futures:
        splices.append(Edit(top, top, "".join(f + "\n" for f in futures)))
    if leading:
        edit = insert_after_line(existing, parsed.off(leading[-1].end_byte), others)
        if edit is not None:
            splices.append(edit)
    elif others:
        gap = "\n\n" if parsed.has_role(children[first], "definition") else "\n"
        splices.append(Edit(top, top, "".join(o + "\n" for o in others) + gap))
    return splices


def merge_python(plan: TestPlan, existing: str | None, generated: str) -> list[Edit]:
    """The edits merging *generated* Python tests into *existing* (None: a new file)."""
    gen_imports, body = _py_split(generated)
    wanted = [*_py_plan_imports(plan, body), *gen_imports]
    if existing is None:
        return [_new_python_file(plan, wanted, body)]

    parsed = Parsed("python", existing)
    present = (parsed.node_text(n) for n in _py_module_imports(parsed))
    splices = _import_splices(parsed, existing, _py_missing(wanted, present))
    main = _py_main_block(parsed)
    if main is not None:
        parsed_body = Parsed("python", body)
        generated_main = _py_main_block(parsed_body)
        if generated_main is not None:  # the file has one already
            body = clean_body(body[: parsed_body.off(generated_main.start_byte)])
        pos = line_start(existing, parsed.off(main.start_byte))
        if body:
            splices.append(Edit(pos, pos, body + "\n\n\n"))
        return splices
    splices.append(append(existing, body, "\n\n\n"))
    return splices


def _py_main_block(parsed: Parsed) -> tree_sitter.Node | None:
    """A last top-level ``if __name__ == "__main__":`` statement."""
    children = [c for c in parsed.root.named_children if not parsed.has_role(c, "comment")]
    last = children[-1] if children else None
    if last is None or not parsed.has_role(last, "conditional"):
        return None
    condition = last.child_by_field_name("condition")
    if condition is None or not re.fullmatch(
        r"__name__\s*==\s*['\"]__main__['\"]", parsed.node_text(condition)
    ):
        return None
    return last
