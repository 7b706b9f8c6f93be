"""Kodama's test sandbox, loaded into the project's own interpreter (never imported by Kodama).

Copied into the scratch folder where generated tests or examples run, it is imported before
them (as a pytest plugin, ``-p _kodama_sandbox``, or by the example runner) and:

- refuses connections to anything but this machine unless ``KODAMA_SANDBOX_NETWORK=1``;
- as a pytest plugin, writes one JSON line per test event to the file named by
  ``KODAMA_SANDBOX_EVENTS`` (Kodama reads them while the tests run: progress, outcomes, and
  which test was running when a run had to be stopped), and stops a test that runs past
  ``KODAMA_SANDBOX_TEST_TIMEOUT`` seconds (the others go on).

It depends on the standard library only: the project's interpreter may be any Python 3.
"""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import socket
from collections.abc import Generator
from typing import Any

_connect = socket.socket.connect


def _local(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if not isinstance(host, str) or host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _local(address):
        raise OSError(101, f"network access is disabled while Kodama checks tests ({address})")
    _connect(self, address)


if os.environ.get("KODAMA_SANDBOX_NETWORK") != "1":
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]

MESSAGE_LINES = 8
"""Lines of a failure's detail kept for Kodama (the failing line and pytest's ``E`` lines)."""


def _event(record: dict[str, Any]) -> None:
    path = os.environ.get("KODAMA_SANDBOX_EVENTS")
    if path:
        with open(path, "a", encoding="utf-8") as events:
            events.write(json.dumps(record) + "\n")


def _message(report: Any) -> str:
    """The failure's first line, then the test's failing line and pytest's ``E`` lines (the
    actual values of a failed assertion)."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # a skip: (file, line, reason)
        return str(longrepr[-1])
    crash = getattr(longrepr, "reprcrash", None)
    first = str(getattr(crash, "message", "") or "").splitlines()
    text = str(getattr(report, "longreprtext", "") or longrepr or "")
    detail = [line.rstrip() for line in text.splitlines()
              if line.startswith((">", "E ")) and "_TooSlow" not in line][-MESSAGE_LINES:]
    head = first[0] if first else (detail[-1][2:].strip() if detail else "failed")
    return "\n".join([head.replace(f"{__name__}._TooSlow: ", ""), *detail])


class _TooSlow(Exception):
    pass


def _alarm(_signum: int, _frame: Any) -> None:
    limit = os.environ.get("KODAMA_SANDBOX_TEST_TIMEOUT", "")
    raise _TooSlow(f"the test ran past the {limit} s limit")


def pytest_runtest_logstart(nodeid: str, location: Any) -> None:
    _event({"event": "start", "id": nodeid})


def pytest_runtest_logreport(report: Any) -> None:
    if report.when == "call" or report.outcome != "passed":
        _event({"event": "result", "id": report.nodeid, "when": report.when,
                "outcome": report.outcome, "message": "" if report.passed else _message(report)})


def pytest_collectreport(report: Any) -> None:
    if report.failed:
        _event({"event": "collect error", "id": report.nodeid, "message": _message(report)})


try:
    import pytest

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(item: Any) -> Generator[None, None, None]:
        limit = float(os.environ.get("KODAMA_SANDBOX_TEST_TIMEOUT", "0") or 0)
        armed = limit > 0 and hasattr(signal, "setitimer")
        if armed:
            previous = signal.signal(signal.SIGALRM, _alarm)
            signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            yield
        finally:
            if armed:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
except ImportError:  # the example runner, in an environment without pytest
    pass
