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
_ESTIMATE_MARGIN = 0.2  # candidates whose signatures agree far less than the threshold are skipped
_CACHED_SETS = 256  # exact shingle sets kept for confirmations
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
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], not {threshold}")
    rows = _rows_per_band(threshold)
    duplicates: dict[int, int] = {}
    first_with_digest: dict[bytes, int] = {}
    # LSH band -> root (kept text) -> texts in that band, in order: a later text that hits the
    # band tries each root once, from the earliest, without going through all its duplicates.
    buckets: dict[tuple[int, tuple[int, ...]], dict[int, list[int]]] = {}
    signatures: dict[int, tuple[int, ...]] = {}
    sizes: dict[int, int] = {}
    token_hashes = _TokenHashes()
    exact_sets: OrderedDict[int, set[tuple[str, ...]]] = OrderedDict()

    def exact_set(index: int) -> set[tuple[str, ...]]:
        """The exact shingle set of ``texts[index]``, from a small LRU cache."""
        if index in exact_sets:
            exact_sets.move_to_end(index)
        else:
            exact_sets[index] = _shingles(_TOKEN.findall(texts[index]))
            if len(exact_sets) > _CACHED_SETS:
                exact_sets.popitem(last=False)
        return exact_sets[index]

    def similar(index: int, other: int) -> bool:
        """Whether two texts' Jaccard similarity reaches the threshold (cheap checks first)."""
        small, large = sorted((sizes[index], sizes[other]))
        if small < threshold * large:
            return False  # the Jaccard similarity is at most small / large
        if small >= NUM_HASHES:
            agree = sum(map(operator.eq, signatures[index], signatures[other])) / NUM_HASHES
            if agree < threshold - _ESTIMATE_MARGIN:
                return False
        return _set_jaccard(exact_set(index), exact_set(other)) >= threshold

    for index, text in enumerate(texts):
        normal = " ".join(text.split()).encode("utf-8", "surrogatepass")
        earlier = first_with_digest.setdefault(hashlib.blake2b(normal).digest(), index)
        if earlier != index:
            duplicates[index] = duplicates.get(earlier, earlier)
            continue
        tokens = _TOKEN.findall(text)
        if len(tokens) < SHINGLE_SIZE:
            continue
        ids = list(map(token_hashes.__getitem__, tokens))
        hashes = set(map(hash, zip(*(ids[i:] for i in range(SHINGLE_SIZE)), strict=False)))
        signatures[index] = signature = _signature(hashes)
        sizes[index] = len(hashes)
        keys = [
            (start, signature[start : start + rows])
            for start in range(0, NUM_HASHES - rows + 1, rows)
        ]
        hit = [buckets[key] for key in keys if key in buckets]
        for root in sorted({root for bucket in hit for root in bucket}):
            group = heapq.merge(*(bucket[root] for bucket in hit if root in bucket))
            if any(similar(index, other) for other, _ in itertools.groupby(group)):
                duplicates[index] = root
                break
        root = duplicates.get(index, index)
        for key in keys:
            buckets.setdefault(key, {}).setdefault(root, []).append(index)
    return duplicates


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
