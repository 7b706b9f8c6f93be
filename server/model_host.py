"""The model inside the server: loaded in the background, used by one worker thread.

``ModelHost`` owns the single inference thread. Loading runs there first (so the event loop and
every non-AI request stay responsive while torch and the weights load); afterwards each
completion runs there, one at a time. Requests that arrive before the model is ready are
answered at once with nothing. Torch is imported only inside that thread.

The fine-tuned adapter (``model.adapter``): ``auto`` takes the one ``kodama fine-tune``
installed for the workspace root. A watcher notices a newer install (or a rollback) within
:data:`ADAPTER_POLL_SECONDS` and loads the model again on a helper thread; the old engine
serves until the new one is ready, then the swap happens between two jobs.

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
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from kodama.server.config import ModelConfig
from kodama.server.protocol import ModelStateName

if TYPE_CHECKING:
    from kodama.model.engine import Engine

log = logging.getLogger(__name__)
T = TypeVar("T")

ADAPTER_POLL_SECONDS = 2.0
"""How often the installed adapter's pointer is checked (one ``stat``)."""

ProgressFn = Callable[[str, float | None], None]
StateFn = Callable[[ModelStateName, str], None]


class ModelHost:
    """Background loading and the one inference worker."""

    def __init__(self, config: ModelConfig) -> None:
        """Nothing loads until ``start_loading``."""
        self.config = config
        self.root: Path | None = None
        """Workspace root: whose installed adapter ``adapter = auto`` means."""
        self.engine: Engine | None = None
        self.state: ModelStateName = "disabled"
        self.message = "not started"
        self.adapter: str | None = None
        """Version (or folder) of the adapter in the weights now; None for the base model."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kodama-model")
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._urgent = 0
        self._urgent_lock = threading.Lock()
        self.preempt = _Preempt(self)
        """Set while an urgent job waits or runs: slices of long generations stop for it."""

    @property
    def ready(self) -> bool:
        """Whether completions can be generated now."""
        return self.engine is not None

    def adapter_choice(self) -> tuple[Path | None, str | None, str | None]:
        """(folder, version label, pointer stamp) of the adapter the configuration asks for."""
        from kodama.model.finetune.store import AdapterStore, chosen_adapter

        store = AdapterStore()
        stamp = store.stamp(self.root) if self.config.adapter == "auto" and self.root else None
        folder, label = chosen_adapter(self.config.adapter, self.root, store)
        return folder, label, stamp

    def _build(self, progress: ProgressFn) -> tuple[Engine, str, str | None, str | None]:
        """Load the configured model (with its adapter) into an engine; (engine, message,
        adapter label, stamp)."""
        from kodama.model.engine import Engine
        from kodama.model.loader import load_model

        started = time.perf_counter()
        folder, label, stamp = self.adapter_choice()
        loaded = load_model(self.config.name, dtype=self.config.dtype, progress=progress,
                            threads=self.config.threads, adapter=folder)
        engine = Engine(loaded, quantization=self.config.quantization)
        seconds = time.perf_counter() - started
        weights = loaded.dtype if self.config.quantization == "none" else (
            f"{self.config.quantization} weights, {loaded.dtype} activations")
        tuned = f", fine-tuned adapter {label}" if label else ""
        return engine, f"{loaded.name} ready ({weights}{tuned}, {seconds:.1f} s)", label, stamp

    def start_loading(self, progress: ProgressFn, on_state: StateFn) -> Future[None]:
        """Load the configured model on the worker thread; report progress and the outcome.
        With ``adapter = auto``, a watcher then follows installs for the workspace."""
        self.state, self.message = "loading", f"loading {self.config.name}"
        on_state(self.state, self.message)

        def load() -> None:
            stamp = None
            try:
                self.engine, self.message, self.adapter, stamp = self._build(progress)
            except Exception as exc:  # every failure becomes one clear message; serving goes on
                log.exception("model failed to load")
                self.state, self.message = "error", str(exc) or exc.__class__.__name__
            else:
                self.state = "ready"
                log.info(self.message)
            finally:
                self._ready.set()
                on_state(self.state, self.message)
            if self.config.adapter == "auto" and self.root is not None:
                threading.Thread(target=self._watch, args=(stamp, on_state), daemon=True,
                                 name="kodama-adapter-watch").start()

        return self._executor.submit(load)

    def _watch(self, stamp: str | None, on_state: StateFn) -> None:
        """Reload when the installed adapter changes; the old engine serves meanwhile."""
        from kodama.model.finetune.store import AdapterStore

        assert self.root is not None
        store = AdapterStore()
        while not self._stop.wait(ADAPTER_POLL_SECONDS):
            now = store.stamp(self.root)
            if now == stamp:
                continue
            stamp = now
            log.info("the installed adapter changed: loading the model again")
            try:
                engine, message, label, _ = self._build(lambda _m, _f: None)
            except Exception as exc:
                log.exception("reloading with the new adapter failed")
                on_state(self.state, f"{self.message} — the new adapter failed to load: {exc}")
                continue

            def swap(engine: Engine = engine, message: str = message,
                     label: str | None = label) -> None:
                self.engine, self.message, self.adapter = engine, message, label
                self.state = "ready"

            self._executor.submit(swap).result()
            del engine
            on_state(self.state, self.message)

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
        self._stop.set()
        self._executor.shutdown(wait=False, cancel_futures=True)


class _Preempt:
    """``is_set()`` while the host has urgent work (a cancellation a slice can watch)."""

    def __init__(self, host: ModelHost) -> None:
        self._host = host

    def is_set(self) -> bool:
        """Whether an urgent job is queued or running."""
        return self._host.urgent_waiting
