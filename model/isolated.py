"""Run a one-off heavy job (model conversion) in a child process and relay its progress.

Converting the default GGUF peaks near 3 GB (dequantised fp32 weights plus the rebuilt model).
Done in the serving process, that memory stays mapped for the life of the server; done in a
spawned child, the server only ever holds the final bf16 weights. The child's exceptions come
back with their type when it is one of ours (so a ``WeightsIntegrityError`` stays one).
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable
from typing import Any

from kodama.model.errors import KodamaError, ModelLoadError
from kodama.model.weights import ProgressFn

_POLL_SECONDS = 0.2


def _child(job: Callable[..., Any], args: tuple[Any, ...], channel: Any) -> None:
    def progress(message: str, fraction: float | None) -> None:
        channel.put(("progress", message, fraction))

    try:
        channel.put(("done", job(*args, progress=progress)))
    except KodamaError as exc:
        channel.put(("error", exc))
    except BaseException as exc:  # anything else: its text, never an unpicklable object
        channel.put(("failed", f"{type(exc).__name__}: {exc}"))


def run_isolated(job: Callable[..., Any], *args: Any, progress: ProgressFn | None = None) -> Any:
    """``job(*args, progress=...)`` in a spawned child process; its result or its exception."""
    context = multiprocessing.get_context("spawn")
    channel = context.Queue()
    child = context.Process(target=_child, args=(job, args, channel), daemon=True)
    child.start()
    try:
        while True:
            try:
                message = channel.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if not child.is_alive():
                    raise ModelLoadError(
                        f"The model conversion process stopped unexpectedly (exit code "
                        f"{child.exitcode}); the most likely cause is running out of memory "
                        "(it needs about 3 GB once). Nothing was installed; try again."
                    ) from None
                continue
            kind = message[0]
            if kind == "progress":
                if progress is not None:
                    progress(message[1], message[2])
            elif kind == "done":
                return message[1]
            elif kind == "error":
                raise message[1]
            else:
                raise ModelLoadError(f"Model conversion failed: {message[1]}")
    finally:
        child.join(timeout=30)
        if child.is_alive():
            child.kill()
