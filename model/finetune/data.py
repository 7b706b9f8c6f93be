"""Training data from a repository: which files, which split, which examples.

Pure (no torch): the model is behind :class:`kodama.model.prompt.Encoder`.

1. :func:`collect` walks the repository like ``kodama eval`` does (``.gitignore`` and
   ``.kodamaignore``, vendored, build, generated, minified, binary and huge files skipped) and
   then drops, with a counted reason, files that hold secrets (:mod:`.secrets`) and
   near-duplicates (:mod:`.dedup`). Only source files of languages with a grammar are read at
   all, so lock files, data and documentation never are. :func:`audit` lists every file read
   (with its split) and every path left out, with the reason (``--list-files``).
2. :func:`split` assigns each file to ``train``, ``validation`` or ``test`` from a hash of its
   path and the seed: deterministic, and stable when the repository changes (a file keeps its
   split, so the test files of a later run were never trained on).
3. :func:`file_examples` renders fill-in-the-middle examples at syntactic boundaries (inside a
   line, to the end of a line, whole block bodies, docstrings and the code they document) with
   the same prompt builder that serving uses, the middle followed by the end-of-text token, and
   plain causal chunks in the repository format; :func:`pack` packs them into training
   sequences with the loss on the middles (and on the whole of causal chunks).
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from kodama.model.config import FineTuneConfig
from kodama.model.evaluation import Cut, SourceFile, find_candidates, walk_repository
from kodama.model.finetune.dedup import near_duplicates
from kodama.model.finetune.secrets import secret_reason
from kodama.model.prompt import Budget, Encoder, FimFormat, build_prompt
from kodama.model.types import CompletionContext, Mode
from kodama.syntax.docstrings import python_docstring_spans
from kodama.syntax.walk import SKIP_REASONS, OnSkip

Split = Literal["train", "validation", "test"]
ExampleKind = Literal["inside", "line", "block", "docstring", "body", "causal"]

__all__ = [
    "Audit",
    "Corpus",
    "Example",
    "ExampleShape",
    "PackedSequence",
    "SourceFile",
    "audit",
    "causal_chunks",
    "collect",
    "end_token",
    "file_examples",
    "pack",
    "split",
    "walk_repository",
]

IGNORE_INDEX = -100
"""Label of a token that carries no loss (the prompt of a fill-in-the-middle example)."""

# ------------------------------------------------------------------------- files
@dataclass
class Corpus:
    """The repository's trainable files and what was left out, and why."""

    root: Path
    files: list[SourceFile]
    skipped: Counter[str] = field(default_factory=Counter)
    """Reason → number of files left out after the walk (secrets, near-duplicates)."""
    examples_of_skips: dict[str, list[str]] = field(default_factory=dict)
    """Reason → the first few paths, for the report."""

    def skip(self, reason: str, path: str) -> None:
        """Count one file left out for ``reason``."""
        self.skipped[reason] += 1
        shown = self.examples_of_skips.setdefault(reason, [])
        if len(shown) < 5:
            shown.append(path)


def collect(root: Path, *, dedup_threshold: float = 0.85,
            on_skip: OnSkip | None = None) -> Corpus:
    """The files of ``root`` that may be trained on, in sorted path order.

    Beyond :func:`kodama.model.evaluation.walk_repository`'s rules, a file is left out when
    :func:`~kodama.model.finetune.secrets.secret_reason` finds a secret (by name or content),
    or when it nearly duplicates an earlier file (the first copy in path order is kept).
    Secrets are also looked for, by name, among files the walk lists but that are not read as
    source (``.env``, keys), so the report can say how many were seen and skipped.
    ``on_skip`` hears every path left out and why: the walk's and the reading's reasons,
    ``secret: <rule>`` and ``near-duplicate of <path>``.
    """
    root = root.resolve()
    corpus = Corpus(root, [])
    hear = on_skip or _silent

    def left_out(rel: str, reason: str) -> None:
        secret = None if reason in SKIP_REASONS else secret_reason(rel, "")
        if secret is not None:
            reason = f"secret: {secret}"
            corpus.skip(reason, rel)
        hear(rel, reason)

    kept: list[SourceFile] = []
    for source in walk_repository(root, on_skip=left_out):
        secret = secret_reason(source.path, source.text)
        if secret is not None:
            corpus.skip(f"secret: {secret}", source.path)
            hear(source.path, f"secret: {secret}")
            continue
        kept.append(source)
    dropped = near_duplicates([s.text for s in kept], threshold=dedup_threshold)
    for index, original in sorted(dropped.items()):
        corpus.skip("near-duplicate", kept[index].path)
        hear(kept[index].path, f"near-duplicate of {kept[original].path}")
    corpus.files = [s for i, s in enumerate(kept) if i not in dropped]
    return corpus


