"""Go: ``<file>_test.go`` next to the source, and merging generated tests into it.

The test file is in the source's package, or in the ``_test`` package when the folder's
existing tests all use it (then importing the package by its module path).  Merging adds the
missing import specs to the file's import block and appends the tests one blank line down.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import tree_sitter

from .common import Edit, TestPlan, join, normalized, parent_dir
from .detect import Repository
from .parsed import Parsed
from .splice import append, clean_body, cut, insert_after_line, line_start

__all__ = ["merge_go", "plan_go"]


# ------------------------------------------------------------------------------ planning
def _go_package(text: str) -> str | None:
    """The package a Go file declares (its first package clause)."""
    parsed = Parsed("go", text)
    for clause in parsed.children("package"):
        for name in parsed.children("package.name", clause):
            return parsed.node_text(name)
    return None


def plan_go(repo: Repository, source: Path, rel: str) -> TestPlan:
    """The plan for the tests of the Go file *source* (*rel* in *repo*)."""
    source_dir = parent_dir(rel)
    package = _go_package(repo.read(rel)) or source.parent.name
    stem = source.name[: -len(".go")]
    test_rel = join(source_dir, f"{stem}_test.go")
    siblings = repo.glob(source_dir, "*_test.go")
    if repo.is_file(test_rel):
        test_package = _go_package(repo.read(test_rel)) or package
    elif siblings and all(_go_package(repo.read(s)) == f"{package}_test" for s in siblings):
        test_package = f"{package}_test"
    else:
        test_package = package
    imports = ['import "testing"']
    if test_package != package:
        import_path = _go_import_path(repo, source_dir)
        if import_path is None:
            test_package = package
        else:
            imports.append(f'import "{import_path}"')
    header = f"package {test_package}\n\n" + _go_import_block(
        [line[len("import ") :] for line in imports]
    )
    texts = [repo.read(s) for s in siblings[:20]]
    gomod = repo.nearest(source_dir, "go.mod")
    testify = any("stretchr/testify" in t for t in texts) or (
        gomod is not None and "stretchr/testify" in repo.read(gomod)
    )
    where = f"package {test_package}" + (
        f" (refer to the code under test as {package}.Name)" if test_package != package else ""
    )
    hint = (
        f"Go tests: func TestXxx(t *testing.T) in {where}, table-driven cases run with t.Run"
        " subtests, " + (
            "assertions with testify's assert/require as existing tests do."
            if testify else "t.Errorf/t.Fatalf for failures (no assertion library)."
        )
    )
    return TestPlan(
        framework="go",
        language="go",
        path=repo.root / test_rel,
        exists=repo.is_file(test_rel),
        header=header,
        imports=tuple(imports),
        module=package,
        style_hint=hint,
    )


def _go_import_path(repo: Repository, source_dir: str) -> str | None:
    gomod = repo.nearest(source_dir, "go.mod")
    if gomod is None:
        return None
    match = re.search(r"^module\s+(\S+)", repo.read(gomod), re.M)
    if match is None:
        return None
    sub = source_dir[len(parent_dir(gomod)) :].strip("/")
    return join(match[1], sub)


def _go_import_block(specs: Sequence[str]) -> str:
    """``import "x"`` or a parenthesized block (standard library first), ``\\n``-terminated."""
    if not specs:
        return ""
    if len(specs) == 1:
        return f"import {specs[0]}\n"

    def path(spec: str) -> str:
        return spec.rsplit(" ", 1)[-1].strip('"`')

    std = sorted((s for s in specs if "." not in path(s).split("/")[0]), key=path)
    other = sorted((s for s in specs if "." in path(s).split("/")[0]), key=path)
    groups = ["".join(f"\t{s}\n" for s in g) for g in (std, other) if g]
    return "import (\n" + "\n".join(groups) + ")\n"


# ------------------------------------------------------------------------------- merging
def _specs_below(parsed: Parsed, node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    """The import specs of an import declaration (or spec list), in order."""
    for child in node.named_children:
        if parsed.has_role(child, "import.list"):
            yield from _specs_below(parsed, child)
        elif parsed.has_role(child, "import.spec"):
            yield child


def _go_specs(parsed: Parsed) -> list[tuple[str, str]]:
    """(spec text, path) of every import spec."""
    out: list[tuple[str, str]] = []
    for declaration in parsed.children("import"):
        for spec in _specs_below(parsed, declaration):
            path = spec.child_by_field_name("path")
            out.append((normalized(parsed.node_text(spec)),
                        parsed.node_text(path) if path is not None else ""))
    return out


def _import_splices(parsed: Parsed, existing: str, missing: Sequence[str]) -> list[Edit]:
    """Insertions of the *missing* import specs: into the last parenthesized block, after the
    last import declaration, or after the package clause."""
    declarations = parsed.children("import")
    lists = [spec_list for d in declarations for spec_list in parsed.children("import.list", d)]
    if lists:
        close = parsed.off(lists[-1].end_byte) - 1
        pos = line_start(existing, close)
        if existing[pos:close].strip():
            return [Edit(close, close, "".join(f"\n\t{s}" for s in missing) + "\n")]
        return [Edit(pos, pos, "".join(f"\t{s}\n" for s in missing))]
    if declarations:
        edit = insert_after_line(existing, parsed.off(declarations[-1].end_byte),
                                 [f"import {s}" for s in missing])
        return [edit] if edit is not None else []
    package = next(iter(parsed.children("package")), None)
    block = _go_import_block(missing)
    if package is None:
        return [Edit(0, 0, block + "\n")]
    edit = insert_after_line(existing, parsed.off(package.end_byte), ["", block.rstrip("\n")])
    return [edit] if edit is not None else []


def merge_go(plan: TestPlan, existing: str | None, generated: str) -> list[Edit]:
    """The edits merging *generated* Go tests into *existing* (None: a new file)."""
    gen = Parsed("go", generated)
    body = clean_body(cut(generated, [
        gen.span(n) for n in gen.root.named_children
        if gen.has_role(n, "package") or gen.has_role(n, "import")
    ]))
    plan_specs = [s for line in plan.imports for s, _ in _go_specs(Parsed("go", line))]
    wanted = [*plan_specs, *(s for s, _ in _go_specs(gen))]
    if existing is None:
        clause = plan.header.split("\n", 1)[0]
        specs = _go_missing(wanted, ())
        head = clause + "\n\n" + _go_import_block(specs)
        return [Edit(0, 0, head + "\n" + body + "\n")]

    parsed = Parsed("go", existing)
    missing = _go_missing(wanted, (p for _, p in _go_specs(parsed)))
    splices = _import_splices(parsed, existing, missing) if missing else []
    splices.append(append(existing, body, "\n\n"))
    return splices


def _go_missing(specs: Iterable[str], present_paths: Iterable[str]) -> list[str]:
    seen = set(present_paths)
    out: list[str] = []
    for spec in specs:
        path = spec.rsplit(" ", 1)[-1]
        if path not in seen:
            seen.add(path)
            out.append(spec)
    return out
