"""Incremental detokenisation (kodama.model.tokens.Detokenizer) equals decoding everything at
every step, on the tiny model's byte-level tokenizer and the real default model's."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from kodama.model.tokens import Detokenizer, PlainText

TEXTS = [
    'def greet(name):\n    """Say hello 😀 to 漢字."""\n    return f"hi {name}"\n',
    "    if x >= 0x1F and not y:  # ünïcödé — ✓\n\t\tpass\n",
    "const s = `${a}→${b}`;\r\n",
]


def _check(tokenizer: object, seed: int) -> None:
    def decode(ids: list[int]) -> str:
        return str(tokenizer.decode(list(ids), skip_special_tokens=True))  # type: ignore[attr-defined]

    rng = random.Random(seed)
    encoded = [PlainText(tokenizer).encode(text) for text in TEXTS]
    sequences = [*encoded, [rng.randrange(len(tokenizer)) for _ in range(60)]]  # type: ignore[arg-type]
    for ids in sequences:
        detokenizer = Detokenizer(decode)
        for i, token in enumerate(ids, 1):
            assert detokenizer.push(token) == decode(ids[:i]), (ids[:i], detokenizer.text)


def test_equals_decoding_everything_on_the_tiny_tokenizer(tiny_model_dir: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    for seed in range(5):
        _check(tokenizer, seed)


@pytest.mark.real_model
def test_equals_decoding_everything_on_the_default_tokenizer(default_model_dir: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(default_model_dir)
    for seed in range(5):
        _check(tokenizer, seed)