def _silent(rel: str, reason: str) -> None:
    """Hears nothing."""


@dataclass(frozen=True)
class Audit:
    """What a fine-tune of a repository would read, and what it would not, and why."""

    root: Path
    read: dict[str, Split]
    """Path → split of every file read (trained on, or held out for validation or test)."""
    skipped: dict[str, str]
    """Path → why it is left out; a folder's path ends with ``/`` (nothing in it is read)."""

    def rows(self) -> list[tuple[str, str, str]]:
        """``(status, path, reason)`` for every path, sorted by path: status is the split, or
        ``skip`` (the reason is empty for files read)."""
        rows: list[tuple[str, str, str]] = [(name, path, "") for path, name in self.read.items()]
        rows += [("skip", path, reason) for path, reason in self.skipped.items()]
        return sorted(rows, key=lambda row: row[1])

    def to_json(self) -> dict[str, Any]:
        """The audit as JSON data (``--list-files --json``)."""
        return {"format": 1, "root": str(self.root),
                "files": [{"path": path, "split": status} if status != "skip" else
                          {"path": path, "skipped": reason}
                          for status, path, reason in self.rows()]}


def audit(root: Path, config: FineTuneConfig) -> Audit:
    """Every file a fine-tune of ``root`` with ``config`` would read, with its split, and
    every path it passes over, with the reason (:func:`collect` and :func:`split`, as the run
    does them)."""
    skipped: dict[str, str] = {}
    corpus = collect(root, on_skip=skipped.__setitem__)
    read = split(corpus.files, seed=config.seed, test_fraction=config.test_fraction,
                 validation_fraction=config.validation_fraction)
    return Audit(corpus.root, read, skipped)


# ------------------------------------------------------------------------- split
def _unit(seed: int, path: str) -> float:
    digest = hashlib.sha256(f"{seed}:{path}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split(files: Sequence[SourceFile], *, seed: int = 0, test_fraction: float = 0.1,
          validation_fraction: float = 0.05) -> dict[str, Split]:
    """Path → split. Each file's split depends only on its path and ``seed``.

    With three files or more there is at least one test and one validation file (the files
    with the lowest hash values move there when the fractions give none).
    """
    if not 0 <= test_fraction < 1 or not 0 <= validation_fraction < 1 or \
            test_fraction + validation_fraction >= 1:
        raise ValueError("test and validation fractions must be in [0, 1) and sum below 1")
    units = {f.path: _unit(seed, f.path) for f in files}
    result: dict[str, Split] = {}
    for path, unit in units.items():
        if unit < test_fraction:
            result[path] = "test"
        elif unit < test_fraction + validation_fraction:
            result[path] = "validation"
        else:
            result[path] = "train"
    if len(files) >= 3:
        wanted: Split
        for wanted in ("test", "validation"):
            if wanted not in result.values():
                train = sorted((u, p) for p, u in units.items() if result[p] == "train")
                result[train[0][1]] = wanted
    return result


