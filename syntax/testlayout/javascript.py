"""JavaScript / TypeScript: where the tests of a module go, and merging generated tests.

Placement: where most existing tests sit (next to the source, in a ``__tests__`` folder, or
in a ``test/``/``tests/`` folder), named ``<name>.test.<ext>`` or ``<name>.spec.<ext>`` as most
existing tests are, with the source's extension.  The import specifier is relative, without
extension unless existing relative imports carry one (or the package is ``"type": "module"``
JavaScript / ``.mjs``); the import syntax (ESM / CommonJS), quotes and semicolons follow the
existing tests and the source.

Merging puts the missing import lines after the file's leading imports (or after its
prologue: comments, ``#!``, directives) and appends the tests one blank line down.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import tree_sitter

from .common import Edit, Framework, TestPlan, base_name, import_name, join, majority, parent_dir
from .detect import (
    JS_TEST_DIRS,
    Repository,
    js_deps,
    js_test_parts,
    js_tests,
    package_json,
    sample_js_tests,
)
from .javascript_imports import (
    CJS_REQUIRE,
    JsStyle,
    import_line,
    missing_imports,
    parse_import,
)
from .parsed import Parsed
from .placement import existing_test, find_test_dir, place_in_test_dir
from .splice import append, clean_body, cut, insert_after_line

__all__ = ["merge_js", "plan_js"]

_JS_REL_SPEC = re.compile(r"""(?:\bfrom\s*|\brequire\(\s*|\bimport\(\s*)['"](\.{1,2}/[^'"]*)['"]""")
_JS_EXT_OF_SPEC = re.compile(r"\.(?:[cm]?[jt]sx?)$")
_ESM_LINE = re.compile(r"^\s*(?:import\s[^(]|import\{|export\s)", re.M)
_CJS_USE = re.compile(r"\brequire\(\s*['\"]|\bmodule\.exports\b|^\s*exports\.\w+\s*=", re.M)
_TO_RUNTIME_EXT = {
    ".ts": ".js", ".tsx": ".js", ".mts": ".mjs", ".cts": ".cjs",
    ".js": ".js", ".jsx": ".jsx", ".mjs": ".mjs", ".cjs": ".cjs",
}
# A test call (`describe(…)`, `it.each(…)`) ends a file's import block; it is recognised by how
# its text starts, which a query could say only with a text predicate (see .parsed).
_TEST_CALL = re.compile(
    r"^\s*(?:describe|it|test|suite|context|before|after|beforeEach|afterEach|beforeAll"
    r"|afterAll)\s*[.(]"
)


# ------------------------------------------------------------------------------ planning
def _js_style(ext: str, source_text: str, samples: list[str]) -> JsStyle:
    esm_votes = sum(len(_ESM_LINE.findall(t)) for t in samples)
    cjs_votes = sum(len(re.findall(r"\brequire\(\s*['\"]", t)) for t in samples)
    if ext in (".mjs", ".mts", ".ts", ".tsx"):
        esm = True
    elif ext in (".cjs", ".cts"):
        esm = False
    elif esm_votes or cjs_votes:
        esm = esm_votes >= cjs_votes
    elif _ESM_LINE.search(source_text):
        esm = True
    elif _CJS_USE.search(source_text):
        esm = False
    else:  # no evidence either way: ESM, the standard
        esm = True
    import_lines = [
        line for t in [*samples, source_text] for line in t.splitlines()
        if re.match(r"\s*(import\s|export\s.*\sfrom\s|(const|let|var)\s.*require\()", line)
    ]
    quotes = Counter(q for line in import_lines for q in re.findall(r"['\"]", line)[:1])
    if not quotes:
        quotes = Counter({"'": source_text.count("'"), '"': source_text.count('"')})
    quote = '"' if quotes['"'] > quotes["'"] else "'"
    with_semi = sum(1 for line in import_lines if line.rstrip().endswith(";"))
    semicolons = with_semi * 2 >= len(import_lines) if import_lines else True
    return JsStyle(esm, quote, semicolons)


def _js_specifier(
    test_dir: str, source_rel: str, ext: str, pkg: dict[str, object], texts: list[str]
) -> str:
    specs = [s for t in texts for s in _JS_REL_SPEC.findall(t)]
    with_ext = [s for s in specs if _JS_EXT_OF_SPEC.search(s)]
    if specs:
        use_ext = len(with_ext) * 2 > len(specs)
    else:
        use_ext = ext in (".mjs", ".mts") or (pkg.get("type") == "module" and ext == ".js")
    keep_ts = any(s.endswith((".ts", ".tsx", ".mts", ".cts")) for s in with_ext)
    rel = os.path.relpath(source_rel, test_dir or ".").replace(os.sep, "/")
    stem = rel[: -len(ext)]
    if use_ext:
        spec = stem + (ext if keep_ts else _TO_RUNTIME_EXT[ext])
    else:
        spec = stem
        if base_name(stem) == "index" and "/" in stem and parent_dir(stem) not in (".", ".."):
            spec = parent_dir(stem)
    return spec if spec.startswith("../") else "./" + spec


def _js_default_export(source_text: str, name: str, esm: bool) -> bool:
    n = re.escape(name)
    if esm:
        return re.search(
            rf"export\s+default\s+(?:(?:async\s+)?function\*?\s+|(?:abstract\s+)?class\s+)?{n}\b",
            source_text,
        ) is not None
    return re.search(
        rf"module\.exports\s*=\s*(?:(?:async\s+)?function\*?\s+|class\s+)?{n}\b", source_text
    ) is not None


@dataclass(frozen=True)
class _Placement:
    target: str
    """The test file (repository-relative)."""
    tests: tuple[str, ...]
    """The existing JS/TS tests of the repository."""
    pkg: dict[str, object]
    """The nearest ``package.json``."""


def _placement(repo: Repository, rel: str, stem: str, ext: str,
               framework: Framework) -> _Placement:
    """Where the test of the JS/TS file *rel* goes."""
    source_dir = parent_dir(rel)
    tests = js_tests(repo)
    parts = {t: js_test_parts(t) for t in tests}
    kinds = Counter(p[1] for p in parts.values() if p is not None)
    places = Counter(p[2] for p in parts.values() if p is not None)
    placement = majority(
        Counter({k: places[k] for k in ("colocated", "__tests__", "dir") if places[k]}),
        "dir" if framework == "mocha" else "colocated",
    )
    pkg_rel = repo.nearest(source_dir, "package.json")
    pkg = package_json(repo, pkg_rel) if pkg_rel else {}
    pkg_dir = parent_dir(pkg_rel) if pkg_rel else ""

    if placement == "colocated":
        test_dir = source_dir
    else:
        names = ("__tests__",) if placement == "__tests__" else JS_TEST_DIRS
        in_place = [t for t in tests if (p := parts[t]) is not None and p[2] == placement]
        found = find_test_dir(repo, in_place, source_dir, names) or find_test_dir(
            repo, (), source_dir, names, True
        )
        if found is None:
            found = join(source_dir if placement == "__tests__" else pkg_dir, names[0])
        base = parent_dir(found)
        rel_parts = [p for p in source_dir[len(base) :].split("/") if p]
        test_dir = place_in_test_dir(repo, in_place, found, rel_parts, frozenset({"src", "lib"}))
    kind = majority(kinds, "test")
    if kind == "" and test_dir == source_dir:
        kind = "test"
    name = f"{stem}.{kind}{ext}" if kind else f"{stem}{ext}"
    preferred = join(test_dir, name)
    same = [
        t for t in tests
        if (p := parts[t]) is not None and p[0] == stem and p[1] in ("test", "spec", "")
    ]
    same.sort(key=lambda t: (base_name(t).rsplit(".", 1)[-1] != ext[1:], t))
    existing = existing_test(same, source_dir.split("/"), preferred)
    return _Placement(existing or preferred, tuple(tests), pkg)


def plan_js(
    repo: Repository, source: Path, rel: str, lang: str, symbol: str, framework: Framework
) -> TestPlan:
    """The plan for the tests of *symbol* in the JS/TS file *source* (*rel* in *repo*)."""
    ext = source.suffix
    stem = source.name[: -len(ext)]
    source_dir = parent_dir(rel)
    placed = _placement(repo, rel, stem, ext, framework)
    target = placed.target

    samples = sample_js_tests(repo)
    source_text = repo.read(rel)
    near = [repo.read(t) for t in placed.tests
            if parent_dir(t) in (parent_dir(target), source_dir)][:20]
    style = _js_style(ext, source_text, near + samples)
    if framework == "vitest":
        style = JsStyle(True, style.quote, style.semicolons)
    spec = _js_specifier(parent_dir(target), rel, ext, placed.pkg, near + samples + [source_text])

    imports = _js_framework_imports(framework, style, placed.pkg, samples)
    imported = import_name(symbol)
    imports.append(_js_code_import(imported, stem, spec, style, source_text))
    header = "".join(line + "\n" for line in imports)
    return TestPlan(
        framework=framework,
        language=lang,
        path=repo.root / target,
        exists=repo.is_file(target),
        header=header,
        imports=tuple(imports),
        module=spec,
        style_hint=_js_hint(framework, style, imported, imports),
    )


def _js_framework_imports(
    framework: Framework, style: JsStyle, pkg: dict[str, object], samples: list[str]
) -> list[str]:
    if framework == "jest":
        if any("@jest/globals" in t for t in samples):
            return [import_line(style, "{ describe, expect, it }", "@jest/globals")]
        return []
    if framework == "vitest":
        vitest_tests = [t for t in samples if re.search(r"\b(describe|it|test)\(", t)]
        if vitest_tests and not any(re.search(r"""['"]vitest['"]""", t) for t in vitest_tests):
            return []  # globals: true
        return [import_line(style, "{ describe, expect, it }", "vitest")]
    if framework == "node:test":
        return [
            import_line(style, "{ describe, it }", "node:test"),
            import_line(style, "assert", "node:assert/strict"),
        ]
    # mocha: the assertion library the tests already use.
    pattern = re.compile(
        r"""^\s*(?:import\s.+\sfrom\s|(?:const|let|var)\s.+=\s*require\()\s*"""
        r"""['"](?:chai|assert|node:assert|assert/strict|node:assert/strict)['"]\)?;?\s*$""",
        re.M,
    )
    lines = Counter(m.group(0).strip() for t in samples for m in pattern.finditer(t))
    if lines:
        return [majority(lines, "")]
    if "chai" in js_deps(pkg):
        return [import_line(style, "{ expect }", "chai")]
    return [import_line(style, "assert", "node:assert/strict")]


def _js_code_import(
    imported: str, stem: str, spec: str, style: JsStyle, source_text: str
) -> str:
    if not imported:
        alias = re.sub(r"\W", "_", stem)
        alias = alias if alias and not alias[0].isdigit() else "_" + alias
        return import_line(style, f"* as {alias}", spec)
    source_esm = _ESM_LINE.search(source_text) is not None
    if _js_default_export(source_text, imported, source_esm):
        if style.esm or not source_esm:
            return import_line(style, imported, spec)
        q, semi = style.quote, ";" if style.semicolons else ""
        return f"const {imported} = require({q}{spec}{q}).default{semi}"
    return import_line(style, f"{{ {imported} }}", spec)


def _js_hint(framework: Framework, style: JsStyle, symbol: str, imports: list[str]) -> str:
    block = f"describe('{symbol}', …)" if symbol else "describe(…)"
    syntax = "ESM import" if style.esm else "CommonJS require"
    if framework in ("jest", "vitest"):
        where = "imported from vitest" if framework == "vitest" and any(
            "vitest" in i for i in imports
        ) else "as globals"
        api = f"describe/it/expect {where}"
        assertion = "expect(...).toBe/toEqual/toThrow"
        if framework == "vitest":
            assertion += ", vi.fn() for mocks"
        else:
            assertion += ", jest.fn() for mocks"
        return (
            f"{framework}: a {block} block of it(...) cases, {api}, {assertion}; {syntax} syntax."
        )
    if framework == "node:test":
        return (
            f"node:test: a {block} block of it(...) cases from node:test with"
            f" node:assert/strict (assert.strictEqual, assert.deepStrictEqual, assert.throws);"
            f" {syntax} syntax."
        )
    chai = any("chai" in i for i in imports)
    assertion = "chai expect(...).to.equal / to.deep.equal / to.throw" if chai else (
        "assert.strictEqual / assert.deepStrictEqual / assert.throws"
    )
    return f"mocha: a {block} block of it(...) cases (globals) using {assertion}; {syntax} syntax."


# ------------------------------------------------------------------------------- merging
def _is_import(parsed: Parsed, node: tree_sitter.Node) -> bool:
    """An ESM import, or a declaration that is a whole ``require`` line (a test of its text,
    by the pattern that also takes the line apart)."""
    if parsed.has_role(node, "import"):
        return True
    return parsed.has_role(node, "declaration") and (
        CJS_REQUIRE.match(parsed.node_text(node)) is not None
    )


def _new_js_file(wanted: list[str], body: str) -> Edit:
    """A new test file: package imports, then relative ones, then the body."""
    lines = missing_imports(wanted, ())
    local = [line for line in lines if (imp := parse_import(line)) and imp.src.startswith(".")]
    groups = [[line for line in lines if line not in local], local]
    head = "\n\n".join("\n".join(g) for g in groups if g)
    return Edit(0, 0, (head + "\n\n" + body + "\n") if head else body + "\n")


def merge_js(plan: TestPlan, existing: str | None, generated: str) -> list[Edit]:
    """The edits merging *generated* JS/TS tests into *existing* (None: a new file)."""
    gen = Parsed(plan.language, generated)
    nodes = [n for n in gen.root.named_children if _is_import(gen, n)]
    gen_imports = [gen.node_text(n) for n in nodes]
    body = clean_body(cut(generated, (gen.span(n) for n in nodes)))
    wanted = [*plan.imports, *gen_imports]
    if existing is None:
        return [_new_js_file(wanted, body)]

    parsed = Parsed(plan.language, existing)
    children = parsed.root.named_children
    all_imports = [c for c in children if _is_import(parsed, c)]
    missing = missing_imports(wanted, (parsed.node_text(n) for n in all_imports))
    leading: list[tree_sitter.Node] = []
    prologue: tree_sitter.Node | None = None  # the last leading comment / directive
    for child in children:
        if parsed.has_role(child, "definition") or _TEST_CALL.match(parsed.node_text(child)):
            break
        if _is_import(parsed, child):
            leading.append(child)
        elif not leading and parsed.has_role(child, "prologue"):
            prologue = child
    splices: list[Edit] = []
    if leading:
        edit = insert_after_line(existing, parsed.off(leading[-1].end_byte), missing)
        if edit is not None:
            splices.append(edit)
    elif missing and prologue is not None:
        edit = insert_after_line(existing, parsed.off(prologue.end_byte), ["", *missing])
        if edit is not None:
            splices.append(edit)
    elif missing:
        splices.append(Edit(0, 0, "".join(m + "\n" for m in missing) + "\n"))
    splices.append(append(existing, body, "\n\n"))
    return splices
