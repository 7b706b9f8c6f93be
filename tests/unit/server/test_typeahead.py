"""Type-ahead: the rest of a suggestion while the user types it, and nothing otherwise."""

from __future__ import annotations

from kodama.server.typeahead import MAX_ENTRIES, TypeAhead

BEFORE, AFTER = "total = sum(", ")\nprint(total)\n"
SUGGESTED = "item.price for item in items"


def typed(chars: str, after: str = AFTER) -> tuple[str, int]:
    text = BEFORE + chars + after
    return text, len(BEFORE) + len(chars)


def test_serves_the_rest_while_the_user_types_the_suggestion() -> None:
    ta = TypeAhead()
    ta.remember("a", BEFORE, AFTER, SUGGESTED)
    assert ta.lookup("a", *typed("")) == SUGGESTED
    assert ta.lookup("a", *typed("item.pr")) == "ice for item in items"


def test_nothing_when_the_user_types_something_else_or_the_rest_changed() -> None:
    ta = TypeAhead()
    ta.remember("a", BEFORE, AFTER, SUGGESTED)
    assert ta.lookup("a", *typed("x")) is None
    assert ta.lookup("a", *typed("item", after=")\nprint(other)\n")) is None
    assert ta.lookup("a", *typed(SUGGESTED)) is None  # fully typed: nothing left to offer
    assert ta.lookup("b", *typed("")) is None
    text, offset = typed("item")
    assert ta.lookup("a", "# edited above\n" + text, offset + 15) is None


def test_entries_are_bounded_and_forgotten() -> None:
    ta = TypeAhead()
    for i in range(MAX_ENTRIES + 2):
        ta.remember("a", BEFORE + " " * i, AFTER, SUGGESTED)
    assert ta.lookup("a", *typed("")) is None  # the oldest entry was dropped
    assert ta.lookup("a", BEFORE + " " * (MAX_ENTRIES + 1) + AFTER,
                     len(BEFORE) + MAX_ENTRIES + 1) == SUGGESTED
    ta.forget("a")
    assert ta.lookup("a", BEFORE + AFTER, len(BEFORE)) is None
