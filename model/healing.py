"""Token healing: let the model re-choose the last token before the cursor (pure, torch-free).

A cursor seldom sits where the model's tokenizer would have split the text. ``x = `` ends in
a lone space token that real code never has (it writes `` foo`` as one token), ``foo(`` in a
bare ``(`` where code usually has ``("`` or ``()``, ``self.`` in a ``.`` that often belongs to
``.get``. Fed such a prompt, the model sees a token boundary it was never trained on and its
first choice suffers. Healing takes the prefix's last token out of the prompt and makes the
generation start with that token's text: the first token(s) may be any whose text is
consistent with it (``" "`` → ``" foo"``, ``"("`` → ``'("'``), and the text returned starts
after it. Greedy decoding then picks the token the model would have written there.

:class:`Vocabulary` answers which tokens are consistent with the text still to be written;
the engine masks its choice to them until that text is written.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence

__all__ = ["Vocabulary"]

_ABOVE_ALL = "\U0010ffff"
"""Sorts after every text that starts with a given string (as its next character)."""


class Vocabulary:
    """The text of every ordinary token, searchable by the text still to be written."""

    def __init__(self, texts: Sequence[str], excluded: Iterable[int] = ()) -> None:
        """``texts[i]`` is token ``i`` decoded alone; ``excluded`` ids (special tokens) are
        never offered, nor are tokens with an empty text or a partial UTF-8 character."""
        skip = set(excluded)
        entries = sorted(
            (text, index) for index, text in enumerate(texts)
            if index not in skip and text and "\ufffd" not in text
        )
        self._texts = [text for text, _ in entries]
        self._ids = [index for _, index in entries]
        self._healable = {index: text for text, index in entries}

    def text(self, token: int) -> str | None:
        """The text of ``token`` when it may be healed (an ordinary, whole token), else None."""
        return self._healable.get(token)

    def _exact(self, text: str) -> list[int]:
        """The tokens whose text is exactly ``text``."""
        low = bisect_left(self._texts, text)
        high = low
        while high < len(self._texts) and self._texts[high] == text:
            high += 1
        return self._ids[low:high]

    def consistent(self, pending: str) -> list[int]:
        """Tokens that can come next when ``pending`` must be written first: those whose
        text starts with ``pending``, and those whose text is a proper prefix of it."""
        if not pending:
            raise ValueError("nothing pending: every token is consistent")
        low = bisect_left(self._texts, pending)
        high = bisect_left(self._texts, pending + _ABOVE_ALL, low)
        found = list(self._ids[low:high])
        for end in range(1, len(pending)):
            found.extend(self._exact(pending[:end]))
        return found
