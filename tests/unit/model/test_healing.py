"""Token healing's vocabulary search: which tokens may come next while a text is pending."""

from __future__ import annotations

import pytest

from kodama.model.healing import Vocabulary

TEXTS = ["(", '("', "()", "a", "ab", "abc", "abd", " ", " foo", " f", "<|eos|>", "\ufffd", "",
         "b", "ab"]
"""Token i has text TEXTS[i]; 10 is special, 11 a partial UTF-8 byte, 12 empty, 14 a duplicate."""


@pytest.fixture
def vocabulary() -> Vocabulary:
    return Vocabulary(TEXTS, excluded=[10])


def texts(vocabulary: Vocabulary, pending: str) -> list[str]:
    return sorted(TEXTS[i] for i in vocabulary.consistent(pending))


def test_tokens_that_start_with_the_pending_text_are_consistent(vocabulary: Vocabulary) -> None:
    assert texts(vocabulary, "(") == ["(", '("', "()"]
    assert texts(vocabulary, " ") == [" ", " f", " foo"]


def test_tokens_that_are_a_proper_prefix_of_the_pending_text_are_consistent(
    vocabulary: Vocabulary,
) -> None:
    assert texts(vocabulary, "abc") == ["a", "ab", "ab", "abc"]
    assert texts(vocabulary, " fo") == [" ", " f", " foo"]


def test_special_partial_and_empty_tokens_are_never_offered(vocabulary: Vocabulary) -> None:
    assert texts(vocabulary, "<") == []
    assert vocabulary.text(10) is None and vocabulary.text(11) is None
    assert vocabulary.text(12) is None
    assert vocabulary.text(1) == '("' and vocabulary.text(14) == "ab"


def test_nothing_pending_is_a_caller_error(vocabulary: Vocabulary) -> None:
    with pytest.raises(ValueError):
        vocabulary.consistent("")
