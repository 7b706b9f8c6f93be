"""Fill-in-the-middle prompt building with a token budget for prefix and suffix.

Pure: works on any tokenizer that can ``encode`` text to ids (the real Hugging Face tokenizer or a
fake in tests). The same builder renders serving prompts and, later, fine-tuning examples.

Stability matters as much as size: while the user types, the prompt's token ids must keep the
longest possible common prefix with the previous prompt so the engine can reuse its KV cache.
So the prefix window starts at a line boundary that only moves in steps of ``ANCHOR_LINES``
lines, and the window is recomputed only when it no longer fits.

For the same reason the text already typed on the cursor's line goes after ``<fim_middle>``, as
the start of the middle the model continues, not at the end of the prefix: in the PSM order
(prefix, suffix, middle) a character typed at the end of the prefix changes every token after it,
so each keystroke would prefill the whole suffix again (~250 tokens: 1.7 s of the default model
on a 2-core float32 machine); with the line in the middle, a keystroke appends a token or two to
the prompt, and the suffix is prefilled once per line. This is the model's own training task (the
middle is any span; the typed part is its beginning, as if the model had written it), but only
with token healing: unhealed, a middle that starts with text ending in a lone token (``json.``)
can derail the default model (measured: ``IndentationError: ...`` where the old layout gave
``dump(settings, handle)``), so engines that do not heal (a remote server) get the typed text at
the end of the prefix (``typed_in_middle=False``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from kodama.model.types import CompletionContext

ANCHOR_LINES = 32
"""The prefix window starts on a line number that is a multiple of this (a stable anchor)."""

CHARS_PER_TOKEN_MAX = 8
"""Upper bound on characters per token, used to cut a text window before tokenising it."""


class Encoder(Protocol):
    """The one thing prompt building needs from a tokenizer."""

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` without any special tokens added."""
        ...


@dataclass(frozen=True)
class FimFormat:
    """Special tokens of a model family's fill-in-the-middle format (prefix-suffix-middle order)."""

    name: str
    prefix: str
    suffix: str
    middle: str
    prefix_id: int
    suffix_id: int
    middle_id: int
    file_sep_id: int | None = None
    """Qwen2.5-Coder's repository format: ``<|file_sep|>path\ncode`` per file."""
    repo_name_id: int | None = None


