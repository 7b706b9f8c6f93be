"""Rust: unit tests in the source file's test module, and merging generated tests into it.

The tests go into an existing inline ``mod tests { … }`` (before its closing brace), or a new
``#[cfg(test)] mod tests { use super::*; … }`` appended to the file; a ``mod tests;`` declared
out of line sends them to that module's file.  Generated code wrapped in its own ``mod tests``
is unwrapped; its ``use`` lines join the module's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tree_sitter

from .common import Edit, TestPlan, join, normalized, parent_dir
from .detect import Repository
from .parsed import Parsed
from .splice import append, clean_body, cut, indent, insert_after_line, line_after, line_start

__all__ = ["merge_rust", "plan_rust"]

_TEST_MODULE_NAMES = ("tests", "test")


@dataclass(frozen=True)
class _RustModule:
    open_end: int
    """Offset just after the ``{``."""
    close: int
    """Offset of the closing ``}``."""
    indent: str
    """Indentation of the module's items."""
    last_use_end: int | None
    uses: tuple[str, ...]


def _is_test_module(parsed: Parsed, node: tree_sitter.Node) -> bool:
    """Whether the module *node* is named ``tests`` or ``test`` (compared here, not in the
    query: see :mod:`.parsed` on text predicates)."""
    name = node.child_by_field_name("name")
    return name is not None and parsed.node_text(name) in _TEST_MODULE_NAMES


def _rust_tests_module(parsed: Parsed) -> tuple[_RustModule | None, bool]:
    """The inline test module of a Rust file, and whether an out-of-line ``mod tests;``
    exists (before it)."""
    out_of_line = False
    for node in parsed.root.named_children:
        if parsed.has_role(node, "module.declared") and _is_test_module(parsed, node):
            out_of_line = True
        body = node.child_by_field_name("body")
        if not (parsed.has_role(node, "module.inline") and _is_test_module(parsed, node)) or (
            body is None
        ):
            continue
        start, end = parsed.span(body)
        mod_line = line_start(parsed.text, parsed.off(node.start_byte))
        mod_indent = parsed.text[mod_line : parsed.off(node.start_byte)]
        items = body.named_children
        if items:
            first = parsed.off(items[0].start_byte)
            lead = parsed.text[line_start(parsed.text, first) : first]
            item_indent = lead if not lead.strip() and first > start else mod_indent + "    "
        else:
            item_indent = mod_indent + "    "
        uses = parsed.children("use", body)
        return _RustModule(
            open_end=start + 1,
            close=end - 1,
            indent=item_indent,
            last_use_end=parsed.off(uses[-1].end_byte) if uses else None,
            uses=tuple(normalized(parsed.node_text(u)) for u in uses),
        ), out_of_line
    return None, out_of_line


def _rust_insert_offset(text: str, module: _RustModule) -> int:
    line = line_start(text, module.close)
    return line if not text[line : module.close].strip() else module.close


def plan_rust(repo: Repository, source: Path, rel: str) -> TestPlan:
    """The plan for the tests of the Rust file *source* (*rel* in *repo*)."""
    text = repo.read(rel)
    module, out_of_line = _rust_tests_module(Parsed("rust", text))
    hint = (
        "Rust unit tests: #[test] fn <behaviour>() functions in the #[cfg(test)] mod tests"
        " module (use super::*), assert_eq!/assert! for checks and #[should_panic] for panics."
    )
    imports = ("use super::*;",)
    if module is not None:
        return TestPlan("rust", "rust", source, True, "", imports, "super", hint,
                        insert_offset=_rust_insert_offset(text, module))
    if out_of_line:
        folder = parent_dir(rel)
        if source.stem not in ("lib", "main", "mod"):
            folder = join(folder, source.stem)
        candidates = [join(folder, "tests.rs"), join(folder, "tests", "mod.rs"),
                      join(folder, "test.rs")]
        target = next((c for c in candidates if repo.is_file(c)), candidates[0])
        return TestPlan("rust", "rust", repo.root / target, repo.is_file(target),
                        "use super::*;\n", imports,
                        "super", hint.replace("in the #[cfg(test)] mod tests module",
                                              "in the tests module file"))
    header = "#[cfg(test)]\nmod tests {\n    use super::*;\n"
    return TestPlan("rust", "rust", source, True, header, imports, "super", hint)


