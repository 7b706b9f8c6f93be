"""Stop rules applied while the model streams a completion (pure, incremental).

The FIM checkpoints do not stop by themselves: they fill the hole and then carry on writing the
rest of the file. :class:`StopRules` looks at the text generated so far after every token and
says where the completion must end. Post-processing (:mod:`kodama.model.postprocess`) cleans
the result afterwards; these rules only have to be cheap and to stop early.
"""

from __future__ import annotations

import re

from kodama.model.postprocess.common import (
    indent_width,
    is_closer_line,
    line_prefix,
    next_nonblank_line,
    rest_of_line,
)
from kodama.model.types import CompletionContext

__all__ = ["StopRules"]

_NEEDLE_MIN = 6
"""Shortest start of the suffix (stripped, in characters) that is searched for."""
_NEEDLE_MAX = 48
"""Longest start of the suffix (in characters) that is searched for."""
_TRAILING_COMMENT_RE = re.compile(r"\s+(?:#|//).*$")
_BLOCK_OPENERS = (":", "{", "(", "[")
_CONTINUATION_RE = re.compile(r"(?:else|elif|except|finally|catch)\b")
_DEFINITION_RE = re.compile(
    r"(?:@|#\[|(?:async\s+)?def\b|class\b|func\b|fn\b|pub\b|impl\b|struct\b|enum\b|trait\b|"
    r"(?:export\s+)?(?:default\s+)?(?:async\s+)?function\b|interface\b|type\b|"
    r"(?:public|private|protected|static)\b)")
"""Starts of a new definition (a decorator, ``def``, ``class``, ``func``, ``fn``, …)."""


