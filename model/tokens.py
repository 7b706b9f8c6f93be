"""Text ↔ token ids with a Hugging Face tokenizer, the same for every backend (torch-free).

The local engine, the remote backend and fine-tuning all encode prompts here, so a prompt's
tokens never depend on where it is generated or trained:

- :class:`PlainText` encodes code as text: literal ``<|fim_middle|>``-like strings in the user's
  code stay text, never control tokens.
- :func:`chat_ids` renders a chat with the model's template (control-token strings in the
  messages are broken up first, for the same reason).
- :func:`stop_ids` are the tokens that end a generation; :func:`prompt_text` turns prompt ids
  back into the text a remote server re-tokenises to the same ids.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

ZERO_WIDTH_SPACE = "\u200b"


class PlainText:
    """The encoder of every prompt, served or trained on: no special tokens added, and literal
    ``<|fim_middle|>``-like strings in the user's code stay text, never control tokens."""

    def __init__(self, tokenizer: Any) -> None:
        """Wrap a Hugging Face tokenizer."""
        self.tokenizer = tokenizer

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``."""
        return list(
            self.tokenizer.encode(text, add_special_tokens=False, split_special_tokens=True)
        )


def _control_strings(tokenizer: Any) -> list[str]:
    """The added tokens' strings (``<|im_start|>`` …), longest first."""
    return sorted((t for t in tokenizer.added_tokens_encoder if len(t) > 1), key=len,
                  reverse=True)


def defuse(text: str, tokenizer: Any) -> str:
    """``text`` with every control-token string broken by a zero-width space, so that a
    tokenizer that parses control tokens in text still reads it as plain text."""
    for token in _control_strings(tokenizer):
        text = text.replace(token, token[0] + ZERO_WIDTH_SPACE + token[1:])
    return text


def defuse_messages(messages: Sequence[Mapping[str, str]], tokenizer: Any) -> list[dict[str, str]]:
    """The chat with control-token strings in its contents defused (see :func:`defuse`)."""
    return [{"role": m["role"], "content": defuse(m["content"], tokenizer)} for m in messages]


def chat_ids(tokenizer: Any, messages: Sequence[Mapping[str, str]]) -> list[int]:
    """Token ids of a chat (``role``/``content`` messages) in the model's chat template, ending
    where the assistant's answer starts; a plain transcript without a template."""
    safe = defuse_messages(messages, tokenizer)
    if getattr(tokenizer, "chat_template", None):
        ids = tokenizer.apply_chat_template(
            safe, add_generation_prompt=True, tokenize=True, return_dict=False)
        return [int(i) for i in ids]
    text = "".join(f"{m['role']}: {m['content']}\n\n" for m in safe) + "assistant: "
    return PlainText(tokenizer).encode(text)


def stop_ids(tokenizer: Any, eos: int | Sequence[int] | None = None) -> frozenset[int]:
    """End-of-text and every special/control token (none belongs in a completion), plus the
    model's own ``eos`` id(s)."""
    ids: set[int] = set(tokenizer.all_special_ids)
    for token_id, added in tokenizer.added_tokens_decoder.items():
        if added.special:
            ids.add(int(token_id))
    if isinstance(eos, int):
        ids.add(eos)
    elif eos is not None:
        ids.update(int(e) for e in eos)
    return frozenset(ids)


def prompt_text(tokenizer: Any, ids: Sequence[int]) -> str:
    """The text of prompt ``ids`` for a server that tokenises text itself, parsing control
    tokens: it re-tokenises to ``ids``, except that a control-token string that was plain text
    in the prompt (typed in the user's code) gets a zero-width space, so it stays text."""
    specials = {int(i) for i in tokenizer.added_tokens_decoder}
    parts: list[str] = []
    run: list[int] = []

    def flush() -> None:
        if run:
            parts.append(defuse(tokenizer.decode(run, skip_special_tokens=False), tokenizer))
            run.clear()

    for token in ids:
        if int(token) in specials:
            flush()
            parts.append(tokenizer.decode([int(token)], skip_special_tokens=False))
        else:
            run.append(int(token))
    flush()
    return "".join(parts)


class Detokenizer:
    """The text of a growing sequence of generated ids, decoding only the last few at each step.

    Decoding the whole output at every token costs more as it grows; this decodes a window of
    a few ids: the text of ``ids[prefix:]`` minus that of ``ids[prefix:read]`` is what the new
    ids add, once it no longer ends in an incomplete character (a byte-level token may hold half
    of one, decoded as U+FFFD). The context ids before ``read`` keep tokenizers that drop a
    word's leading space at the start of a decode honest. ``text`` equals decoding every id at
    once (tests check it on real tokenizers).
    """

    def __init__(self, decode: Callable[[Sequence[int]], str]) -> None:
        """``decode`` turns ids into text (special tokens dropped)."""
        self._decode = decode
        self._ids: list[int] = []
        self._prefix = 0
        self._read = 0
        self._done = ""
        self.text = ""
        """The text of every id pushed so far."""

    def push(self, token: int) -> str:
        """Add one id; the text so far."""
        self._ids.append(token)
        before = self._decode(self._ids[self._prefix:self._read])
        after = self._decode(self._ids[self._prefix:])
        if len(after) > len(before) and not after.endswith("\ufffd"):
            self._done += after[len(before):]
            self._prefix, self._read = self._read, len(self._ids)
            self.text = self._done
        else:  # an incomplete character: show what decodes so far, settle it later
            self.text = self._done + after[len(before):]
        return self.text