# ------------------------------------------------------------------------------- merging
def _rust_split(generated: str) -> tuple[list[str], str]:
    """(use declarations, items) of generated Rust, unwrapping a ``mod tests { … }``."""
    gen = Parsed("rust", generated)
    uses: list[str] = []
    outside: list[tuple[int, int]] = []
    inner = ""
    for node in gen.root.named_children:
        if gen.has_role(node, "use"):
            uses.append(normalized(gen.node_text(node)))
            outside.append(gen.span(node))
            continue
        block = node.child_by_field_name("body")
        if inner or block is None or not gen.has_role(node, "module.inline") or (
            not _is_test_module(gen, node)
        ):
            continue
        outside.append(gen.span(node))
        previous = node.prev_named_sibling
        if previous is not None and gen.has_role(previous, "attribute") and \
                "cfg" in gen.node_text(previous):
            outside.append(gen.span(previous))
        start, end = gen.span(block)
        inner_uses = gen.children("use", block)
        uses.extend(normalized(gen.node_text(c)) for c in inner_uses)
        inner = cut(generated[start + 1 : end - 1],
                    ((s - start - 1, e - start - 1) for s, e in map(gen.span, inner_uses)))
    rest = clean_body(cut(generated, outside))
    body = "\n\n".join(p for p in (clean_body(inner), rest) if p)
    return uses, body


def _into_test_module(existing: str, module: _RustModule, wanted: list[str],
                      body: str) -> list[Edit]:
    """The missing ``use`` lines and the tests put into the inline test *module*."""
    missing = [u for u in wanted if u not in module.uses]
    splices: list[Edit] = []
    if missing and module.last_use_end is not None:
        edit = insert_after_line(existing, module.last_use_end,
                                 [module.indent + u for u in missing])
        if edit is not None:
            splices.append(edit)
        missing = []
    elif missing and "\n" in existing[module.open_end : module.close]:
        pos = line_after(existing, module.open_end)
        blank = "" if not existing[pos : line_after(existing, pos)].strip() else "\n"
        splices.append(Edit(pos, pos, "".join(module.indent + u + "\n" for u in missing)
                            + blank))
        missing = []
    chunk = "\n\n".join(p for p in ("\n".join(missing), body) if p)
    if not chunk:
        return splices
    chunk = indent(chunk, module.indent)
    pos = _rust_insert_offset(existing, module)
    if pos == module.close:  # `}` shares its line with other text
        mod_indent = module.indent[:-4] if module.indent.endswith("    ") else ""
        splices.append(Edit(pos, pos, "\n" + chunk + "\n" + mod_indent))
    elif existing[: pos].rstrip().endswith("{"):
        splices.append(Edit(pos, pos, chunk + "\n"))
    else:
        splices.append(Edit(pos, pos, "\n" + chunk + "\n"))
    return splices


def _into_module_file(parsed: Parsed, existing: str, wanted: list[str],
                      body: str) -> list[Edit]:
    """The missing ``use`` lines and the tests added to an out-of-line test module file."""
    parsed_uses = parsed.children("use")
    present = {normalized(parsed.node_text(n)) for n in parsed_uses}
    missing = [u for u in wanted if u not in present]
    splices: list[Edit] = []
    if parsed_uses:
        edit = insert_after_line(existing, parsed.off(parsed_uses[-1].end_byte), missing)
        if edit is not None:
            splices.append(edit)
    elif missing:
        splices.append(Edit(0, 0, "".join(m + "\n" for m in missing) + "\n"))
    splices.append(append(existing, body, "\n\n"))
    return splices


def merge_rust(plan: TestPlan, existing: str | None, generated: str) -> list[Edit]:
    """The edits merging *generated* Rust tests into *existing*: the source file (its test
    module, created when missing) or an out-of-line test module file (None: a new one)."""
    uses, body = _rust_split(generated)
    wanted = list(dict.fromkeys([*(normalized(i) for i in plan.imports), *uses]))
    if existing is None:  # a new out-of-line test module file
        head = "\n".join(wanted)
        return [Edit(0, 0, (head + "\n\n" if head else "") + body + "\n")]
    parsed = Parsed("rust", existing)
    module, _ = _rust_tests_module(parsed)
    if module is not None:
        return _into_test_module(existing, module, wanted, body)
    if not plan.header.startswith("#[cfg(test)]"):  # an out-of-line test module file
        return _into_module_file(parsed, existing, wanted, body)
    module_text = "#[cfg(test)]\nmod tests {\n" + indent(
        "\n\n".join(p for p in ("\n".join(wanted), body) if p), "    "
    ) + "\n}"
    return [append(existing, module_text, "\n\n")]