# ---------------------------------------------------------------------- examples
@dataclass(frozen=True)
class ExampleShape:
    """How training examples are cut and rendered."""

    prefix_tokens: int = 256
    """Most tokens of text before the hole (serving allows more; training keeps it short so
    more holes fit in the time budget)."""
    suffix_tokens: int = 96
    """Most tokens of text after the hole."""
    middle_tokens: int = 96
    """Longest middle (with its end token); longer holes are not used."""
    causal_tokens: int = 384
    """Length of a plain causal chunk."""
    holes_per_line: float = 0.25
    """Fill-in-the-middle examples per code line of a file."""
    mix: tuple[float, float, float] = (0.05, 0.5, 0.45)
    """Shares of holes inside a line, to the end of a line, and whole blocks."""
    max_block_lines: int = 32
    """Longest block body used as a multi-line hole."""


@dataclass(frozen=True)
class Example:
    """One training example: token ids and where its loss starts."""

    ids: tuple[int, ...]
    loss_from: int
    """Tokens before this index carry no loss (the prompt); 0 for causal chunks."""
    kind: ExampleKind
    path: str


def _word_boundaries(text: str, start: int, end: int) -> list[int]:
    """Offsets strictly inside ``(start, end)`` where a word meets a non-word character."""
    found = []
    for pos in range(start + 1, end):
        a, b = text[pos - 1], text[pos]
        if (a.isalnum() or a == "_") != (b.isalnum() or b == "_") and not b.isspace():
            found.append(pos)
    return found


def _holes(source: SourceFile, shape: ExampleShape,
           rng: random.Random) -> list[tuple[ExampleKind, int, int]]:
    """Where to cut fill-in-the-middle examples: (kind, start, end) in code points."""
    candidates = find_candidates(source, max_block_lines=shape.max_block_lines)
    code_lines = len(candidates.single)
    wanted = max(1, round(code_lines * shape.holes_per_line)) if code_lines else 0
    lines = list(candidates.single)
    rng.shuffle(lines)
    blocks: list[Cut] = list(candidates.multi)
    rng.shuffle(blocks)
    holes: list[tuple[ExampleKind, int, int]] = []
    inside, to_end, _ = shape.mix
    for index in range(wanted):
        draw = rng.random()
        if draw >= inside + to_end and blocks:
            cut = blocks.pop()
            holes.append(("block", cut.start, cut.end))
            continue
        if index >= len(lines):
            continue
        cut = rng.choice(lines[index])
        if draw < inside:
            inner = _word_boundaries(source.text, cut.start, cut.end)
            if inner:
                holes.append(("inside", cut.start, rng.choice(inner)))
                continue
        holes.append(("line", cut.start, cut.end))
    if source.language == "python":
        holes += _docstring_holes(source.text)
    return holes


def _docstring_holes(text: str) -> list[tuple[ExampleKind, int, int]]:
    """A docstring as the middle (code → documentation), and the body after a function's
    docstring (documentation → code)."""
    holes: list[tuple[ExampleKind, int, int]] = []
    for start, end in python_docstring_spans(text):
        line_start = text.rfind("\n", 0, start) + 1
        if start == 0 or text[line_start:start].strip():
            continue
        holes.append(("docstring", start, end))
        indent = text[line_start:start]
        body_start = text.find("\n", end) + 1
        if body_start <= 0:
            continue
        body_end = body_start
        for line in text[body_start:].split("\n"):
            if line.strip() and not line.startswith(indent):
                break
            body_end += len(line) + 1
        body_end = len(text[:body_end].rstrip())
        code_start = body_start + len(text[body_start:body_end]) - len(
            text[body_start:body_end].lstrip())
        if code_start < body_end and text[code_start - len(indent):code_start] == indent:
            holes.append(("body", code_start, body_end))
    return holes


