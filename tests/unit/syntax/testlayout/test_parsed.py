"""Tests for kodama.syntax.testlayout.parsed and the queries ``queries/testlayout/*.scm``."""

from __future__ import annotations

import pytest

from kodama.syntax.analysis import load_query
from kodama.syntax.testlayout.parsed import QUERY_PURPOSE, Parsed

ROLES = {
    "python": {"import", "definition", "comment", "docstring", "conditional"},
    "javascript": {"import", "declaration", "definition", "prologue"},
    "typescript": {"import", "declaration", "definition", "prologue"},
    "tsx": {"import", "declaration", "definition", "prologue"},
    "go": {"package", "package.name", "import", "import.list", "import.spec"},
    "rust": {"module.inline", "module.declared", "use", "attribute"},
    "java": {"package", "package.name", "import", "class"},
}
"""The roles each language's planning and merging rules ask :class:`Parsed` for."""


@pytest.mark.parametrize("language", sorted(ROLES))
def test_each_query_captures_the_roles_the_rules_use(language: str) -> None:
    query = load_query(QUERY_PURPOSE, language)
    assert query is not None
    names = {query.capture_name(i) for i in range(query.capture_count)}
    assert names == ROLES[language]


PYTHON = '''\
"""Doc."""
import os  # why

def f():
    import json
    return json

if __name__ == "__main__":
    f()
'''


def test_python_roles_top_level_and_nested() -> None:
    parsed = Parsed("python", PYTHON)
    top = parsed.children("import")
    assert [parsed.node_text(n) for n in top] == ["import os"]
    nested = parsed.everywhere("import")
    assert [parsed.node_text(n) for n in nested] == ["import os", "import json"]
    assert not parsed.inside(nested[0], "definition")
    assert parsed.inside(nested[1], "definition")
    first = parsed.root.named_children[0]
    assert parsed.has_role(first, "docstring")
    assert [parsed.node_text(n) for n in parsed.children("comment")] == ["# why"]
    assert len(parsed.children("conditional")) == 1
    function = parsed.children("definition")[0]
    assert parsed.children("import", function) == []  # only direct children of the node given


def test_a_statement_of_two_strings_is_no_docstring() -> None:
    parsed = Parsed("python", '"a" "b"\n"a", "b"\n"c"  # note\n')
    assert [parsed.node_text(n) for n in parsed.children("docstring")] == ['"c"']


def test_lone_surrogates_do_not_break_the_roles() -> None:
    # Text predicates would decode these nodes strictly and fail; the queries have none.
    parsed = Parsed("python", 'if __name__ == "\ud800":\n    import os\n')
    assert len(parsed.children("conditional")) == 1
    assert parsed.off(len(parsed.data)) == len(parsed.text)
    rust = Parsed("rust", "mod tests { fn \ud800() {} }\nmod tests;\n")
    assert len(rust.children("module.inline")) == 1
    assert len(rust.children("module.declared")) == 1


def test_offsets_are_code_points() -> None:
    parsed = Parsed("go", 'package café\n\nimport "x"\n')
    spec = parsed.everywhere("import.spec")[0]
    assert parsed.span(spec) == (21, 24)
    assert parsed.text[slice(*parsed.span(spec))] == '"x"'
    assert [parsed.node_text(n) for n in parsed.everywhere("package.name")] == ["café"]
