"""Prompt building: budgets, line anchors, FIM rendering, cache-friendly stability."""

from __future__ import annotations

import itertools

from kodama.model.prompt import (
    ANCHOR_LINES,
    Budget,
    build_prompt,
    common_prefix_length,
    detect_fim,
    prefix_window,
    suffix_window,
)
from kodama.model.types import CompletionContext


class CharEncoder:
    """One token per character: budgets become character counts."""

    def encode(self, text: str) -> list[int]:
        return [ord(c) for c in text]


ENC = CharEncoder()
QWEN_VOCAB = {"<|fim_prefix|>": 1, "<|fim_suffix|>": 2, "<|fim_middle|>": 3, "a": 4}


def test_detect_fim_qwen_and_plain() -> None:
    fim = detect_fim(QWEN_VOCAB)
    assert fim is not None and fim.name == "qwen"
    assert (fim.prefix_id, fim.suffix_id, fim.middle_id) == (1, 2, 3)
    assert detect_fim({"a": 1, "<fim_prefix>": 2}) is None
    star = detect_fim({"<fim_prefix>": 7, "<fim_suffix>": 8, "<fim_middle>": 9})
    assert star is not None and star.name == "starcoder"


def test_whole_prefix_when_it_fits() -> None:
    start, ids = prefix_window("abc\ndef\n", ENC, 100)
    assert start == 0 and len(ids) == 8


def test_prefix_window_starts_on_an_anchor_line_and_fits() -> None:
    lines = [f"line{i:03d}" for i in range(200)]
    prefix = "\n".join(lines) + "\n    return "
    start, ids = prefix_window(prefix, ENC, 500)
    assert len(ids) <= 500
    assert start == 0 or prefix[start - 1] == "\n"
    line_number = prefix[:start].count("\n")
    assert line_number % ANCHOR_LINES == 0
    assert prefix.endswith("".join(map(chr, ids)))


def test_prefix_window_is_stable_while_typing() -> None:
    body = "".join(f"x{i} = {i}\n" for i in range(300))
    starts = [prefix_window(body + "y = " + "a" * k, ENC, 1200)[0] for k in range(40)]
    moves = sum(1 for a, b in itertools.pairwise(starts) if a != b)
    # 40 keystrokes move the window start at most once (by a whole anchor block), where a
    # per-line window would move on every line's worth of characters.
    assert moves <= 1
    assert all(prefix_window(body + "y = ", ENC, 1200)[0] <= s for s in starts)


def test_single_huge_line_keeps_last_tokens() -> None:
    _start, ids = prefix_window("q" * 5000, ENC, 64)
    assert len(ids) == 64


def test_suffix_window_cuts_at_line_end() -> None:
    suffix = "".join(f"line {i}\n" for i in range(100))
    end, ids = suffix_window(suffix, ENC, 30)
    assert len(ids) <= 30 and suffix[end - 1] == "\n"
    assert suffix[:end] == "".join(map(chr, ids))


def test_build_prompt_psm_order_and_plain_fallback() -> None:
    ctx = CompletionContext(prefix="def f():\n    ", suffix="\nprint(f())\n", language="python")
    fim = detect_fim(QWEN_VOCAB)
    prompt = build_prompt(ctx, ENC, fim, Budget(prefix_tokens=100, suffix_tokens=100))
    # prefix up to the cursor's line, suffix, then the middle, which starts with the typed text
    assert prompt.ids[0] == 1
    i, m = prompt.ids.index(2), prompt.ids.index(3)
    assert "".join(map(chr, prompt.ids[1:i])) == "def f():\n"
    assert "".join(map(chr, prompt.ids[i + 1 : m])) == ctx.suffix
    assert "".join(map(chr, prompt.ids[m + 1 :])) == "    "
    assert prompt.last_prefix == len(prompt.ids) - 1
    plain = build_prompt(ctx, ENC, None, Budget())
    assert "".join(map(chr, plain.ids)) == ctx.prefix


