"""Training data: file selection (secrets and ignored files provably left out), the split,
fill-in-the-middle examples rendered like serving prompts, causal chunks and packing."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.repos import module
from kodama.model.evaluation import SourceFile
from kodama.model.finetune import data
from kodama.model.prompt import FimFormat

FIM = FimFormat("qwen", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", 1, 2, 3,
                file_sep_id=4)
END = 5


class CharEncoder:
    """One token per character (ids ≥ 32 never collide with the special ids above)."""

    def encode(self, text: str) -> list[int]:
        return [ord(c) for c in text]


def decode(ids: list[int] | tuple[int, ...]) -> str:
    return "".join(chr(i) if i >= 32 or i in (9, 10) else f"<{i}>" for i in ids)


MODULE = '''"""Shapes."""


def area(width, height):
    """The area of a rectangle."""
    result = width * height
    return result


class Circle:
    def __init__(self, radius):
        self.radius = radius

    def perimeter(self):
        total = 2 * 3.14159 * self.radius
        return total
'''


SECRET_MARKERS = ("SECRETMARKER", "IGNOREDMARKER", "KODAMAIGNOREDMARKER", "KEYMARKER")


@pytest.fixture()
def planted(tmp_path: Path) -> Path:
    """A repository with real code and, planted in it, secrets and ignored files that each
    carry a marker string that must never reach the training data."""
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    for i in range(8):
        (root / "pkg" / f"mod{i}.py").write_text(module(i))
    (root / ".env").write_text("SECRETMARKER=1\nDATABASE_PASSWORD=Zq8xK2mP9vL4nR7t\n")
    (root / "deploy.pem").write_text("-----BEGIN RSA PRIVATE KEY-----\nKEYMARKER\n")
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    (root / "pkg" / "keys.py").write_text(f'KEY = """{key}SECRETMARKER\n"""\nx = 1\n')
    token = "ghp_" + "a1B2c3D4" * 4 + "e5F6"
    (root / "pkg" / "settings.py").write_text(f'TOKEN = "{token}"  # SECRETMARKER\n')
    (root / ".gitignore").write_text("generated/\nlocal_*.py\n")
    (root / "generated").mkdir()
    (root / "generated" / "big.py").write_text("IGNOREDMARKER = 1\n" + module(20))
    (root / "pkg" / "local_settings.py").write_text("IGNOREDMARKER = 2\n" + module(21))
    (root / ".kodamaignore").write_text("pkg/private.py\n")
    (root / "pkg" / "private.py").write_text("KODAMAIGNOREDMARKER = 3\n" + module(22))
    (root / "pkg" / "copy_of_mod1.py").write_text(module(1).replace("\n\n", "\n \n"))
    return root


def test_collect_leaves_out_secrets_ignored_files_and_duplicates(planted: Path) -> None:
    corpus = data.collect(planted)
    paths = {f.path for f in corpus.files}
    # Of a file and its near-copy, the first in path order stays.
    assert paths == {"pkg/copy_of_mod1.py", *(f"pkg/mod{i}.py" for i in range(8) if i != 1)}
    assert corpus.skipped["secret: secret file (.env)"] == 1
    assert corpus.skipped["secret: key or certificate file"] == 1
    assert corpus.skipped["secret: private key"] == 1
    assert corpus.skipped["secret: GitHub token"] == 1
    assert corpus.skipped["near-duplicate"] == 1
    assert corpus.examples_of_skips["near-duplicate"] == ["pkg/mod1.py"]


def test_no_secret_or_ignored_text_reaches_any_example(planted: Path) -> None:
    corpus = data.collect(planted)
    shape = data.ExampleShape(holes_per_line=1.0)
    rendered = []
    for source in corpus.files:
        for example in data.file_examples(source, CharEncoder(), FIM, END, shape, seed=0):
            rendered.append(decode(example.ids))
    assert len(rendered) > 50
    everything = "\n".join(rendered)
    for marker in SECRET_MARKERS:
        assert marker not in everything
    assert "ghp_" not in everything and "PRIVATE KEY" not in everything


def source(path: str, text: str) -> SourceFile:
    return SourceFile(path, "python", text)


def test_split_is_deterministic_stable_and_never_empty() -> None:
    files = [source(f"m{i}.py", "x = 1\n") for i in range(40)]
    first = data.split(files, seed=3)
    assert first == data.split(list(reversed(files)), seed=3)
    assert {"train", "validation", "test"} <= set(first.values())
    grown = data.split([*files, *(source(f"new{i}.py", "y = 2\n") for i in range(10))], seed=3)
    assert all(grown[path] == split for path, split in first.items())
    assert data.split(files, seed=4) != first
    small = data.split(files[:3], seed=0)
    assert sorted(small.values()) == ["test", "train", "validation"]
    with pytest.raises(ValueError):
        data.split(files, test_fraction=0.6, validation_fraction=0.5)


def test_fim_examples_are_serving_prompts_with_the_middle_and_the_end_token() -> None:
    src = source("shapes.py", MODULE)
    examples = data.file_examples(src, CharEncoder(), FIM, END,
                                  data.ExampleShape(holes_per_line=1.0), seed=0)
    fim = [e for e in examples if e.kind != "causal"]
    kinds = {e.kind for e in fim}
    assert {"line", "block", "docstring", "body"} <= kinds
    for example in fim:
        ids = list(example.ids)
        assert ids[0] == FIM.prefix_id and ids[-1] == END
        suffix_at, middle_at = ids.index(FIM.suffix_id), ids.index(FIM.middle_id)
        assert middle_at < example.loss_from  # the loss starts after the prompt
        # the prefix, then the hole line's typed text, which the prompt puts after the marker
        prefix = decode(ids[1:suffix_at]) + decode(ids[middle_at + 1:example.loss_from])
        suffix = decode(ids[suffix_at + 1:middle_at])
        middle = decode(ids[example.loss_from:-1])
        assert middle.strip()
        assert prefix + middle + suffix in MODULE  # a window of the file, cut at the hole
    docstring = next(e for e in fim if e.kind == "docstring")
    assert decode(docstring.ids[docstring.loss_from:-1]).startswith('"""')
    # The same file and seed give the same examples.
    again = data.file_examples(src, CharEncoder(), FIM, END,
                               data.ExampleShape(holes_per_line=1.0), seed=0)
    assert again == examples


