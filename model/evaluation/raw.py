"""The bare-model baseline: what the model does with a plain fill-in-the-middle prompt.

Every figure of ``kodama eval`` is read against this: no repository context, no file path, no
line-anchored window, no stop rules beyond the first line break of a single-line hole, and no
post-processing. The prompt is the last :data:`RAW_PREFIX_TOKENS` tokens before the cursor and
the first :data:`RAW_SUFFIX_TOKENS` after it, in the model's prefix-suffix-middle order (the
prefix alone for a model without fill-in-the-middle tokens). ``kodama eval --context raw`` runs
it on unquantised bf16 weights.
"""

from __future__ import annotations

from kodama.model.completion import Completion, CompletionSettings, TextGenerator
from kodama.model.prompt import CHARS_PER_TOKEN_MAX
from kodama.model.types import CompletionContext

RAW_PREFIX_TOKENS = 768
"""Most tokens before the cursor in a raw prompt."""
RAW_SUFFIX_TOKENS = 256
"""Most tokens after the cursor in a raw prompt."""


def raw_prompt(ctx: CompletionContext, engine: TextGenerator) -> list[int]:
    """The plain FIM prompt for ``ctx``: the prefix's last and the suffix's first tokens."""
    head = ctx.prefix[-RAW_PREFIX_TOKENS * CHARS_PER_TOKEN_MAX:]
    prefix = engine.encode(head)[-RAW_PREFIX_TOKENS:]
    fim = engine.fim
    if fim is None:
        return prefix
    tail = ctx.suffix[: RAW_SUFFIX_TOKENS * CHARS_PER_TOKEN_MAX]
    suffix = engine.encode(tail)[:RAW_SUFFIX_TOKENS]
    return [fim.prefix_id, *prefix, fim.suffix_id, *suffix, fim.middle_id]


def _first_line(text: str) -> int | None:
    cut = text.find("\n")
    return None if cut < 0 else cut


def complete_raw(ctx: CompletionContext, engine: TextGenerator, settings: CompletionSettings,
                 cache_key: str) -> Completion:
    """Greedy generation from :func:`raw_prompt`, unchanged: a single-line hole gets the first
    line; a multi-line one everything up to the end-of-text token or the token limit."""
    single = ctx.mode == "single"
    generation = engine.generate(
        raw_prompt(ctx, engine),
        max_new_tokens=settings.max_new_tokens_single if single else
        settings.max_new_tokens_multi,
        stop=_first_line if single else lambda _text: None,
        cache_key=cache_key,
    )
    return Completion(text=generation.text, raw=generation.text, mode=ctx.mode,
                      generation=generation)
