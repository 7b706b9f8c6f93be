"""Tests for kodama.model.context.bm25: identifier tokens and incremental BM25."""

from __future__ import annotations

from collections import Counter

from kodama.model.context.bm25 import BM25, split_identifier, tokenize


def test_split_identifier_snake_and_camel() -> None:
    assert split_identifier("getUserName") == ["get", "user", "name"]
    assert split_identifier("HTTPServerError") == ["http", "server", "error"]
    assert split_identifier("max_new_tokens") == ["max", "new", "tokens"]
    assert split_identifier("x") == ["x"]


def test_tokenize_keeps_whole_identifiers_and_parts_without_keywords() -> None:
    tokens = tokenize("def load_model(self): return getUserName(x)")
    assert tokens == ["load_model", "load", "model", "getusername", "get", "user", "name"]


def docs() -> dict[str, Counter[str]]:
    return {
        "a": Counter(tokenize("def parse_config(path): read config file path")),
        "b": Counter(tokenize("def render_prompt(snippets): tokens budget prompt")),
        "c": Counter(tokenize("class Budget: prefix_tokens suffix_tokens context_tokens")),
        "d": Counter(tokenize("unrelated words only here")),
    }


def test_search_ranks_matching_documents_first() -> None:
    index: BM25[str] = BM25()
    for key, counts in docs().items():
        index.add(key, counts)
    hits = index.search(tokenize("budget tokens for the prompt"), limit=3)
    assert [k for k, _ in hits][:2] == ["b", "c"]
    assert all(score > 0 for _, score in hits)
    assert "d" not in [k for k, _ in hits]
    skipped = index.search(tokenize("budget tokens prompt"), skip=lambda k: k == "b")
    assert "b" not in [k for k, _ in skipped]


def test_incremental_add_remove_equals_fresh_build() -> None:
    incremental: BM25[str] = BM25()
    for key, counts in docs().items():
        incremental.add(key, counts)
    incremental.add("e", Counter(tokenize("temporary budget budget budget")))
    incremental.remove("e")
    incremental.add("a", Counter(tokenize("def parse_config(path): read config file path")))
    fresh: BM25[str] = BM25()
    for key, counts in docs().items():
        fresh.add(key, counts)
    query = tokenize("budget tokens config path")
    assert incremental.search(query) == fresh.search(query)
    assert len(incremental) == 4 and "e" not in incremental
    incremental.remove("missing")  # no-op
