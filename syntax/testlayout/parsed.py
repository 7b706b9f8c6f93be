"""A parsed test or source file: code-point offsets, and the roles its nodes play (pure).

Which nodes are imports, definitions, package clauses, test modules … is data: the captures
of ``queries/testlayout/<language id>.scm``.  The planners and mergers keep the reasoning
about order and position (the first import, the statements before the first definition),
asking :class:`Parsed` for the nodes of a role.

The queries hold no text predicates (``#match?``, ``#eq?``, ``#any-of?``): py-tree-sitter
decodes the node text strictly as UTF-8 to evaluate them and fails on a lone surrogate, which
these files may hold (they are parsed with ``surrogatepass``).  Names and texts are compared
in Python instead.
"""

from __future__ import annotations

import tree_sitter

from kodama.syntax import languages
from kodama.syntax.analysis import load_query

__all__ = ["QUERY_PURPOSE", "Parsed"]

QUERY_PURPOSE = "testlayout"
"""The folder of ``queries/`` holding the test-layout queries."""


class Parsed:
    """A tree-sitter parse of *text* with byte → code-point offset conversion and the captures
    of the language's test-layout query (run once, when first asked)."""

    def __init__(self, language: str, text: str) -> None:
        self.language = language
        self.text = text
        self.data = text.encode("utf-8", "surrogatepass")
        self.tree = languages.thread_parser(languages.LANGUAGES[language]).parse(self.data)
        self._roles: dict[str, frozenset[tree_sitter.Node]] | None = None

    @property
    def root(self) -> tree_sitter.Node:
        return self.tree.root_node

    def off(self, byte: int) -> int:
        """The code-point offset of UTF-8 offset *byte*."""
        return len(self.data[:byte].decode("utf-8", "surrogatepass"))

    def span(self, node: tree_sitter.Node) -> tuple[int, int]:
        """The code-point offsets of *node*."""
        return self.off(node.start_byte), self.off(node.end_byte)

    def node_text(self, node: tree_sitter.Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "surrogatepass")

    # -------------------------------------------------------------------------------- roles
    def role(self, name: str) -> frozenset[tree_sitter.Node]:
        """Every node captured as ``@name``."""
        if self._roles is None:
            query = load_query(QUERY_PURPOSE, self.language)
            if query is None:
                raise RuntimeError(
                    f"queries/{QUERY_PURPOSE}/{self.language}.scm is missing from the package"
                )
            captured = languages.captures(query, self.root)
            self._roles = {role: frozenset(nodes) for role, nodes in captured.items()}
        return self._roles.get(name, frozenset())

    def has_role(self, node: tree_sitter.Node, name: str) -> bool:
        return node in self.role(name)

    def children(self, name: str, parent: tree_sitter.Node | None = None) -> list[tree_sitter.Node]:
        """The named children of *parent* (default: the root) captured as ``@name``, in order."""
        nodes = self.role(name)
        parent = self.root if parent is None else parent
        return [child for child in parent.named_children if child in nodes]

    def inside(self, node: tree_sitter.Node, name: str) -> bool:
        """Whether an ancestor of *node* is captured as ``@name``."""
        nodes = self.role(name)
        parent = node.parent
        while parent is not None:
            if parent in nodes:
                return True
            parent = parent.parent
        return False

    def everywhere(self, name: str) -> list[tree_sitter.Node]:
        """Every node captured as ``@name``, in document order."""
        return sorted(self.role(name), key=lambda n: (n.start_byte, n.end_byte))
