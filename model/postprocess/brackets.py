"""Filter ``brackets``: close the brackets the completion opened and left open (conservative).

Rule: only brackets opened inside the completion and still open at its end are considered, and
only for languages whose strings and comments the scanner knows. The suffix's unmatched closing
brackets (those that close something opened before the suffix) are compared with what is open:

* they close the completion's open brackets and then everything the prefix left open → the
  suffix already closes them: unchanged;
* they close (part of) what the prefix left open and nothing more → the completion's brackets
  get their closers, innermost first, after its last non-blank character: on its line when
  opened there, otherwise on a new line with the indentation of the line that opened them
  (whitespace that ended the completion stays after the closers);
* anything else (the completion closes a bracket with the wrong kind, the suffix holds extra or
  mismatched closers) → unchanged.

The closers the suffix already has are therefore never added.
"""

from __future__ import annotations

from kodama.model.postprocess.common import (
    CLOSERS,
    OPENERS,
    bracket_tokens,
    line_prefix,
    pop_to,
    scanned_language,
)
from kodama.model.types import CompletionContext

__all__ = ["brackets"]


def brackets(ctx: CompletionContext, text: str) -> str:
    """Apply the ``brackets`` rule (see the module docstring) to ``text``."""
    if not text.strip() or not scanned_language(ctx.language):
        return text
    start, end = len(ctx.prefix), len(ctx.prefix) + len(text)
    stack: list[tuple[str, int]] = []
    own: list[tuple[str, int]] | None = None
    needed: list[str] = []
    suffix_depth = 0
    closing: list[str] = []
    for token in bracket_tokens(ctx.language, ctx.prefix + text + ctx.suffix):
        if token.pos < end:
            if token.char in OPENERS:
                stack.append((token.char, token.pos))
            elif stack and stack[-1][0] == CLOSERS[token.char]:
                stack.pop()
            elif token.pos >= start:
                return text  # the completion closes a bracket it cannot close
            else:
                pop_to(stack, CLOSERS[token.char])
            continue
        if own is None:
            own = [entry for entry in stack if entry[1] >= start]
            if not own:
                return text
            needed = [OPENERS[char] for char, _ in reversed(stack)]
        if token.char in OPENERS:
            suffix_depth += 1
        elif suffix_depth:
            suffix_depth -= 1
        else:
            closing.append(token.char)
            if len(closing) >= len(needed):
                break
    if own is None:
        own = [entry for entry in stack if entry[1] >= start]
        needed = [OPENERS[char] for char, _ in reversed(stack)]
    if not own:
        return text
    if closing[: len(needed)] == needed:
        return text
    from_prefix = needed[len(own) :]
    if len(closing) > len(from_prefix) or closing != from_prefix[: len(closing)]:
        return text
    # Closers go after the last non-blank character; the whitespace after it (trim keeps one
    # line break before text that follows on the cursor line) stays after the closers.
    kept = text.rstrip()
    tail = text[len(kept) :]
    if "\n" in tail:
        tail = tail[tail.rfind("\n") :]
    return kept + _closers(ctx, kept, [(char, pos - start) for char, pos in own]) + tail


def _closers(ctx: CompletionContext, text: str, own: list[tuple[str, int]]) -> str:
    """Closers for ``own`` (opener, index in ``text``), innermost first, placed as documented.

    ``text`` ends with its last non-blank character.
    """
    lines = text.split("\n")
    last = len(lines) - 1
    out = ""
    for char, pos in reversed(own):
        row = text.count("\n", 0, pos)
        if row == last:
            out += OPENERS[char]
        else:
            line = line_prefix(ctx) + lines[0] if row == 0 else lines[row]
            indent = line[: len(line) - len(line.lstrip(" \t"))]
            out += "\n" + indent + OPENERS[char]
    return out