def test_causal_chunks_cover_the_file_in_repository_format() -> None:
    src = source("pkg/shapes.py", MODULE * 3)
    chunks = data.causal_chunks(src, CharEncoder(), FIM, END, tokens=200)
    assert len(chunks) > 3
    text = ""
    for chunk in chunks:
        assert chunk.loss_from == 0 and len(chunk.ids) <= 200
        assert chunk.ids[0] == FIM.file_sep_id
        body = decode(chunk.ids[1:])
        assert body.startswith("pkg/shapes.py\n")
        text += body[len("pkg/shapes.py\n"):]
    assert chunks[-1].ids[-1] == END
    assert text.removesuffix("<5>") == (MODULE * 3)


def test_pack_keeps_every_token_within_the_length_and_masks_prompts() -> None:
    examples = [data.Example(tuple(range(100, 100 + n)), loss_from=n // 2, kind="line",
                             path="a.py") for n in (30, 50, 70, 90, 110, 130)]
    packed = data.pack(examples, 200, seed=1)
    assert all(len(s.ids) <= 200 and len(s.ids) == len(s.labels) for s in packed)
    assert sum(len(s.ids) for s in packed) == sum(len(e.ids) for e in examples)
    assert sum(s.loss_tokens for s in packed) == sum(len(e.ids) - e.loss_from
                                                     for e in examples)
    assert data.pack(examples, 200, seed=1) == packed


def test_end_token_prefers_endoftext() -> None:
    assert data.end_token({"<|endoftext|>": 7, "<|im_end|>": 8}, 8) == 7
    assert data.end_token({"a": 1}, 9) == 9
    with pytest.raises(ValueError):
        data.end_token({"a": 1}, None)
