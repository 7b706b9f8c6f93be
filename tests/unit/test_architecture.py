"""The shape of the code, checked by reading it: layers, cycles and the size of rooms.

Imports run one way: ``kodama.syntax`` ← ``kodama.model`` ← ``kodama.server``; inside the server,
the command-line commands (``kodama.server.commands``) and the LSP features never import each
other. No module imports itself back through others (lazy imports inside functions count: a
cycle hidden in a function is still a cycle). No product file over 500 lines, no function over
80. ``docs/architecture.md`` explains the map these rules keep.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = {"syntax": 0, "model": 1, "server": 2}
MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 80
# The commands may use these server modules (shared by both sides); nothing else of the server.
SHARED_SERVER_MODULES = {"kodama.server", "kodama.server.config", "kodama.server.setup",
                         "kodama.server.version", "kodama.server.protocol"}
ENTRY_POINTS = {"kodama.server.__main__"}  # ``python -m kodama.server`` runs the command line


def product_files() -> Iterator[tuple[str, Path]]:
    """(module name, file) of every product module; the server's sample files are data."""
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            if "samples" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join(["kodama", *parts]), path


@cache
def modules() -> dict[str, Path]:
    return dict(product_files())


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports_of(path: Path, name: str) -> Iterator[tuple[int, str]]:
    """(line, imported kodama module) of every import in the file, lazy ones included."""
    tree = ast.parse(path.read_text())
    skip = {id(n) for node in ast.walk(tree) if _type_checking_only(node)
            for n in ast.walk(node)}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base]) if base else ".".join(up)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield node.lineno, full if full in modules() else base


def kodama_edges() -> Iterator[tuple[str, int, str]]:
    for name, path in modules().items():
        for line, target in imports_of(path, name):
            if target.startswith("kodama.") and target in modules():
                yield name, line, target


def layer(module: str) -> str:
    return module.split(".")[1]


def test_imports_run_syntax_model_server() -> None:
    upward = [f"{src}:{line} imports {dst}" for src, line, dst in kodama_edges()
              if LAYERS[layer(dst)] > LAYERS[layer(src)]]
    assert upward == []


def test_commands_and_lsp_features_do_not_import_each_other() -> None:
    def is_command(module: str) -> bool:
        return module.startswith("kodama.server.commands")

    crossing = []
    for src, line, dst in kodama_edges():
        if layer(src) != "server" or layer(dst) != "server" or src in SHARED_SERVER_MODULES | \
                ENTRY_POINTS:
            continue
        if is_command(src) and not is_command(dst) and dst not in SHARED_SERVER_MODULES:
            crossing.append(f"{src}:{line} imports the LSP module {dst}")
        if not is_command(src) and is_command(dst):
            crossing.append(f"{src}:{line} imports the command {dst}")
    assert crossing == []


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {name: set() for name in modules()}
    for src, _, dst in kodama_edges():
        if dst != src:
            graph[src].add(dst)
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert [" -> ".join(c) for c in cycles] == []


def test_rooms_stay_small() -> None:
    too_big = []
    for name, path in modules().items():
        text = path.read_text()
        lines = text.count("\n") + 1
        if lines > MAX_FILE_LINES:
            too_big.append(f"{name}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno:
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_big.append(f"{name}.{node.name}: {length} lines")
    assert too_big == []


def test_every_module_says_what_it_owns() -> None:
    missing = [name for name, path in modules().items()
               if ast.get_docstring(ast.parse(path.read_text())) is None]
    assert missing == []


def test_checks_see_real_imports() -> None:
    # The checks above would pass vacuously if the import reader saw nothing.
    edges = {(src, dst) for src, _, dst in kodama_edges()}
    assert ("kodama.syntax.walk", "kodama.syntax.ignore") in edges
    assert len(edges) > 100
