"""The model inside the server: loaded in the background, used by one worker thread.

``ModelHost`` owns the single inference thread. Loading runs there first (so the event loop and
every non-AI request stay responsive while torch and the weights load); afterwards each
completion runs there, one at a time. Requests that arrive before the model is ready are
answered at once with nothing. Torch is imported only inside that thread.

The fine-tuned adapter (``model.adapter``): ``auto`` takes the one ``kodama fine-tune``
installed for the workspace root. A watcher notices a newer install (or a rollback) within
:data:`ADAPTER_POLL_SECONDS` and loads the model again on a helper thread; the old engine
serves until the new one is ready, then the swap happens between two jobs.

With ``remote.url`` set, generation happens on a shared OpenAI-compatible server
(``kodama.model.remote``): only the tokenizer loads here, requests run on a small pool of I/O
threads (the server handles concurrency), and the server's health drives the state: down →
``error`` with the reason (or, with ``remote.fallback = local``, the local model is loaded and
serves until the server answers again), back → ``ready``.

An adapter that cannot be applied (damaged, unsafe, trained for another model) is reported in
the state's message and the base model serves; a newer install that fails to load leaves the
running engine serving.

Completions are *urgent*: while one waits for the thread, :attr:`ModelHost.preempt` is set, and
long task generations (explain, docstring, tests), which run in slices that watch it, stop at
their next token and queue their next slice behind the completion.

Memory: once loading is over, a watcher compares the process's resident memory with
``model.memory_budget_mb`` every :data:`MEMORY_POLL_SECONDS`. Past it, the engine's
per-document KV caches are dropped (each time) and, the first time, the listeners of
:attr:`ModelHost.on_memory_pressure` are told (the workspace turns repository context off
and drops its index), so the server degrades instead of being killed.
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

from kodama.model.types import ProgressFn
from kodama.server.config import ModelConfig, RemoteConfig
from kodama.server.protocol import ModelStateName
from kodama.server.setup import local_engine, remote_engine

if TYPE_CHECKING:
    from kodama.model.engine import Engine
    from kodama.model.remote import RemoteEngine

log = logging.getLogger(__name__)
T = TypeVar("T")

REMOTE_WORKERS = 4
"""Threads that wait on the remote server (completions and tasks of several documents)."""

ADAPTER_POLL_SECONDS = 2.0
"""How often the installed adapter's pointer is checked (one ``stat``)."""
MEMORY_POLL_SECONDS = 5.0
"""How often the process's resident memory is compared with the budget."""
AUTOMATIC_BUDGET = 0.75
"""Share of the machine's memory the server may use when ``model.memory_budget_mb`` is 0."""

StateFn = Callable[[ModelStateName, str], None]
PressureFn = Callable[[str], None]
"""Told once, with a message for the user, when the memory budget is first exceeded."""


def memory_budget(megabytes: int) -> int:
    """The budget in bytes: ``megabytes``, or (0) :data:`AUTOMATIC_BUDGET` of the machine's
    memory."""
    import psutil

    if megabytes > 0:
        return megabytes * 1024 * 1024
    return int(psutil.virtual_memory().total * AUTOMATIC_BUDGET)


def resident_bytes() -> int:
    """This process's resident memory."""
    import psutil

    return int(psutil.Process().memory_info().rss)


