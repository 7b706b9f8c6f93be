"""Test cases in a JavaScript / TypeScript test file, found with the query
``queries/testcases/<language>.scm``: each ``it``/``test`` call with its title and the titles of
the ``describe`` blocks around it, and the span of its statement (pure, text in, data out).

A case's id is those titles joined with `` > `` (``cart > total > sums prices``): what the
test runners report, so that outcomes can be matched to cases and failing cases cut out.
"""

from __future__ import annotations

from dataclasses import dataclass

import tree_sitter

from kodama.syntax import languages
from kodama.syntax.analysis import load_query

SEPARATOR = " > "


@dataclass(frozen=True)
class TestCase:
    """One ``it``/``test`` call."""

    __test__ = False  # not a pytest test class

    id: str
    titles: tuple[str, ...]
    """The enclosing suites' titles, then the case's."""
    start: int
    end: int
    """Code-point offsets of the case's whole statement (the call and its ``;``)."""
    body: str
    """The call's text."""


def _title(node: tree_sitter.Node, data: bytes) -> str:
    text = data[node.start_byte:node.end_byte].decode("utf-8", "replace")
    return text[1:-1] if len(text) >= 2 else text


def test_cases(language: str, code: str) -> list[TestCase]:
    """The test cases of ``code``, in order (empty when the language has no query)."""
    spec = languages.get(language)
    query = load_query("testcases", language)
    if spec is None or query is None:
        return []
    data = code.encode("utf-8", "surrogatepass")
    tree = languages.thread_parser(spec).parse(data)
    suites: list[tuple[tree_sitter.Node, str]] = []
    cases: list[tuple[tree_sitter.Node, str]] = []
    for _, found in languages.matches(query, tree.root_node):
        title = _title(found["title"][0], data)
        if "case" in found:
            cases.append((found["case"][0], title))
        else:
            suites.append((found["suite"][0], title))

    def off(byte: int) -> int:
        return len(data[:byte].decode("utf-8", "surrogatepass"))

    result = []
    for node, title in sorted(cases, key=lambda item: item[0].start_byte):
        outer = tuple(t for s, t in sorted(suites, key=lambda item: item[0].start_byte)
                      if s.start_byte < node.start_byte and node.end_byte <= s.end_byte)
        statement = node.parent if node.parent is not None and \
            node.parent.type == "expression_statement" else node
        titles = (*outer, title)
        result.append(TestCase(id=SEPARATOR.join(titles), titles=titles,
                               start=off(statement.start_byte), end=off(statement.end_byte),
                               body=data[node.start_byte:node.end_byte].decode("utf-8",
                                                                              "replace")))
    return result
