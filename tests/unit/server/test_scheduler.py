"""Latest-wins tickets per document."""

from __future__ import annotations

from kodama.server.scheduler import Scheduler


def test_new_ticket_supersedes_the_previous_one() -> None:
    s = Scheduler()
    n1 = s.ticket("a")
    n2 = s.ticket("a")
    assert not s.is_latest("a", n1) and s.is_latest("a", n2)


def test_documents_are_independent_and_forget_drops_one() -> None:
    s = Scheduler()
    na = s.ticket("a")
    nb = s.ticket("b")
    assert s.is_latest("a", na) and s.is_latest("b", nb)
    s.forget("a")
    assert not s.is_latest("a", na) and s.is_latest("b", nb)


def test_debounce_adapts_to_the_typing_pace(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from kodama.server import scheduler as mod

    clock = [100.0]
    monkeypatch.setattr(mod.time, "monotonic", lambda: clock[0])
    s = Scheduler()
    assert s.debounce_ms("a", 120) == 120  # no pace known yet
    for _ in range(5):  # a fast typist: 40 ms between keystrokes
        s.ticket("a")
        clock[0] += 0.040
    assert round(s.debounce_ms("a", 120)) == 50  # 1.25 × 40 ms
    for _ in range(9):  # a slower typist: capped at the configured value
        s.ticket("a")
        clock[0] += 0.300
    assert s.debounce_ms("a", 120) == 120
    clock[0] += 5  # a pause is not a pace
    s.ticket("b")
    clock[0] += 0.001
    s.ticket("b")
    assert s.debounce_ms("b", 120) == mod.MIN_DEBOUNCE_MS