_KNOWN_FORMATS: tuple[tuple[str, str, str, str], ...] = (
    ("qwen", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),
    ("starcoder", "<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
    ("deepseek", "<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"),
    ("codellama", "▁<PRE>", "▁<SUF>", "▁<MID>"),
)


def detect_fim(vocab: Mapping[str, int]) -> FimFormat | None:
    """The FIM format whose three special tokens are all in ``vocab``; None for plain LMs."""
    for name, pre, suf, mid in _KNOWN_FORMATS:
        if pre in vocab and suf in vocab and mid in vocab:
            return FimFormat(name, pre, suf, mid, vocab[pre], vocab[suf], vocab[mid],
                             vocab.get("<|file_sep|>"), vocab.get("<|repo_name|>"))
    return None


@dataclass(frozen=True)
class Budget:
    """Token budget of a completion prompt."""

    prefix_tokens: int = 1024
    """Most tokens of text before the cursor."""
    suffix_tokens: int = 256
    """Most tokens of text after the cursor (ignored by models without FIM)."""
    context_tokens: int = 384
    """Most tokens of repository context (snippets from other files)."""


@dataclass(frozen=True)
class Prompt:
    """A rendered prompt: the ids to feed the model, and which text they cover."""

    ids: list[int]
    prefix_start: int
    """Offset into ``ctx.prefix`` where the included prefix text starts."""
    suffix_end: int
    """Offset into ``ctx.suffix`` where the included suffix text ends."""
    last_prefix: int | None = None
    """Index in ``ids`` of the prefix's last token (None when no prefix text is included)."""


def _line_starts(text: str) -> list[int]:
    starts = [0]
    pos = text.find("\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = text.find("\n", pos + 1)
    return starts


def prefix_window(prefix: str, encoder: Encoder, budget: int) -> tuple[int, list[int]]:
    """Start offset and ids of the longest line-anchored tail of ``prefix`` within ``budget``.

    The start is always a line start whose line number is a multiple of ``ANCHOR_LINES`` (or the
    beginning of the text), unless even the current line alone is over budget, in which case the
    tail is cut at a token boundary.
    """
    if budget <= 0:
        return len(prefix), []
    floor = max(0, len(prefix) - budget * CHARS_PER_TOKEN_MAX)
    starts = _line_starts(prefix)
    anchors = [s for i, s in enumerate(starts) if i % ANCHOR_LINES == 0 and s >= floor]
    if floor > 0 and not anchors:
        anchors = [s for s in starts if s >= floor]
    if floor == 0:
        anchors = [0, *[a for a in anchors if a > 0]]
    # Anchors ascend: the first that fits gives the longest window. Try coarse anchors first,
    # then every line start after the last anchor if none fits.
    for start in anchors:
        ids = encoder.encode(prefix[start:])
        if len(ids) <= budget:
            return start, ids
    last_anchor = anchors[-1] if anchors else floor
    for start in (s for s in starts if s > last_anchor):
        ids = encoder.encode(prefix[start:])
        if len(ids) <= budget:
            return start, ids
    # A single line over budget: keep the last tokens of it.
    start = starts[-1]
    ids = encoder.encode(prefix[start:])
    return start, ids[-budget:]


def suffix_window(suffix: str, encoder: Encoder, budget: int) -> tuple[int, list[int]]:
    """End offset and ids of the longest head of ``suffix`` within ``budget``, cut at a line end."""
    if budget <= 0:
        return 0, []
    end = min(len(suffix), budget * CHARS_PER_TOKEN_MAX)
    while True:
        ids = encoder.encode(suffix[:end])
        if len(ids) <= budget:
            return end, ids
        cut = suffix.rfind("\n", 0, end - 1)
        if cut <= 0:
            # One very long first line: keep whole tokens from its start.
            head = ids[:budget]
            return end, head
        end = cut + 1


COMMENT_PREFIXES = {"python": "#", "javascript": "//", "typescript": "//", "tsx": "//",
                   "go": "//", "rust": "//", "java": "//", "c": "//", "cpp": "//"}


def context_ids(
    ctx: CompletionContext, encoder: Encoder, fim: FimFormat | None, budget: int
) -> tuple[list[int], int]:
    """Token ids of the repository context (snippets in order, whole snippets only, within
    ``budget``) and how many snippets they hold.

    Models with a repository format (Qwen2.5-Coder's ``<|file_sep|>``) get each snippet as a
    file of its own, then the current file's path, exactly as they were trained; other models get
    the snippets as comments headed by their path, in the current language's comment syntax.
    """
    if not ctx.snippets or budget <= 0:
        return [], 0
    ids: list[int] = []
    used = 0
    if fim is not None and fim.file_sep_id is not None:
        for snippet in ctx.snippets:
            part = [fim.file_sep_id, *encoder.encode(f"{snippet.path}\n{snippet.text.rstrip()}\n")]
            if len(ids) + len(part) > budget:
                continue
            ids += part
            used += 1
        if used and ctx.path:
            ids += [fim.file_sep_id, *encoder.encode(f"{ctx.path}\n")]
        return ids, used
    mark = COMMENT_PREFIXES.get(ctx.language or "", "#")
    for snippet in ctx.snippets:
        lines = [f"{mark} {snippet.path}", *(f"{mark} {line}" for line in
                                              snippet.text.rstrip().split("\n"))]
        part = encoder.encode("\n".join(lines) + "\n\n")
        if len(ids) + len(part) > budget:
            continue
        ids += part
        used += 1
    return ids, used


def build_prompt(
    ctx: CompletionContext, encoder: Encoder, fim: FimFormat | None, budget: Budget,
    *, typed_in_middle: bool = True,
) -> Prompt:
    """Render the prompt for ``ctx``: repository context, then PSM fill-in-the-middle with the
    cursor line's typed text as the start of the middle (see the module docstring; at the end
    of the prefix instead without ``typed_in_middle``), or the plain prefix for models without
    FIM."""
    context, _ = context_ids(ctx, encoder, fim, budget.context_tokens)
    start, prefix_ids = prefix_window(ctx.prefix, encoder, budget.prefix_tokens)
    if fim is None:
        ids = [*context, *prefix_ids]
        return Prompt(ids=ids, prefix_start=start, suffix_end=0,
                      last_prefix=len(ids) - 1 if prefix_ids else None)
    end, suffix_ids = suffix_window(ctx.suffix, encoder, budget.suffix_tokens)
    line_start = ctx.prefix.rfind("\n") + 1
    typed: list[int] = []
    if typed_in_middle and start <= line_start < len(ctx.prefix):  # the line has text
        head, line = encoder.encode(ctx.prefix[start:line_start]), encoder.encode(
            ctx.prefix[line_start:])
        if len(head) + len(line) <= budget.prefix_tokens:  # not a line cut to fit the budget
            prefix_ids, typed = head, line
    ids = [*context, fim.prefix_id, *prefix_ids, fim.suffix_id, *suffix_ids, fim.middle_id,
           *typed]
    if typed:
        last_prefix: int | None = len(ids) - 1
    else:
        last_prefix = len(context) + len(prefix_ids) if prefix_ids else None
    return Prompt(ids=ids, prefix_start=start, suffix_end=end, last_prefix=last_prefix)


def common_prefix_length(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two id sequences."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i
