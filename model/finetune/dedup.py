"""Near-duplicate detection for training files (pure, stdlib).

Copies of a file (vendored code, generated files, a module copied with a few lines changed)
would be trained on several times over. :func:`near_duplicates` finds them: exact copies (up to
whitespace) by hash, near copies by the Jaccard similarity of their sets of word 5-shingles. The
candidates come from MinHash signatures (one-permutation hashing with densification) split into
LSH bands, and every candidate is confirmed with the exact Jaccard similarity before it is
reported. Everything is deterministic across processes: tokens are hashed with BLAKE2b, and the
shingles (tuples of those integers) with the built-in ``hash`` of int tuples, which, unlike that
of ``str``, does not depend on ``PYTHONHASHSEED``.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import operator
import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence

__all__ = ["NUM_HASHES", "SHINGLE_SIZE", "jaccard", "near_duplicates"]

SHINGLE_SIZE = 5
"""Tokens per shingle; texts with fewer tokens are only matched as exact duplicates."""
NUM_HASHES = 128
"""MinHash signature length (a power of two: the bins are the low bits of a shingle's hash)."""

_TOKEN = re.compile(r"\w+|[^\w\s]")
_EMPTY_BIN_STEP = 1 << 64  # densified bins: above any hash value, so never equal to a real one
_BAND_RECALL = 0.999  # chance that a pair exactly at the threshold shares a band
_ESTIMATE_MARGIN = 0.15  # candidates whose signatures agree far less than the threshold are skipped
_CACHED_SETS = 256  # exact shingle sets kept for confirmations
# Bounds on the work for one text, only reached in large clusters of files that are similar to
# each other (but not similar enough): see _Finder._match.
_MAX_ROOTS = 256
_MEMBERS_PER_ROOT = 4
_MAX_CONFIRMATIONS = 8
_SAMPLED_PER_BIN = 6  # shingle hashes a signature bin draws from, on average, in large texts


def jaccard(a: str, b: str) -> float:
    """The exact Jaccard similarity of the word 5-shingle sets of two texts, from 0 to 1.

    Texts with fewer than five tokens have no shingles: they score 1 against a text with the
    same tokens and 0 against any other.
    """
    tokens_a, tokens_b = _TOKEN.findall(a), _TOKEN.findall(b)
    if len(tokens_a) < SHINGLE_SIZE or len(tokens_b) < SHINGLE_SIZE:
        return 1.0 if tokens_a == tokens_b else 0.0
    return _set_jaccard(_shingles(tokens_a), _shingles(tokens_b))


def near_duplicates(texts: Sequence[str], threshold: float = 0.85) -> dict[int, int]:
    """Map each text that duplicates an earlier one to the earliest kept text it duplicates.

    A text duplicates another when both are equal after collapsing runs of whitespace (empty
    texts are all equal), or when the Jaccard similarity of their word 5-shingle sets is at
    least ``threshold``. Keys are indexes into ``texts``, in increasing order; values are indexes
    of texts that are not keys themselves (a duplicate of a dropped duplicate maps to the text
    that one maps to), so callers keep the first text of each group and drop the rest.

    Every near duplicate reported is confirmed exactly, and the result depends on nothing but
    ``texts`` and ``threshold``. Finding them is probabilistic: a pair exactly at the threshold
    is missed about once in a thousand (pairs above it far more rarely), and in large clusters
    of files similar to each other, each text is compared exactly with only the few candidates
    whose signatures agree the most with its own (see ``_Finder._match``).
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], not {threshold}")
    finder = _Finder(texts, threshold)
    first_with_digest: dict[bytes, int] = {}
    for index, text in enumerate(texts):
        normal = " ".join(text.split()).encode("utf-8", "surrogatepass")
        earlier = first_with_digest.setdefault(hashlib.blake2b(normal).digest(), index)
        if earlier != index:
            finder.duplicates[index] = finder.duplicates.get(earlier, earlier)
        else:
            finder.add(index, text)
    return finder.duplicates


class _Finder:
    """Near duplicates among texts added in order, each against the texts added before it."""

    def __init__(self, texts: Sequence[str], threshold: float) -> None:
        self.texts = texts
        self.threshold = threshold
        self.rows = _rows_per_band(threshold)
        self.duplicates: dict[int, int] = {}
        # LSH band -> root (kept text) -> the texts in that band with that root, in order: a
        # text that hits a band tries each root once, from the earliest, without necessarily
        # going through all its duplicates.
        self.buckets: dict[tuple[int, tuple[int, ...]], dict[int, list[int]]] = {}
        self.signatures: dict[int, tuple[int, ...]] = {}
        self.sizes: dict[int, int] = {}
        self.token_hashes = _TokenHashes()
        self.exact_sets: OrderedDict[int, set[tuple[str, ...]]] = OrderedDict()

    def add(self, index: int, text: str) -> None:
        """Record ``texts[index]`` (not an exact duplicate), and whether it is a near one."""
        tokens = _TOKEN.findall(text)
        if len(tokens) < SHINGLE_SIZE:
            return
        ids = list(map(self.token_hashes.__getitem__, tokens))
        hashes = set(map(hash, zip(*(ids[i:] for i in range(SHINGLE_SIZE)), strict=False)))
        self.signatures[index] = signature = _signature(hashes)
        self.sizes[index] = len(hashes)
        rows = self.rows
        keys = [(at, signature[at : at + rows]) for at in range(0, NUM_HASHES - rows + 1, rows)]
        root = self._match(
            index, tokens, [self.buckets[key] for key in keys if key in self.buckets]
        )
        if root is None:
            root = index
        else:
            self.duplicates[index] = root
        for key in keys:
            self.buckets.setdefault(key, {}).setdefault(root, []).append(index)

    def _match(self, index: int, tokens: list[str], hit: list[dict[int, list[int]]]) -> int | None:
        """The earliest root of a text that shares a band with ``texts[index]`` and is similar.

        Candidates are the texts in the bands hit, grouped by root: the earliest
        :data:`_MAX_ROOTS` roots, and the earliest :data:`_MEMBERS_PER_ROOT` texts of each.
        Those whose size and signature allow the threshold are compared exactly in order, at most
        :data:`_MAX_CONFIRMATIONS` of them: the ones whose signatures agree the most.
        """
        plausible: list[tuple[int, int, int]] = []  # root, candidate, signature agreement
        for root in sorted({root for bucket in hit for root in bucket})[:_MAX_ROOTS]:
            group = heapq.merge(*(bucket[root] for bucket in hit if root in bucket))
            members = itertools.islice(itertools.groupby(group), _MEMBERS_PER_ROOT)
            for other, _ in members:
                agree = self._agreement(index, other)
                if agree is not None:
                    plausible.append((root, other, agree))
        if len(plausible) > _MAX_CONFIRMATIONS:
            best = sorted(plausible, key=lambda candidate: -candidate[2])
            plausible = sorted(best[:_MAX_CONFIRMATIONS])
        for root, other, _ in plausible:
            if index not in self.exact_sets:
                self._cache(index, _shingles(tokens))
            if _set_jaccard(self._exact_set(index), self._exact_set(other)) >= self.threshold:
                return root
        return None

    def _agreement(self, index: int, other: int) -> int | None:
        """How many signature values two texts share, or None if they cannot be similar enough.

        The sizes of the sets bound their Jaccard similarity; the signatures estimate it, and
        rule out those well below the threshold (when large enough to be reliable).
        """
        small, large = sorted((self.sizes[index], self.sizes[other]))
        if small < self.threshold * large:
            return None  # the Jaccard similarity is at most small / large
        agree: int = sum(map(operator.eq, self.signatures[index], self.signatures[other]))
        if small >= NUM_HASHES and agree < (self.threshold - _ESTIMATE_MARGIN) * NUM_HASHES:
            return None
        return agree

    def _exact_set(self, index: int) -> set[tuple[str, ...]]:
        """The exact shingle set of ``texts[index]``, from a small LRU cache."""
        if index in self.exact_sets:
            self.exact_sets.move_to_end(index)
            return self.exact_sets[index]
        return self._cache(index, _shingles(_TOKEN.findall(self.texts[index])))

    def _cache(self, index: int, shingles: set[tuple[str, ...]]) -> set[tuple[str, ...]]:
        """Keep ``shingles`` as the exact set of ``texts[index]``, dropping the oldest."""
        self.exact_sets[index] = shingles
        if len(self.exact_sets) > _CACHED_SETS:
            self.exact_sets.popitem(last=False)
        return shingles


class _TokenHashes(dict[str, int]):
    """Tokens to 64-bit BLAKE2b hashes, computed on first use."""

    def __missing__(self, token: str) -> int:
        digest = hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8)
        value = self[token] = int.from_bytes(digest.digest(), "little")
        return value


def _shingles(tokens: Sequence[str]) -> set[tuple[str, ...]]:
    """The set of runs of :data:`SHINGLE_SIZE` consecutive tokens."""
    return set(zip(*(tokens[i:] for i in range(SHINGLE_SIZE)), strict=False))


def _set_jaccard(a: set[tuple[str, ...]], b: set[tuple[str, ...]]) -> float:
    """|a ∩ b| / |a ∪ b| of two non-empty sets."""
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def _signature(hashes: set[int]) -> tuple[int, ...]:
    """The one-permutation MinHash signature of a non-empty set of shingle hashes.

    Bin ``b`` holds the smallest hash whose low bits are ``b``; an empty bin borrows the value of
    the next non-empty bin to its right (circularly), offset by the distance, so that two sets
    agree on a bin with a probability close to their Jaccard similarity even when small.
    """
    mask = NUM_HASHES - 1
    values: Iterable[int] = hashes
    if len(hashes) > _SAMPLED_PER_BIN * NUM_HASHES:
        # Only the smallest values can be the smallest of their bin: keep those below a cutoff
        # that leaves about _SAMPLED_PER_BIN values a bin (a bin with none is rare: e**-6).
        cutoff = -(1 << 63) + (_SAMPLED_PER_BIN * NUM_HASHES << 64) // len(hashes)
        values = filter(cutoff.__gt__, hashes)
    smallest = {value & mask: value for value in sorted(values, reverse=True)}
    if len(smallest) == NUM_HASHES:
        return tuple(map(smallest.__getitem__, range(NUM_HASHES)))
    signature = [0] * NUM_HASHES
    nearest, distance = 0, 0
    for position in range(2 * NUM_HASHES - 1, -1, -1):
        found = smallest.get(position & mask)
        if found is None:
            distance += 1
        else:
            nearest, distance = found, 0
        if position < NUM_HASHES:
            signature[position] = nearest + distance * _EMPTY_BIN_STEP
    return tuple(signature)


def _rows_per_band(threshold: float) -> int:
    """The most signature rows per LSH band that still find pairs at the threshold reliably."""
    rows = 1
    while rows < 16:
        bands = NUM_HASHES // (rows + 1)
        if 1.0 - (1.0 - threshold ** (rows + 1)) ** bands < _BAND_RECALL:
            break
        rows += 1
    return rows
