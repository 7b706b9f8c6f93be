"""kodama.model.evaluation.raw: the bare-model baseline's prompt and its untouched answer."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kodama.model.completion import CompletionSettings, Generation
from kodama.model.evaluation import (
    RAW_PREFIX_TOKENS,
    RAW_SUFFIX_TOKENS,
    complete_raw,
    raw_prompt,
)
from kodama.model.prompt import FimFormat
from kodama.model.types import CompletionContext, Snippet

from .fakes import FIM


class Scripted:
    """A character-token model that writes a fixed text (stopping where ``stop`` says)."""

    heals_tokens = True

    def __init__(self, answer: str, fim: FimFormat | None = FIM) -> None:
        self.answer = answer
        self._fim = fim
        self.prompts: list[list[int]] = []

    @property
    def fim(self) -> FimFormat | None:
        return self._fim

    def encode(self, text: str) -> list[int]:
        return [ord(c) for c in text]

    def generate(self, ids: Sequence[int], *, max_new_tokens: int,
                 stop: Callable[[str], int | None], cancel: object = None,
                 cache_key: str | None = None,
                 heal_at: int | None = None) -> Generation:
        self.prompts.append(list(ids))
        text = ""
        for ch in self.answer[:max_new_tokens]:
            text += ch
            cut = stop(text)
            if cut is not None:
                return Generation(text[:cut], "stop", len(text), len(ids))
        return Generation(text, "eos", len(text), len(ids))


def test_raw_prompt_is_plain_fim_of_the_last_and_first_tokens() -> None:
    ctx = CompletionContext(prefix="p" * 5000 + "x = ", suffix="\ny = 1\n" + "s" * 5000,
                            language="python", path="a.py",
                            snippets=(Snippet("b.py", "def b(): ...\n"),))
    ids = raw_prompt(ctx, Scripted(""))
    assert ids[0] == FIM.prefix_id and ids[-1] == FIM.middle_id
    split = ids.index(FIM.suffix_id)
    prefix, suffix = ids[1:split], ids[split + 1:-1]
    assert len(prefix) == RAW_PREFIX_TOKENS and "".join(map(chr, prefix)).endswith("x = ")
    assert len(suffix) == RAW_SUFFIX_TOKENS and "".join(map(chr, suffix)).startswith("\ny = 1")
    text = "".join(chr(i) for i in ids if i < 0x110000)
    assert "def b" not in text and "a.py" not in text, "no repository snippet, no path"


def test_raw_prompt_of_a_causal_model_is_the_prefix_alone() -> None:
    ctx = CompletionContext(prefix="x = ", suffix="\n", language="python")
    assert raw_prompt(ctx, Scripted("", fim=None)) == [ord(c) for c in "x = "]


def test_single_line_raw_answer_is_the_first_line_untouched() -> None:
    ctx = CompletionContext(prefix="value = compute(", suffix="\nprint(value)\n",
                            language="python")
    # No filter runs: the trailing comment and the unclosed call stay as the model wrote them.
    engine = Scripted("a, b  # why\nprint(value)\n")
    done = complete_raw(ctx, engine, CompletionSettings(), "k")
    assert done.text == "a, b  # why"


def test_multi_line_raw_answer_runs_to_the_end_of_text() -> None:
    ctx = CompletionContext(prefix="def f():\n    ", suffix="\n", language="python",
                            mode="multi")
    answer = "return 1\n\ndef g():\n    return 2\n"
    done = complete_raw(ctx, Scripted(answer), CompletionSettings(), "k")
    assert done.text == answer, "no stop rule: the bare model's text as it came"
