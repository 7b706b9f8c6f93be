"""Re-targeting state (kodama.server.inflight): which keystrokes keep a generation running."""

from __future__ import annotations

from kodama.server.inflight import Flights, agrees, rest_after


def test_agrees_while_either_text_is_a_prefix_of_the_other() -> None:
    assert agrees("", "")
    assert agrees("", "x") and agrees("retu", "")
    assert agrees("return total", "ret") and agrees("ret", "return")
    assert not agrees("return total", "rex") and not agrees("yield", "r")


def test_rest_after_what_was_typed() -> None:
    assert rest_after("return total", "ret") == "urn total"
    assert rest_after("return total", "") == "return total"
    assert rest_after("return total", "rex") == ""
    assert rest_after("return  ", "return") == ""  # only whitespace left: nothing to show


def test_a_keystroke_that_agrees_keeps_the_flight_and_says_what_was_typed() -> None:
    flights = Flights()
    flight = flights.begin("a", "def f():\n    ", "\n")
    flight.watch("return x")
    followed = flights.follow("a", "def f():\n    ret", "\n")
    assert followed == (flight, "ret") and flight.typed == "ret" and not flight.is_set()
    # Typing further than the model has written so far still agrees.
    assert flights.follow("a", "def f():\n    return x + 1", "\n") == (flight, "return x + 1")
    assert not flight.is_set()
    # ... until the model writes something else: it stops at its next token.
    flight.watch("return x\n")
    assert flight.is_set()


def test_a_keystroke_that_disagrees_stops_the_flight() -> None:
    for prefix, suffix in [
        ("def f():\n    rex", "\n"),  # typed other than the model wrote
        ("def f():\n   ", "\n"),  # deleted
        ("def f():\n    ret", "\n\n"),  # the text after the cursor changed
        ("x = 1\n", "\n"),  # elsewhere
    ]:
        flights = Flights()
        flight = flights.begin("a", "def f():\n    ", "\n")
        flight.watch("return x")
        assert flights.follow("a", prefix, suffix) is None, prefix
        assert flight.stopped and flight.is_set()
        assert flights.follow("a", "def f():\n    ", "\n") is None  # forgotten


def test_a_new_flight_stops_the_old_one_and_an_old_end_keeps_the_new() -> None:
    flights = Flights()
    old = flights.begin("a", "x", "")
    new = flights.begin("a", "y", "")
    assert old.stopped and not new.stopped
    flights.end("a", old)
    assert flights.follow("a", "y", "") == (new, "")
    flights.end("a", new)
    assert flights.follow("a", "y", "") is None
    other = flights.begin("b", "z", "")
    flights.stop("b")
    assert other.stopped
