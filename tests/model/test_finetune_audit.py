"""Proof that no planted secret reaches fine-tuning: every kind of the golden cases
(``tests/unit/model/finetune/secret_cases.toml``) is planted in a small repository, the real
data preparation runs on the tiny model's tokenizer, and the decoded text of every training,
validation and test sequence is searched. The look-alikes are planted too, and must arrive:
the search finds what is there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from unit.model.finetune.secret_cases import SecretCase, load_cases

from helpers.repos import module
from kodama.model.config import FineTuneConfig
from kodama.model.finetune import data
from kodama.model.finetune.dataset import SPLIT_NAMES, build_dataset
from kodama.syntax import languages

CASES = load_cases()


def marker(kind: str, index: int) -> str:
    return f"{kind}_MARKER_{index:03d}_END"


def comment(path: str, text: str) -> str:
    spec = languages.detect(path)
    return f"{spec.line_comment if spec is not None else '#'} {text}\n"


def plant(root: Path, index: int, case: SecretCase) -> str:
    """The case's file, in its own folder, with a marker line; its repository path."""
    rel = f"case{index:03d}/{case.path}"
    kind = "LOOKALIKE" if case.kind is None else "PLANTED"
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    body = case.text if case.kind is not None else f"{case.text}\n{module(40 + index)}"
    path.write_text(body + "\n" + comment(rel, marker(kind, index)))
    return rel


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_model_dir))


def test_no_planted_secret_reaches_any_split(tmp_path: Path, tokenizer: Any) -> None:
    root = tmp_path / "repo"
    for i in range(6):
        (root / "pkg").mkdir(parents=True, exist_ok=True)
        (root / "pkg" / f"mod{i}.py").write_text(module(i))
    planted = {plant(root, i, case): (i, case) for i, case in enumerate(CASES)}

    skipped: dict[str, str] = {}
    corpus = data.collect(root, on_skip=skipped.__setitem__)
    for rel, (_, case) in planted.items():
        folders = [rel[:at + 1] for at, c in enumerate(rel) if c == "/"]
        if case.kind is not None and not any(folder in skipped for folder in folders):
            assert skipped.get(rel) == f"secret: {case.kind}", (rel, skipped.get(rel))
        elif case.kind is not None:
            assert folders[-1].rsplit("/", 2)[-2].startswith("."), rel  # only .docker/

    dataset = build_dataset(corpus, tokenizer, FineTuneConfig(), None)
    texts = {name: "\n".join(tokenizer.decode(s.ids) for s in dataset.sequences(name))
             for name in SPLIT_NAMES}
    everything = "\n".join(texts.values())
    for rel, (i, case) in planted.items():
        if case.kind is not None:
            assert marker("PLANTED", i) not in everything, f"{case.kind} leaked from {rel}"
    # The control: the look-alikes that are source files arrive in their split's text.
    arrived = 0
    for rel, (i, case) in planted.items():
        split = dataset.splits.get(rel)
        if case.kind is None and split == "train":
            assert marker("LOOKALIKE", i) in texts["train"], rel
            arrived += 1
    assert arrived >= 10
    assert all(texts[name] for name in SPLIT_NAMES), "every split was searched"
