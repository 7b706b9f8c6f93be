"""Latest-wins tickets per document."""

from __future__ import annotations

from kodama.server.scheduler import Scheduler


def test_new_ticket_cancels_previous_and_supersedes_it() -> None:
    s = Scheduler()
    n1, c1 = s.ticket("a")
    n2, c2 = s.ticket("a")
    assert c1.is_set() and not c2.is_set()
    assert not s.is_latest("a", n1) and s.is_latest("a", n2)


def test_documents_are_independent_and_forget_cancels() -> None:
    s = Scheduler()
    na, ca = s.ticket("a")
    nb, cb = s.ticket("b")
    assert s.is_latest("a", na) and s.is_latest("b", nb) and not ca.is_set()
    s.forget("a")
    assert ca.is_set() and not s.is_latest("a", na) and not cb.is_set()