class StopRules:
    """Decides, token after token, where a streamed completion ends.

    :meth:`check` receives the whole text generated so far and returns None (go on) or the
    index into that text where the completion ends. Work is incremental: every completed line
    is examined once, and the search for the suffix only looks at new text. The rules:

    * **single mode** — the completion ends at the first newline (a leading newline ends it at
      once: the completion is empty).
    * **start of the suffix reproduced** (both modes) — when the generated text contains the
      start of the suffix (its first non-blank line, stripped, first 48 characters; only when
      that is at least 6 characters long), the completion ends where that copy begins.
    * **multi mode**, judged on each completed line:

      - *dedent below the block* — the block being written has the indentation of the first
        non-blank line after the cursor line when the cursor line opens a block (ends with
        ``:``, ``{``, ``(`` or ``[``) that the user started typing, otherwise that of the cursor
        line (on an empty line the first generated statement may open a block — ``for …:`` —
        and the lines after that block still belong to the body being written). A later line
        indented less ends the completion before it. When that line only closes brackets
        (``}``, ``)``, ``});`` …) at the level of the line that opened the block (the cursor
        line when it opens the block, else the nearest prefix line indented less than the
        block), it closes the block: it is kept when the completion itself wrote the opener at
        the end of the cursor line, or when the suffix does not already provide it (the
        suffix's next non-blank text does not start with the same closer); otherwise, and at
        any other level, it is dropped. When the completion wrote the opener, a line at the
        cursor line's level that starts with a closer (``) + 1``, ``});``) is kept and ends the
        completion, and one that goes on with the construct and opens a new block (``} else
        {``, ``) -> int:``, Python's ``else:``/``elif``/``except``/``finally``) does not stop
        it: the next block is measured afresh.
      - *blank line followed by a new definition* — a line indented less than the previous
        non-blank line, with blank lines in between, that starts a definition (a decorator,
        ``def``, ``class``, ``func``, ``fn``, ``function`` …) ends the completion before the
        blank lines (``return result`` after a blank line still belongs to the body).
      - *a line equal to the next non-empty line of the suffix* (stripped comparison; for a
        line made only of closing brackets the indentation must match too) ends the completion
        before it. The rest of the cursor line, when not blank and not only closing brackets,
        is compared as well. On the cursor line itself this applies only when the prefix's
        part of it is blank (the completion then is ``''``).
      - *repeated lines* — a non-blank line identical (indentation included) to the two
        non-blank lines before it (blank lines between them do not count) ends the completion
        before it, keeping two copies.
      - *max_lines* — the completion holds at most ``max_lines`` lines (the cursor line is the
        first).

    A cut never leaves trailing blank lines: when the text before the cut ends with whitespace
    that contains a newline, that whitespace is dropped too. Once a cut is returned, later calls
    return the same cut. If the text passed in is not a continuation of the previous one (a
    tokenizer re-decoded a partial character), the state is rebuilt.
    """

    def __init__(self, ctx: CompletionContext, max_lines: int = 16) -> None:
        """Prepare the rules for one completion request at ``ctx``."""
        if max_lines < 1:
            raise ValueError("max_lines must be at least 1")
        self.ctx = ctx
        self.max_lines = max_lines
        self._multi = ctx.mode == "multi"
        self._line_prefix = line_prefix(ctx)
        rest = rest_of_line(ctx).strip()
        self._rest_target = rest if rest and not is_closer_line(rest) else None
        after = ctx.suffix.find("\n")
        self._next_line: str | None = (
            next_nonblank_line(ctx.suffix, after + 1) if after >= 0 else None
        )
        first = next_nonblank_line(ctx.suffix)
        head = first.strip()[0] if first else ""
        self._suffix_closer = head if head in ")]}" else None
        needle = first.strip()[:_NEEDLE_MAX] if first else ""
        self._needle = needle if len(needle) >= _NEEDLE_MIN else None
        self._reset()

    def _reset(self) -> None:
        """Forget everything learnt from the generated text (a fresh start)."""
        self._cut: int | None = None
        self._seen = ""  # the text of the previous call
        self._line_start = 0  # where the first line not judged yet starts
        self._line_index = 0  # its number (0: the cursor line)
        # Indentation of the cursor line (with the prefix's part), None when it is blank.
        self._anchor: int | None = None
        self._opens_block = False  # the cursor line ends with a block opener
        self._own_opener = False  # ... and the completion wrote that opener
        self._block: int | None = None  # indentation of the block being written
        self._last_indent: int | None = None  # of the last non-blank line
        self._blank_after_content = False
        self._recent: list[str] = []  # the last two non-blank lines
        self._outer_indent: int | None = None  # see _enclosing_indent
        self._outer_known = False

    def check(self, generated: str) -> int | None:
        """Return None to continue, or the index of ``generated`` where the completion ends."""
        if self._cut is not None:
            return min(self._cut, len(generated))
        if generated.startswith(self._seen):
            fresh = len(self._seen)  # the usual case: the text only grew
        elif generated.startswith(self._seen[: self._line_start]):
            fresh = self._line_start  # the unfinished line was re-decoded
        else:
            self._reset()
            fresh = 0
        cuts: list[int] = []
        needle = self._needle
        if needle is not None:
            found = generated.find(needle, max(0, fresh - len(needle) + 1))
            if found >= 0:
                cuts.append(self._clean_cut(generated, found))
        while True:
            end = generated.find("\n", self._line_start)
            if end < 0:
                break
            cut = self._on_line(generated, self._line_start, end)
            self._line_start = end + 1
            self._line_index += 1
            if cut is not None:
                cuts.append(cut)
                break
        self._seen = generated
        if cuts:
            self._cut = min(cuts)
            return self._cut
        return None

    @staticmethod
    def _clean_cut(text: str, index: int) -> int:
        """``index``, moved back over trailing whitespace when that whitespace has a newline."""
        kept = len(text[:index].rstrip())
        return kept if "\n" in text[kept:index] else index

    def _on_line(self, text: str, start: int, end: int) -> int | None:
        """Judge the completed line ``text[start:end]``; a cut index, or None."""
        if not self._multi:
            return end
        line = text[start:end]
        if self._line_index == 0:
            return self._on_first_line(line)
        if not line.strip():
            if self._last_indent is not None:
                self._blank_after_content = True
            return self._max_lines_cut(text, end)
        indent = indent_width(line)
        if self._block is None:
            self._block = self._block_indent(indent)
        if indent < self._block:
            if self._continues_own_construct(line, indent):
                self._block = None  # e.g. ``} else {``: a new block at the same level follows
            elif is_closer_line(line) and self._closes_own_block(line, indent):
                return self._clean_cut(text, end)
            elif self._own_opener and indent == self._anchor and line.lstrip()[0] in ")]}":
                return self._clean_cut(text, end)  # ``) + 1``, ``});``: ends what it opened
            else:
                return self._clean_cut(text, start)
        if (
            self._blank_after_content
            and self._last_indent is not None
            and indent < self._last_indent
            and _DEFINITION_RE.match(line.lstrip()) is not None
        ):
            return self._clean_cut(text, start)
        if self._equals_suffix_line(line):
            return self._clean_cut(text, start)
        stripped = line.rstrip()
        if len(self._recent) == 2 and self._recent[0] == self._recent[1] == stripped:
            return self._clean_cut(text, start)
        self._recent = [*self._recent[-1:], stripped]
        self._last_indent = indent
        self._blank_after_content = False
        return self._max_lines_cut(text, end)

    def _on_first_line(self, line: str) -> int | None:
        """Record the cursor line (prefix part + first generated line)."""
        full = self._line_prefix + line
        if full.strip():
            self._anchor = indent_width(full)
            code = _TRAILING_COMMENT_RE.sub("", full.rstrip())
            self._opens_block = code.endswith(_BLOCK_OPENERS)
            # The opener was generated (not typed): the suffix cannot hold its closer.
            self._own_opener = self._opens_block and len(code) > len(self._line_prefix)
            self._last_indent = self._anchor
            self._recent = [full.rstrip()]
            if not self._line_prefix.strip() and self._equals_suffix_line(full):
                return 0
        return self._max_lines_cut(line, len(line))

    def _max_lines_cut(self, text: str, end: int) -> int | None:
        """Cut at ``end`` (the end of the current line) when ``max_lines`` lines are done."""
        if self._line_index + 1 >= self.max_lines:
            return self._clean_cut(text, end)
        return None

    def _block_indent(self, first_indent: int) -> int:
        """Indentation of the block being written, from the first non-blank line after line 0."""
        if self._anchor is None:
            return first_indent
        if self._opens_block and self._line_prefix.strip():
            return first_indent if first_indent > self._anchor else self._anchor + 1
        return self._anchor

    def _continues_own_construct(self, line: str, indent: int) -> bool:
        """Whether ``line`` goes on with the construct the completion opened on the cursor line.

        That is a line at the cursor line's level that starts with a closing bracket or with
        ``else``/``elif``/``except``/``finally``/``catch`` and opens a new block at its end
        (``} else {``, ``) -> int:``, ``else:``), when the completion wrote the first opener.
        """
        if not self._own_opener or indent != self._anchor:
            return False
        code = _TRAILING_COMMENT_RE.sub("", line.rstrip()).strip()
        if not code.endswith(_BLOCK_OPENERS):
            return False
        return code[0] in ")]}" or _CONTINUATION_RE.match(code) is not None

    def _closes_own_block(self, line: str, indent: int) -> bool:
        """Whether closer ``line`` at ``indent`` closes the block being written and is missing."""
        own = self._anchor if self._opens_block else self._enclosing_indent()
        if own is None or indent != own:
            return False
        return self._own_opener or self._suffix_closer != line.strip()[0]

    def _enclosing_indent(self) -> int | None:
        """Indentation of the nearest prefix line indented less than the block (computed once)."""
        if not self._outer_known:
            self._outer_known = True
            block = self._block if self._block is not None else 0
            prefix = self.ctx.prefix
            end = prefix.rfind("\n")
            while end > 0:
                start = prefix.rfind("\n", 0, end) + 1
                line = prefix[start:end]
                if line.strip() and indent_width(line) < block:
                    self._outer_indent = indent_width(line)
                    break
                end = start - 1
        return self._outer_indent

    def _equals_suffix_line(self, line: str) -> bool:
        """Whether ``line`` repeats the rest of the cursor line or the suffix's next line."""
        stripped = line.strip()
        if self._rest_target is not None and stripped == self._rest_target:
            return True
        target = self._next_line
        if target is None:
            return False
        if is_closer_line(target):
            return line.rstrip() == target.rstrip()
        return stripped == target.strip()