def end_token(vocab: dict[str, int], eos_token_id: int | None) -> int:
    """The token that ends a middle: ``<|endoftext|>`` where the vocabulary has it (what
    Qwen2.5-Coder's FIM pre-training uses), else the tokenizer's end-of-sequence token."""
    for name in ("<|endoftext|>", "<eos>", "</s>"):
        if name in vocab:
            return vocab[name]
    if eos_token_id is None:
        raise ValueError("the tokenizer has no end-of-text token to end a middle with")
    return eos_token_id


def file_examples(source: SourceFile, encoder: Encoder, fim: FimFormat | None, end_id: int,
                  shape: ExampleShape, seed: int) -> list[Example]:
    """Every training example of one file (deterministic for a file text and ``seed``)."""
    rng = random.Random(f"{seed}:{source.path}")
    examples: list[Example] = []
    if fim is not None:
        budget = Budget(prefix_tokens=shape.prefix_tokens, suffix_tokens=shape.suffix_tokens,
                        context_tokens=0)
        for kind, start, end in _holes(source, shape, rng):
            middle = [*encoder.encode(source.text[start:end]), end_id]
            if len(middle) > shape.middle_tokens:
                continue
            mode: Mode = "multi" if kind in ("block", "docstring", "body") else "single"
            ctx = CompletionContext(prefix=source.text[:start], suffix=source.text[end:],
                                    language=source.language, mode=mode, path=source.path)
            prompt = build_prompt(ctx, encoder, fim, budget).ids
            examples.append(Example((*prompt, *middle), len(prompt), kind, source.path))
    examples += causal_chunks(source, encoder, fim, end_id, shape.causal_tokens)
    return examples


def causal_chunks(source: SourceFile, encoder: Encoder, fim: FimFormat | None, end_id: int,
                  tokens: int) -> list[Example]:
    """The file in whole-line chunks of at most ``tokens`` tokens, each headed the way serving
    shows repository files (``<|file_sep|>path``), the last one closed by the end token. (A
    single line longer than a chunk is cut.)"""
    head = [fim.file_sep_id] if fim is not None and fim.file_sep_id is not None else []
    chunks: list[Example] = []
    lines = source.text.split("\n")
    current: list[str] = []

    def flush(last: bool) -> None:
        if not current:
            return
        text = "\n".join(current) + ("" if last else "\n")
        ids = [*head, *encoder.encode(f"{source.path}\n{text}")]
        if last:
            ids.append(end_id)
        chunks.append(Example(tuple(ids[:tokens]), 0, "causal", source.path))
        current.clear()

    room = tokens - len(head) - len(encoder.encode(f"{source.path}\n")) - 1
    size = 0
    for line in lines:
        cost = len(encoder.encode(line + "\n"))
        if current and size + cost > room:
            flush(False)
            size = 0
        current.append(line)
        size += cost
    flush(True)
    return chunks


# ------------------------------------------------------------------------- packing
@dataclass(frozen=True)
class PackedSequence:
    """A packed training sequence: ids and labels (:data:`IGNORE_INDEX` where no loss)."""

    ids: list[int]
    labels: list[int]

    @property
    def loss_tokens(self) -> int:
        """Tokens that carry loss."""
        return sum(1 for label in self.labels if label != IGNORE_INDEX)


def pack(examples: Sequence[Example], length: int, seed: int) -> list[PackedSequence]:
    """Examples shuffled (``seed``) and packed greedily into sequences of at most ``length``
    tokens (an example longer than that is cut to it, keeping its start)."""
    order = list(examples)
    random.Random(seed).shuffle(order)
    packed: list[PackedSequence] = []
    ids: list[int] = []
    labels: list[int] = []
    for example in order:
        tokens = list(example.ids[:length])
        if ids and len(ids) + len(tokens) > length:
            packed.append(PackedSequence(ids, labels))
            ids, labels = [], []
        ids += tokens
        labels += [IGNORE_INDEX] * min(example.loss_from, len(tokens)) + tokens[
            example.loss_from:]
    if ids:
        packed.append(PackedSequence(ids, labels))
    return packed
