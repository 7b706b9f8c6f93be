"""Tests for kodama.model.finetune.dedup: exact and near-duplicate training files."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys

import pytest

from kodama.model.finetune.dedup import SHINGLE_SIZE, jaccard, near_duplicates

TOKEN = re.compile(r"\w+|[^\w\s]")
WORDS = (  # noqa: SIM905
    "alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega user item order price "
    "total count index value result config path name data buffer cache queue node edge graph "
    "score limit offset page token parser writer reader stream chunk batch model layer weight"
).split()


def module_lines(seed: int, lines: int = 200) -> list[str]:
    """``lines`` lines of plausible Python, different for every seed."""
    rng = random.Random(seed)
    out: list[str] = []
    for _ in range(lines):
        a, b, c = rng.choice(WORDS), rng.choice(WORDS), rng.choice(WORDS)
        n = rng.randrange(10_000)
        out.append(
            rng.choice(
                [
                    f"def {a}_{n}({b}, {c}):",
                    f"    {a} = {b}.{c}({n})",
                    f"    return {a} + {b} * {n}",
                    f"    if {a} > {n}: {b}.append({c})",
                    f"    for {a} in range({n}): {b}[{a}] = {c}",
                ]
            )
        )
    return out


def edited(lines: list[str], seed: int, count: int) -> list[str]:
    """A copy of ``lines`` with ``count`` of them (spread out, chosen by seed) rewritten."""
    rng = random.Random(seed)
    replacement = module_lines(seed + 1_000_000, count)
    out = list(lines)
    for position, line in zip(rng.sample(range(len(lines)), count), replacement, strict=True):
        out[position] = line
    return out


def text(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def test_jaccard_basics() -> None:
    a, b = text(module_lines(1)), text(module_lines(2))
    assert jaccard(a, a) == 1.0
    assert jaccard(a, b) == jaccard(b, a)
    assert jaccard(a, b) < 0.2
    assert jaccard("x = 1 + 2 + 3", "x = 1 + 2 + 4") == pytest.approx(2 / 4)
    assert jaccard("a b c", "a  b\nc") == 1.0  # fewer than five tokens: equal tokens
    assert jaccard("a b c", "a b d") == 0.0
    assert jaccard("a b c", "a b c d e f") == 0.0


def test_exact_copy_with_other_whitespace_is_a_duplicate() -> None:
    original = text(module_lines(1))
    respaced = "\n\n" + original.replace("    ", "\t").replace(" = ", "   =  ") + "   \n\n"
    assert near_duplicates([original, text(module_lines(2)), respaced]) == {2: 0}


def test_a_few_changed_lines_out_of_200_is_a_near_duplicate() -> None:
    original = module_lines(3)
    changed = edited(original, seed=7, count=4)
    similarity = jaccard(text(original), text(changed))
    assert 0.85 <= similarity < 1.0
    assert near_duplicates([text(original), text(changed)]) == {1: 0}


def test_different_files_are_not_duplicates() -> None:
    texts = [text(module_lines(seed)) for seed in range(10)]
    assert near_duplicates(texts) == {}


def test_the_earliest_text_is_kept() -> None:
    original = module_lines(4)
    texts = [
        text(module_lines(5)),
        text(edited(original, seed=1, count=3)),
        text(original),
        text(edited(original, seed=2, count=3)),
    ]
    assert near_duplicates(texts) == {2: 1, 3: 1}


def test_chains_map_to_the_earliest_kept_text() -> None:
    first = module_lines(6)
    second = edited(first, seed=11, count=7)
    third = edited(second, seed=12, count=7)
    a, b, c = text(first), text(second), text(third)
    assert jaccard(a, b) >= 0.85
    assert jaccard(b, c) >= 0.85
    assert jaccard(a, c) < 0.85  # the third only duplicates the dropped second
    assert near_duplicates([a, b, c]) == {1: 0, 2: 0}
    # An exact copy of a dropped duplicate maps to the kept text too.
    assert near_duplicates([a, b, b.replace("\n", "\n\n")]) == {1: 0, 2: 0}


def test_every_near_duplicate_is_found() -> None:
    originals = [module_lines(100 + seed) for seed in range(20)]
    copies = [edited(lines, seed=200 + i, count=5) for i, lines in enumerate(originals)]
    texts = [text(lines) for lines in originals + copies]
    assert all(jaccard(texts[i], texts[20 + i]) >= 0.85 for i in range(20))
    assert near_duplicates(texts) == {20 + i: i for i in range(20)}


def test_short_texts_are_only_exact_duplicates() -> None:
    assert near_duplicates(["x = 1", "x = 2", "x  =\t1\n", "", "  \n"]) == {2: 0, 4: 3}


def test_threshold() -> None:
    original = module_lines(8)
    changed = edited(original, seed=9, count=40)
    texts = [text(original), text(changed)]
    similarity = jaccard(*texts)
    assert 0.3 < similarity < 0.85
    assert near_duplicates(texts) == {}
    assert near_duplicates(texts, threshold=similarity - 0.01) == {1: 0}
    with pytest.raises(ValueError):
        near_duplicates(texts, threshold=0.0)
    with pytest.raises(ValueError):
        near_duplicates(texts, threshold=1.5)


def corpus() -> list[str]:
    """Distinct files, near copies, exact copies and tiny files, in a fixed order."""
    texts = [text(module_lines(300 + seed, lines=20 + 10 * seed)) for seed in range(12)]
    texts += [text(edited(module_lines(300 + seed, 120), 400 + seed, 3)) for seed in range(10, 12)]
    texts += [texts[3].replace("\n", "\r\n"), "pass", "pass\n", text(module_lines(301, 30))]
    return texts


def brute_force(texts: list[str], threshold: float = 0.85) -> dict[int, int]:
    """What near_duplicates must find, comparing every pair exactly."""
    found: dict[int, int] = {}
    for i, current in enumerate(texts):
        roots = [
            found.get(j, j)
            for j in range(i)
            if " ".join(current.split()) == " ".join(texts[j].split())
            or (
                min(len(TOKEN.findall(current)), len(TOKEN.findall(texts[j]))) >= SHINGLE_SIZE
                and jaccard(current, texts[j]) >= threshold
            )
        ]
        if roots:
            found[i] = min(roots)
    return found


def test_the_result_matches_comparing_every_pair() -> None:
    texts = corpus()
    expected = brute_force(texts)
    assert expected[12] == 10 and expected[14] == 3 and expected[16] == 15 and expected[17] == 1
    assert near_duplicates(texts) == expected


def test_the_result_is_deterministic() -> None:
    texts = corpus()
    assert near_duplicates(texts) == near_duplicates(list(texts))


def test_the_result_does_not_depend_on_the_hash_seed() -> None:
    script = (
        "import json, sys\n"
        "from kodama.model.finetune.dedup import near_duplicates\n"
        "print(json.dumps(sorted(near_duplicates(json.loads(sys.stdin.read())).items())))\n"
    )
    payload = json.dumps(corpus())
    results = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", script],
            input=payload,
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=60,
        )
        results.append(json.loads(done.stdout))
    assert results[0] == results[1]
    assert results[0] == [list(item) for item in sorted(near_duplicates(corpus()).items())]


def test_two_thousand_distinct_texts() -> None:
    texts = [text(module_lines(10_000 + seed, lines=30)) for seed in range(2_000)]
    assert near_duplicates(texts) == {}
