"""``kodama`` whose model starts loading only once a gate file exists (tests/editors).

    python tests/editors/gated_server.py GATE serve --model MODEL ...

runs ``kodama serve ...`` as usual, except that the model's loading waits until the file GATE
exists (at most :data:`GATE_LIMIT_S`, then it loads anyway): the server says ``loading`` for as
long as a test needs to type into the editor first, and ``ready`` only when the test says so.
The editors' tests use it to show that a suggestion asked for while the model loads comes by
itself once the server reports ready.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from kodama.server import model_host
from kodama.server.commands.cli import main

GATE_LIMIT_S = 180.0
"""The longest the loading waits for the gate (a test that died must not leave a server
waiting forever)."""


def gate_loading(gate: Path) -> None:
    """Make the server's model loading wait for ``gate`` to exist."""
    load = model_host.local_engine

    def load_after_gate(*args: Any, **kwargs: Any) -> Any:
        deadline = time.monotonic() + GATE_LIMIT_S
        while not gate.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return load(*args, **kwargs)

    model_host.local_engine = load_after_gate


if __name__ == "__main__":
    gate_loading(Path(sys.argv[1]))
    raise SystemExit(main(sys.argv[2:]))
