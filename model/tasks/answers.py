"""Reading the model's answers: code blocks, Markdown, and the text between them."""

from __future__ import annotations

import re

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<ticks>`{3,}|~{3,})[ \t]*(?P<tag>[\w+#.-]*)[^\n]*$",
                    re.MULTILINE)


def code_blocks(text: str) -> list[tuple[str, str]]:
    """Every fenced code block of ``text`` as (tag, code), in order; an unclosed last block runs
    to the end of the text (a generation cut by its token budget)."""
    blocks: list[tuple[str, str]] = []
    pos = 0
    while True:
        opening = _FENCE.search(text, pos)
        if opening is None:
            return blocks
        ticks = opening["ticks"]
        body_start = opening.end() + 1
        closing = re.compile(rf"^[ \t]*{re.escape(ticks[0])}{{{len(ticks)},}}[ \t]*$",
                             re.MULTILINE).search(text, body_start)
        end = len(text) if closing is None else closing.start()
        blocks.append((opening["tag"].lower(), text[body_start:end].rstrip("\n")))
        if closing is None:
            return blocks
        pos = closing.end()


def main_code(text: str, tag: str = "") -> str:
    """The code of an answer: the longest fenced block (one tagged ``tag`` preferred), or the
    whole answer when it has no fences."""
    blocks = code_blocks(text)
    if not blocks:
        return text.strip("\n")
    tagged = [code for block_tag, code in blocks if tag and block_tag == tag]
    return max(tagged or [code for _, code in blocks], key=len)


def tidy_markdown(text: str) -> str:
    """A Markdown answer without surrounding blank lines, trailing spaces, or runs of more than
    one blank line; an unclosed code fence (a cut answer) is closed."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if not line and out and not out[-1]:
            continue
        out.append(line)
    result = "\n".join(out)
    if len(_FENCE.findall(result)) % 2:
        result += "\n```"
    return result