def test_without_healing_the_typed_text_ends_the_prefix() -> None:
    ctx = CompletionContext(prefix="def f():\n    ret", suffix="\n", language="python")
    prompt = build_prompt(ctx, ENC, detect_fim(QWEN_VOCAB), Budget(), typed_in_middle=False)
    assert prompt.ids[-1] == 3
    assert "".join(map(chr, prompt.ids[1:prompt.ids.index(2)])) == ctx.prefix
    assert prompt.last_prefix == prompt.ids.index(2) - 1


def test_at_a_line_start_the_middle_is_empty() -> None:
    ctx = CompletionContext(prefix="x = 1\n", suffix="y = 2\n", language="python")
    prompt = build_prompt(ctx, ENC, detect_fim(QWEN_VOCAB), Budget())
    assert prompt.ids[-1] == 3
    assert "".join(map(chr, prompt.ids[1 : prompt.ids.index(2)])) == ctx.prefix
    assert prompt.last_prefix == prompt.ids.index(2) - 1  # the prefix's last token (healing)
    empty = build_prompt(CompletionContext(prefix="", suffix="y\n", language="python"), ENC,
                         detect_fim(QWEN_VOCAB), Budget())
    assert empty.ids == [1, 2, ord("y"), ord("\n"), 3] and empty.last_prefix is None


def test_each_keystroke_appends_to_the_previous_prompt() -> None:
    """Typing on a line only adds tokens at the end: the engine prefills the new ones only."""
    body = "import os\n\ndef f(path):\n"
    line = "    return os.path.join(path)"
    suffix = "\n\nprint(f('x'))\n" * 20
    fim = detect_fim(QWEN_VOCAB)
    prompts = [build_prompt(CompletionContext(prefix=body + line[:n], suffix=suffix,
                                              language="python"), ENC, fim, Budget()).ids
               for n in range(1, len(line) + 1)]
    for before, after in itertools.pairwise(prompts):
        assert after[: len(before)] == before and len(after) == len(before) + 1


def test_a_cursor_line_longer_than_the_window_stays_in_the_prefix() -> None:
    ctx = CompletionContext(prefix="x = 1\n" + "y" * 50, suffix="\n", language="python")
    prompt = build_prompt(ctx, ENC, detect_fim(QWEN_VOCAB), Budget(prefix_tokens=20))
    assert prompt.ids[-1] == 3 and prompt.ids[1 : prompt.ids.index(2)] == [ord("y")] * 20


def test_common_prefix_length() -> None:
    assert common_prefix_length([1, 2, 3], [1, 2, 4]) == 2
    assert common_prefix_length([], [1]) == 0
    assert common_prefix_length([5, 6], [5, 6]) == 2


def test_repository_context_uses_file_separators_when_the_model_has_them() -> None:
    from kodama.model.types import Snippet

    vocab = {**QWEN_VOCAB, "<|file_sep|>": 5, "<|repo_name|>": 6}
    fim = detect_fim(vocab)
    assert fim is not None and fim.file_sep_id == 5
    ctx = CompletionContext(
        prefix="x = helper(", suffix=")\n", language="python", path="app/main.py",
        snippets=(Snippet("app/util.py", "def helper(a):\n    return a\n", "definition"),
                  Snippet("big.py", "z" * 500, "retrieved")),
    )
    prompt = build_prompt(ctx, ENC, fim, Budget(context_tokens=100))
    text = "".join(chr(i) if i >= 10 else f"<{i}>" for i in prompt.ids)
    assert text.startswith("<5>app/util.py\ndef helper(a):\n    return a\n<5>app/main.py\n<1>")
    assert "zzz" not in text  # over budget: left out whole, never cut in half


def test_repository_context_as_comments_for_other_models() -> None:
    from kodama.model.types import Snippet

    ctx = CompletionContext(prefix="let x = f(", suffix="", language="rust",
                            snippets=(Snippet("src/f.rs", "fn f(a: i32) -> i32 { a }"),))
    prompt = build_prompt(ctx, ENC, detect_fim(QWEN_VOCAB), Budget())
    text = "".join(chr(i) if i >= 10 else f"<{i}>" for i in prompt.ids)
    # the cursor's line is the file's first: all of it is typed text, after the middle marker
    assert text.startswith("// src/f.rs\n// fn f(a: i32) -> i32 { a }\n\n<1><2><3>let x = f(")
