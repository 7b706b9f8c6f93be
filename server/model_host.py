"""The model inside the server: loaded in the background, used by one worker thread.

``ModelHost`` owns the single inference thread. Loading runs there first (so the event loop and
every non-AI request stay responsive while torch and the weights load); afterwards each
completion runs there, one at a time. Requests that arrive before the model is ready are
answered at once with nothing. Torch is imported only inside that thread.

Completions are *urgent*: while one waits for the thread, :attr:`ModelHost.preempt` is set, and
long task generations (explain, docstring, tests), which run in slices that watch it, stop at
their next token and queue their next slice behind the completion.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from kodama.server.config import ModelConfig
from kodama.server.protocol import ModelStateName

if TYPE_CHECKING:
    from kodama.model.engine import Engine

log = logging.getLogger(__name__)
T = TypeVar("T")

ProgressFn = Callable[[str, float | None], None]
StateFn = Callable[[ModelStateName, str], None]


class ModelHost:
    """Background loading and the one inference worker."""

    def __init__(self, config: ModelConfig) -> None:
        """Nothing loads until ``start_loading``."""
        self.config = config
        self.engine: Engine | None = None
        self.state: ModelStateName = "disabled"
        self.message = "not started"
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kodama-model")
        self._ready = threading.Event()
        self._urgent = 0
        self._urgent_lock = threading.Lock()
        self.preempt = _Preempt(self)
        """Set while an urgent job waits or runs: slices of long generations stop for it."""

    @property
    def ready(self) -> bool:
        """Whether completions can be generated now."""
        return self.engine is not None

    def start_loading(self, progress: ProgressFn, on_state: StateFn) -> Future[None]:
        """Load the configured model on the worker thread; report progress and the outcome."""
        self.state, self.message = "loading", f"loading {self.config.name}"
        on_state(self.state, self.message)

        def load() -> None:
            started = time.perf_counter()
            try:
                from kodama.model.engine import Engine
                from kodama.model.loader import load_model

                loaded = load_model(
                    self.config.name,
                    dtype=self.config.dtype,
                    progress=progress,
                    threads=self.config.threads,
                )
                self.engine = Engine(loaded, quantization=self.config.quantization)
            except Exception as exc:  # every failure becomes one clear message; serving goes on
                log.exception("model failed to load")
                self.state, self.message = "error", str(exc) or exc.__class__.__name__
            else:
                seconds = time.perf_counter() - started
                self.state = "ready"
                weights = loaded.dtype if self.config.quantization == "none" else (
                    f"{self.config.quantization} weights, {loaded.dtype} activations")
                self.message = f"{loaded.name} ready ({weights}, {seconds:.1f} s)"
                log.info(self.message)
            finally:
                self._ready.set()
                on_state(self.state, self.message)

        return self._executor.submit(load)

    def wait_loaded(self, timeout: float | None = None) -> bool:
        """Block until loading has finished (successfully or not); for the CLI and tests."""
        return self._ready.wait(timeout)

    async def run(self, fn: Callable[[], T], *, urgent: bool = False) -> T:
        """Run ``fn`` on the inference thread without blocking the event loop; ``urgent`` jobs
        (completions) make running task slices yield to them."""
        loop = asyncio.get_running_loop()
        if not urgent:
            return await loop.run_in_executor(self._executor, fn)
        with self._urgent_lock:
            self._urgent += 1
        try:
            return await loop.run_in_executor(self._executor, fn)
        finally:
            with self._urgent_lock:
                self._urgent -= 1

    @property
    def urgent_waiting(self) -> bool:
        """Whether an urgent job is queued or running."""
        return self._urgent > 0

    def shutdown(self) -> None:
        """Stop accepting work (the running generation is cancelled by its owner)."""
        self._executor.shutdown(wait=False, cancel_futures=True)


class _Preempt:
    """``is_set()`` while the host has urgent work (a cancellation a slice can watch)."""

    def __init__(self, host: ModelHost) -> None:
        self._host = host

    def is_set(self) -> bool:
        """Whether an urgent job is queued or running."""
        return self._host.urgent_waiting
