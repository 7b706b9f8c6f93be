"""A small incremental BM25 over code chunks, with identifier-aware tokens.

Tokens are identifiers split at snake_case and camelCase boundaries (``getUserName`` →
``getusername``, ``get``, ``user``, ``name``), lower-cased; keywords and one-letter names are
dropped. Documents (chunks) can be added and removed one at a time: the collection statistics
(document frequencies, average length) are kept up to date, so an incremental index scores
exactly like one built from scratch.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Generic, TypeVar

__all__ = ["BM25", "split_identifier", "tokenize"]

K = TypeVar("K", bound=Hashable)

_IDENTIFIER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CAMEL_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

STOPWORDS = frozenset(
    """
    and as assert async await break case catch class const continue def default defer del do
    elif else enum except export extends false final finally fn for from func function go if
    impl import in interface is let match mod mut new nil none not null or package pass pub
    public private protected raise return self static struct super switch this throw true
    try type typeof use var void while with yield int str bool char float double long
    unsigned string the to of it be on at an
    """.split()  # noqa: SIM905
)
"""Tokens too common in code to tell chunks apart."""


def split_identifier(identifier: str) -> list[str]:
    """The lower-cased parts of an identifier (snake_case and camelCase), without the whole."""
    parts: list[str] = []
    for piece in identifier.split("_"):
        if piece:
            parts.extend(m.group(0).lower() for m in _CAMEL_RE.finditer(piece))
    return parts


def tokenize(text: str) -> list[str]:
    """BM25 tokens of ``text``: each identifier (lower-cased) and, when it has several, its
    parts; keywords and tokens shorter than two characters are dropped."""
    tokens: list[str] = []
    for match in _IDENTIFIER_RE.finditer(text):
        word = match.group(0)
        whole = word.lower()
        if len(whole) >= 2 and whole not in STOPWORDS:
            tokens.append(whole)
        parts = split_identifier(word)
        if len(parts) > 1:
            tokens.extend(p for p in parts if len(p) >= 2 and p not in STOPWORDS and p != whole)
    return tokens


class BM25(Generic[K]):
    """Okapi BM25 over documents keyed by ``K``, with add / remove."""

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        """An empty collection."""
        self.k1 = k1
        self.b = b
        self._docs: dict[K, tuple[Counter[str], int]] = {}
        self._postings: dict[str, dict[K, int]] = {}
        self._total_length = 0

    def __len__(self) -> int:
        """Number of documents."""
        return len(self._docs)

    def __contains__(self, key: object) -> bool:
        """Whether a document with ``key`` is in the collection."""
        return key in self._docs

    def add(self, key: K, counts: Mapping[str, int]) -> None:
        """Add (or replace) a document given its term counts."""
        if key in self._docs:
            self.remove(key)
        terms = Counter({t: c for t, c in counts.items() if c > 0})
        length = sum(terms.values())
        self._docs[key] = (terms, length)
        self._total_length += length
        for term, count in terms.items():
            self._postings.setdefault(term, {})[key] = count

    def remove(self, key: K) -> None:
        """Remove a document (no-op when absent)."""
        entry = self._docs.pop(key, None)
        if entry is None:
            return
        terms, length = entry
        self._total_length -= length
        for term in terms:
            posting = self._postings.get(term)
            if posting is None:
                continue
            posting.pop(key, None)
            if not posting:
                del self._postings[term]

    def idf(self, term: str) -> float:
        """Inverse document frequency (the always-positive BM25+ form)."""
        n = len(self._docs)
        df = len(self._postings.get(term, ()))
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def search(
        self,
        query: Iterable[str],
        limit: int = 10,
        *,
        skip: Callable[[K], bool] | None = None,
        max_terms: int = 48,
        max_df_ratio: float = 0.25,
    ) -> list[tuple[K, float]]:
        """The ``limit`` best documents for the query tokens, best first, with their scores.

        Documents for which ``skip`` says True are left out. Query terms are weighted by how
        often they occur in the query; terms found in more than ``max_df_ratio`` of the
        documents are ignored (they tell nothing apart and their postings are long), and only
        the ``max_terms`` rarest terms are used.
        """
        n = len(self._docs)
        if n == 0:
            return []
        wanted = Counter(query)
        terms = [t for t in wanted if t in self._postings]
        if n >= 8:
            terms = [t for t in terms if len(self._postings[t]) <= max_df_ratio * n]
        terms.sort(key=lambda t: len(self._postings[t]))
        terms = terms[:max_terms]
        avg = self._total_length / n
        scores: dict[K, float] = {}
        for term in terms:
            weight = self.idf(term) * (1.0 + math.log(wanted[term]))
            for key, tf in self._postings[term].items():
                if skip is not None and skip(key):
                    continue
                length = self._docs[key][1]
                norm = tf * (self.k1 + 1) / (tf + self.k1 * (1 - self.b + self.b * length / avg))
                scores[key] = scores.get(key, 0.0) + weight * norm
        best = heapq.nlargest(limit, scores.items(), key=lambda item: item[1])
        return [(key, score) for key, score in best if score > 0]