class ModelHost:
    """Background loading and the one inference worker."""

    def __init__(self, config: ModelConfig, remote: RemoteConfig | None = None) -> None:
        """Nothing loads until ``start_loading``."""
        self.config = config
        self.remote_config = remote or RemoteConfig()
        self.remote: RemoteEngine | None = None
        """The remote backend, when ``remote.url`` is set."""
        self.local: Engine | None = None
        """The local engine: the backend, or the remote one's fallback once loaded."""
        self.root: Path | None = None
        """Workspace root: whose installed adapter ``adapter = auto`` means."""
        self.engine: Engine | RemoteEngine | None = None
        """What requests use now: the remote engine while its server is healthy, else the
        local one (if any)."""
        self.state: ModelStateName = "disabled"
        self.message = "not started"
        self.adapter: str | None = None
        """Version (or folder) of the adapter in the weights now; None for the base model."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kodama-model")
        self._io: ThreadPoolExecutor | None = None
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._urgent = 0
        self._urgent_lock = threading.Lock()
        self.preempt = _Preempt(self)
        """Set while an urgent job waits or runs: slices of long generations stop for it."""
        self.on_memory_pressure: list[PressureFn] = []
        """Told once when the memory budget is first exceeded (see the module docstring)."""
        self.degraded = False
        """Whether the memory budget was exceeded (repository context is off since)."""

    @property
    def ready(self) -> bool:
        """Whether completions can be generated now."""
        return self.engine is not None

    @property
    def identity(self) -> str:
        """Which model answers now (the remote one while it is used or down, else the local
        model with its adapter): what cached answers are keyed by."""
        if self.remote is not None and self.engine in (None, self.remote):
            return f"{self.remote.model_name} at {self.remote.endpoint.base}"
        return f"{self.config.name} + {self.adapter}"

    def adapter_choice(self) -> tuple[Path | None, str | None, str | None]:
        """(folder, version label, pointer stamp) of the adapter the configuration asks for."""
        from kodama.model.finetune.store import AdapterStore, chosen_adapter

        store = AdapterStore()
        stamp = store.stamp(self.root) if self.config.adapter == "auto" and self.root else None
        folder, label = chosen_adapter(self.config.adapter, self.root, store)
        return folder, label, stamp

    def _build(self, progress: ProgressFn, *, base_if_refused: bool = True,
               ) -> tuple[Engine, str, str | None, str | None]:
        """Load the configured model (with its adapter) into an engine; (engine, message,
        adapter label, stamp). An adapter that cannot be applied leaves the base model
        (``base_if_refused``; the message says why), or raises."""
        from kodama.model.loader import AdapterLoadError

        started = time.perf_counter()
        folder, label, stamp = self.adapter_choice()
        refused = ""
        try:
            engine, loaded = local_engine(self.config, folder, progress)
        except AdapterLoadError as exc:
            if not base_if_refused:
                raise
            log.warning("%s; serving the base model", exc)
            engine, loaded = local_engine(self.config, None, progress)
            label, refused = None, f"; the fine-tuned adapter was not loaded: {exc}"
        seconds = time.perf_counter() - started
        weights = loaded.dtype if self.config.quantization == "none" else (
            f"{self.config.quantization} weights, {loaded.dtype} activations")
        tuned = f", fine-tuned adapter {label}" if label else ""
        return (engine, f"{loaded.name} ready ({weights}{tuned}, {seconds:.1f} s){refused}",
                label, stamp)

    def start_loading(self, progress: ProgressFn, on_state: StateFn) -> Future[None]:
        """Load the configured model on the worker thread; report progress and the outcome.
        With ``adapter = auto``, a watcher then follows installs for the workspace."""
        if self.remote_config.url:
            return self._start_remote(progress, on_state)
        self.state, self.message = "loading", f"loading {self.config.name}"
        on_state(self.state, self.message)

        def load() -> None:
            stamp = None
            try:
                self.local, self.message, self.adapter, stamp = self._build(progress)
                self.engine = self.local
            except Exception as exc:  # every failure becomes one clear message; serving goes on
                log.exception("model failed to load")
                self.state, self.message = "error", str(exc) or exc.__class__.__name__
            else:
                self.state = "ready"
                log.info(self.message)
            finally:
                self._ready.set()
                on_state(self.state, self.message)
            self._watch_memory()
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
                engine, message, label, _ = self._build(lambda _m, _f: None,
                                                        base_if_refused=False)
            except Exception as exc:
                log.exception("reloading with the new adapter failed")
                on_state(self.state, f"{self.message} — the new adapter failed to load: {exc}")
                continue

            def swap(engine: Engine = engine, message: str = message,
                     label: str | None = label) -> None:
                self.engine = self.local = engine
                self.message, self.adapter = message, label
                self.state = "ready"

            self._executor.submit(swap).result()
            del engine
            on_state(self.state, self.message)

    def _start_remote(self, progress: ProgressFn, on_state: StateFn) -> Future[None]:
        """Load the tokenizer, reach the server, and follow its health from then on."""
        remote = self.remote_config
        assert remote.url is not None
        self.state, self.message = "loading", f"connecting to {remote.url}"
        on_state(self.state, self.message)
        self._io = ThreadPoolExecutor(max_workers=REMOTE_WORKERS,
                                      thread_name_prefix="kodama-remote")

        def health(healthy: bool, problem: str) -> None:
            self._remote_health(healthy, problem, on_state)

        def connect() -> None:
            from kodama.model.remote import RemoteError

            try:
                self.remote = remote_engine(remote, self.config, progress, on_health=health)
                described = self.remote.connect()
            except RemoteError as exc:
                assert self.remote is not None
                self.remote.mark_down(str(exc))
            except Exception as exc:
                log.exception("the remote backend failed to start")
                self.state, self.message = "error", str(exc) or exc.__class__.__name__
                on_state(self.state, self.message)
            else:
                self.engine, self.state = self.remote, "ready"
                self.message = f"remote: {described}"
                on_state(self.state, self.message)
            finally:
                self._ready.set()
            self._watch_memory()

        return self._executor.submit(connect)

    def _remote_health(self, healthy: bool, problem: str, on_state: StateFn) -> None:
        """The remote server went down or came back: switch backends and tell the user."""
        assert self.remote is not None
        if healthy:
            self.engine, self.state = self.remote, "ready"
            self.message = f"remote: {self.remote.model_name} at {self.remote.endpoint.base}"
            on_state(self.state, self.message)
            return
        if self.remote_config.fallback == "local":
            if self.local is not None:
                self.engine, self.state = self.local, "ready"
                self.message = f"{problem} — using the local model until it is back"
                on_state(self.state, self.message)
                return
            self.engine, self.state = None, "loading"
            self.message = f"{problem} — loading the local model meanwhile"
            on_state(self.state, self.message)
            self._executor.submit(self._load_fallback, on_state)
            return
        self.engine, self.state, self.message = None, "error", problem
        on_state(self.state, self.message)

    def _load_fallback(self, on_state: StateFn) -> None:
        """Load the local model for ``remote.fallback = local`` (once)."""
        if self.local is not None:
            return
        try:
            self.local, message, self.adapter, _ = self._build(lambda _m, _f: None)
        except Exception as exc:
            log.exception("the local fallback model failed to load")
            self.state, self.message = "error", f"{self.message}; the local model failed: {exc}"
            on_state(self.state, self.message)
            return
        if self.remote is not None and not self.remote.healthy:
            self.engine, self.state = self.local, "ready"
            self.message = f"{self.remote.problem} — using the local model ({message})"
            on_state(self.state, self.message)

    # ------------------------------------------------------------------ memory
    def _watch_memory(self) -> None:
        """Check the memory now (loading is what grows it most), then every
        :data:`MEMORY_POLL_SECONDS` on a thread of its own."""
        self.check_memory()

        def watch() -> None:
            while not self._stop.wait(MEMORY_POLL_SECONDS):
                self.check_memory()

        threading.Thread(target=watch, daemon=True, name="kodama-memory-watch").start()

    def check_memory(self) -> bool:
        """Compare the resident memory with the budget; past it, drop the KV caches and, the
        first time, tell the :attr:`on_memory_pressure` listeners. Whether it is past."""
        try:
            used, budget = resident_bytes(), memory_budget(self.config.memory_budget_mb)
        except Exception:  # no way to measure here: nothing to do
            log.debug("cannot measure the memory", exc_info=True)
            return False
        if used <= budget:
            return False
        if self.local is not None:
            self.local.forget_all()
        if not self.degraded:
            self.degraded = True
            message = (f"Kodama uses {used / 2**20:,.0f} MB, more than its memory budget of "
                       f"{budget / 2**20:,.0f} MB (model.memoryBudgetMb): repository context "
                       "is off and its index and caches are dropped; restart the server to "
                       "turn them back on")
            log.warning(message)
            for listener in self.on_memory_pressure:
                try:
                    listener(message)
                except Exception:
                    log.exception("degrading under memory pressure failed")
        return True

    def wait_loaded(self, timeout: float | None = None) -> bool:
        """Block until loading has finished (successfully or not); for the CLI and tests."""
        return self._ready.wait(timeout)

    async def run(self, fn: Callable[[], T], *, urgent: bool = False) -> T:
        """Run ``fn`` on the inference thread without blocking the event loop; ``urgent`` jobs
        (completions) make running task slices yield to them."""
        loop = asyncio.get_running_loop()
        executor = self._io or self._executor
        if not urgent:
            return await loop.run_in_executor(executor, fn)
        with self._urgent_lock:
            self._urgent += 1
        try:
            return await loop.run_in_executor(executor, fn)
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
        if self._io is not None:
            self._io.shutdown(wait=False, cancel_futures=True)
        if self.remote is not None:
            self.remote.close()


class _Preempt:
    """``is_set()`` while the host has urgent work (a cancellation a slice can watch)."""

    def __init__(self, host: ModelHost) -> None:
        self._host = host

    def is_set(self) -> bool:
        """Whether an urgent job is queued or running."""
        return self._host.urgent_waiting
