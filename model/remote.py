"""Remote generation: Kodama's own prompts, completed by a shared OpenAI-compatible server.

A team runs one inference server (vLLM, llama.cpp's server, TGI, Ollama); every editor's
``kodama serve`` still parses, builds the context and the prompt, post-processes and validates
locally, exactly as with the local model, and only the generation travels:

- **Completions** send the rendered fill-in-the-middle prompt to ``/v1/completions``.
- **Tasks** (explain, docstring, tests) send their chat to ``/v1/chat/completions``, so the
  server applies its model's own chat template. An answer with a *prefill* (its first words
  written by Kodama, as docstrings and tests have) goes to ``/v1/completions`` instead, rendered
  with the local tokenizer's template and the prefill after it: the only portable way to make
  a server continue an answer.

Both stream (server-sent events): the stop rules see the text as it grows and a cut closes the
stream, as does the editor's cancellation, so the server stops generating at once. Waiting is
bounded (``timeout``: for the first token and between tokens; connecting, 3 s at most);
connection failures and 429 / 5xx answers before any token are retried with doubling back-off;
every other failure is a :class:`RemoteError` with a message for the user. A slow answer (no
token in time) fails only that request. After the server fails otherwise (it cannot be reached,
breaks off, answers 5xx or refuses the key or the model) the engine is *unhealthy*:
requests fail at once (the editor never waits on a dead server) while a probe asks the server
for its models every :data:`PROBE_SECONDS`, and the first answer makes it healthy again.

The tokenizer is local (no weights): prompt budgets and the FIM format need it, and the
prompt's text is written so the server re-tokenises it to the same ids (:func:`prompt_text`).
The API key comes from the environment and is sent only as a bearer token, never logged.
HTTP runs on a private event loop thread (httpx), so callers stay plain synchronous code on
any thread, like the local engine's.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from kodama.model.completion import Cancellation, Generation, StopReason
from kodama.model.errors import KodamaError
from kodama.model.prompt import FimFormat, detect_fim
from kodama.model.tasks.generate import ChatRequest, prompt_ids
from kodama.model.tokens import PlainText, chat_ids, defuse_messages, prompt_text, stop_ids

log = logging.getLogger(__name__)
T = TypeVar("T")

PROBE_SECONDS = 2.0
"""How often an unhealthy engine asks the server whether it is back."""
BACKOFF_SECONDS = 0.25
"""First retry delay; it doubles with every further attempt."""
CANCEL_POLL_SECONDS = 0.02
"""How often a waiting caller checks its cancellation."""
CONNECT_SECONDS = 3.0
"""Longest wait to connect: a server that does not accept a connection by then is down."""
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
"""HTTP statuses worth another attempt (overloaded or restarting servers)."""


class RemoteError(KodamaError):
    """The remote server could not give an answer; the message says why and what to do."""

    def __init__(self, message: str, *, this_request_only: bool = False) -> None:
        """``this_request_only``: the server works, it refused this one request (400, 413,
        422: a prompt too long, say), so its health does not change."""
        super().__init__(message)
        self.this_request_only = this_request_only


@dataclass(frozen=True)
class Endpoint:
    """Where and how to reach the server (from the ``remote.*`` settings)."""

    url: str
    """Base URL of the OpenAI API, e.g. ``http://gpu-box:8000/v1``."""
    model: str | None = None
    """Model name sent with each request; None: the first one ``/models`` lists."""
    api_key: str | None = field(default=None, repr=False)
    """Bearer token (never printed: ``repr`` leaves it out)."""
    timeout_s: float = 15.0
    """First-token and between-token limit (connecting: at most :data:`CONNECT_SECONDS`)."""
    retries: int = 2
    """Attempts after the first, before any token arrived."""

    @property
    def base(self) -> str:
        """The URL without a trailing slash."""
        return self.url.rstrip("/")


HealthFn = Callable[[bool, str], None]
"""Called with (healthy, message) whenever the server's health changes."""


class _Stream:
    """The text of one streamed answer as it arrives."""

    def __init__(self) -> None:
        self.text = ""
        self.chunks = 0
        self.first_token_at: float | None = None
        self.cut: int | None = None
        """Where the stop rule cut the text (None: it did not)."""


class RemoteEngine:
    """The local engine's interface (see ``kodama.model.completion.TextGenerator`` and
    ``kodama.model.tasks.generate.ChatModel``), generating on a remote server."""

    def __init__(self, endpoint: Endpoint, tokenizer: Any, *,
                 on_health: HealthFn | None = None) -> None:
        """Prepare the client; nothing is sent until :meth:`connect` or a request."""
        self.endpoint = endpoint
        self.tokenizer = tokenizer
        self.model_name = endpoint.model
        self.stop_ids = stop_ids(tokenizer, getattr(tokenizer, "eos_token_id", None))
        self._fim = detect_fim(tokenizer.get_vocab())
        self._encoder = PlainText(tokenizer)
        self._on_health = on_health
        self.healthy = True
        self.problem = ""
        """Why the server is unhealthy (empty while healthy)."""
        self._health_lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="kodama-remote")
        self._thread.start()
        headers = {"Authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}
        self._client = self._call(self._make_client(headers))
        self._probe: concurrent.futures.Future[None] | None = None

    async def _make_client(self, headers: Mapping[str, str]) -> httpx.AsyncClient:
        # Created on the loop it is used on.
        return httpx.AsyncClient(headers=dict(headers), timeout=httpx.Timeout(
            self.endpoint.timeout_s, connect=min(self.endpoint.timeout_s, CONNECT_SECONDS)))

    # --- the engine interface -------------------------------------------------------------

    heals_tokens = False
    """A completions endpoint cannot constrain the first token: no token healing."""

    @property
    def fim(self) -> FimFormat | None:
        """The model's fill-in-the-middle format (from the local tokenizer), or None."""
        return self._fim

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` as plain text."""
        return self._encoder.encode(text)

    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids``, special tokens dropped."""
        return str(self.tokenizer.decode(list(ids), skip_special_tokens=True))

    def encode_chat(self, messages: Sequence[Mapping[str, str]]) -> list[int]:
        """Token ids of a chat in the local tokenizer's template (for prefilled answers)."""
        return chat_ids(self.tokenizer, messages)

    def forget(self, key: str) -> None:
        """Nothing is cached here (the server keeps its own prompt cache)."""

    def generate(
        self,
        ids: Sequence[int],
        *,
        max_new_tokens: int,
        stop: Callable[[str], int | None],
        cancel: Cancellation | None = None,
        cache_key: str | None = None,
        heal_at: int | None = None,
    ) -> Generation:
        """Greedy continuation of prompt ``ids`` by ``/v1/completions`` (streamed); no token
        healing (``heal_at`` is ignored: the server's sampler cannot be constrained)."""
        if not ids:
            raise ValueError("empty prompt")
        body = {"prompt": prompt_text(self.tokenizer, ids)}
        return self._generate("completions", body, len(ids), max_new_tokens, stop, cancel)

    def answer(self, request: ChatRequest, *, stop: Callable[[str], int | None],
               cancel: Cancellation | None = None) -> Generation:
        """A task's answer: by ``/v1/chat/completions``, or, with a prefill, as a continuation
        of the locally rendered chat by ``/v1/completions`` (see the module docstring)."""
        if request.prefill:
            return self.generate(prompt_ids(self, request), max_new_tokens=request.max_new_tokens,
                                 stop=stop, cancel=cancel)
        body = {"messages": defuse_messages(request.messages, self.tokenizer)}
        return self._generate("chat/completions", body, 0, request.max_new_tokens, stop, cancel)

    # --- connection and health --------------------------------------------------------------

    def connect(self) -> str:
        """Ask the server for its models, choose the one to request, and describe it; raises
        RemoteError with the reason and the fix when the server cannot be used."""
        models = self._call(self._models())
        if self.model_name is None:
            if not models:
                raise RemoteError(f"{self.endpoint.base} serves no model (GET /models is empty)")
            self.model_name = models[0]
        elif models and self.model_name not in models:
            raise RemoteError(
                f"{self.endpoint.base} does not serve {self.model_name!r}; it serves "
                f"{', '.join(repr(m) for m in models)}. Set remote.model to one of them.")
        return f"{self.model_name} at {self.endpoint.base}"

    async def _models(self) -> list[str]:
        try:
            response = await self._client.get(f"{self.endpoint.base}/models")
        except httpx.HTTPError as exc:
            raise RemoteError(self._unreachable(exc)) from None
        if response.status_code != 200:
            raise RemoteError(self._refused(response.status_code, response.text))
        try:
            data = response.json().get("data", [])
            return [str(m["id"]) for m in data if isinstance(m, dict) and "id" in m]
        except (ValueError, AttributeError):
            raise RemoteError(f"{self.endpoint.base}/models did not answer with OpenAI's JSON; "
                              "is remote.url the server's /v1 address?") from None

    def mark_down(self, problem: str) -> None:
        """Declare the server unusable (``problem`` says why): requests fail at once, and a
        probe watches for its return."""
        self._set_health(False, problem)

    def _set_health(self, healthy: bool, problem: str = "") -> None:
        with self._health_lock:
            changed = healthy != self.healthy
            self.healthy, self.problem = healthy, problem
            if not healthy and (self._probe is None or self._probe.done()):
                self._probe = asyncio.run_coroutine_threadsafe(self._probe_until_back(),
                                                               self._loop)
        if changed:
            log.warning("remote server %s", "is back" if healthy else f"failed: {problem}")
            if self._on_health is not None:
                self._on_health(healthy, problem)

    async def _probe_until_back(self) -> None:
        while True:
            await asyncio.sleep(PROBE_SECONDS)
            try:
                models = await self._models()
            except RemoteError as exc:
                with self._health_lock:
                    self.problem = str(exc)
                continue
            if self.model_name is None and models:
                self.model_name = models[0]
            self._set_health(True)
            return

    def _unreachable(self, exc: Exception) -> str:
        kind = ("timed out" if isinstance(exc, httpx.TimeoutException)
                else "cannot be reached" if isinstance(exc, httpx.ConnectError)
                else "broke off the connection")
        return (f"remote server {self.endpoint.base} {kind} ({exc.__class__.__name__}); check "
                "that it runs and remote.url, or set remote.fallback to local")

    def _refused(self, status: int, text: str) -> str:
        detail = " ".join(text.split())[:300]
        hint = {401: "check the API key in $KODAMA_API_KEY (remote.api_key_env)",
                403: "check the API key in $KODAMA_API_KEY (remote.api_key_env)",
                404: "check remote.url (it ends in /v1) and remote.model"}.get(status, "")
        return (f"remote server {self.endpoint.base} answered HTTP {status}: {detail}"
                + (f"; {hint}" if hint else ""))

    # --- requests --------------------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, T], cancel: Cancellation | None = None) -> T:
        """Run ``coro`` on the engine's loop; cancelling it (which closes its stream) when
        ``cancel`` is set. Raises asyncio.CancelledError then."""
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        while True:
            try:
                return future.result(timeout=CANCEL_POLL_SECONDS)
            except concurrent.futures.TimeoutError:
                if cancel is not None and cancel.is_set():
                    future.cancel()
                    raise asyncio.CancelledError from None

    def _generate(self, path: str, body: dict[str, Any], prompt_tokens: int, max_new_tokens: int,
                  stop: Callable[[str], int | None], cancel: Cancellation | None) -> Generation:
        if not self.healthy:
            raise RemoteError(self.problem)
        request = {**body, "model": self.model_name, "max_tokens": max_new_tokens,
                   "temperature": 0, "stream": True}
        stream = _Stream()
        started = time.perf_counter()
        try:
            reason = self._call(self._stream(path, request, stream, stop), cancel)
        except asyncio.CancelledError:
            return Generation(stream.text, "cancelled", stream.chunks, prompt_tokens)
        except RemoteError as exc:
            if not exc.this_request_only:
                self._set_health(False, str(exc))
            raise
        first = stream.first_token_at or time.perf_counter()
        text = stream.text if stream.cut is None else stream.text[:stream.cut]
        return Generation(text=text, reason=reason, tokens=stream.chunks,
                          prompt_tokens=prompt_tokens,
                          prefill_ms=(first - started) * 1000,
                          decode_ms=(time.perf_counter() - first) * 1000)

    async def _stream(self, path: str, request: dict[str, Any], stream: _Stream,
                      stop: Callable[[str], int | None]) -> StopReason:
        """Send ``request`` (retrying what may succeed later) and read its events into
        ``stream`` until the server finishes or ``stop`` cuts; the reason it ended."""
        url = f"{self.endpoint.base}/{path}"
        for attempt in range(self.endpoint.retries + 1):
            last = attempt == self.endpoint.retries
            try:
                async with self._client.stream("POST", url, json=request) as response:
                    if response.status_code != 200:
                        text = (await response.aread()).decode("utf-8", "replace")
                        if response.status_code in RETRY_STATUSES and not last:
                            await asyncio.sleep(self._delay(attempt, response))
                            continue
                        raise RemoteError(self._refused(response.status_code, text),
                                          this_request_only=response.status_code in (400, 413,
                                                                                     422))
                    return await self._read(response, stream, stop)
            except httpx.ReadTimeout:
                # Connected, but no token in time: the server is slow (a long prefill on a
                # busy CPU server), not down. Asking again would only queue more work.
                raise RemoteError(
                    f"remote server {self.endpoint.base} sent no token within "
                    f"{self.endpoint.timeout_s:g} s (remote.timeout_ms)",
                    this_request_only=True) from None
            except httpx.HTTPError as exc:
                if stream.chunks or last or not isinstance(exc, _RETRYABLE):
                    raise RemoteError(self._unreachable(exc)) from None
                log.info("remote attempt %d failed (%s); retrying", attempt + 1,
                         exc.__class__.__name__)
                await asyncio.sleep(self._delay(attempt, None))
        raise AssertionError("unreachable")

    @staticmethod
    def _delay(attempt: int, response: httpx.Response | None) -> float:
        """Back-off before attempt ``attempt + 2``: doubling, or the server's Retry-After
        (capped at 4 s)."""
        delay = BACKOFF_SECONDS * 2 ** attempt
        if response is not None:
            with contextlib.suppress(ValueError):
                delay = max(delay, min(float(response.headers.get("retry-after", 0)), 4.0))
        return float(delay)

    async def _read(self, response: httpx.Response, stream: _Stream,
                    stop: Callable[[str], int | None]) -> StopReason:
        async for event in _events(response):
            if event == "[DONE]":
                break
            try:
                choice = json.loads(event)["choices"][0]
            except (ValueError, KeyError, IndexError, TypeError):
                if "error" in event:
                    raise RemoteError(f"remote server error: {event[:300]}") from None
                continue
            piece = choice.get("text")
            if piece is None:
                piece = (choice.get("delta") or {}).get("content") or ""
            if piece:
                stream.first_token_at = stream.first_token_at or time.perf_counter()
                stream.chunks += 1
                stream.text += piece
                stream.cut = stop(stream.text)
                if stream.cut is not None:
                    return "stop"  # leaving the block closes the stream: the server stops
            finish = choice.get("finish_reason")
            if finish:
                return "length" if finish == "length" else "eos"
        return "eos"

    def close(self) -> None:
        """Close the connections and stop the loop thread."""
        if self._probe is not None:
            self._probe.cancel()
        with contextlib.suppress(Exception):
            self._call(self._client.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)


_RETRYABLE = (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError,
              httpx.ReadError)
"""Transport failures worth another attempt when no token has arrived yet."""


async def _events(response: httpx.Response) -> AsyncIterator[str]:
    """The ``data:`` payloads of a server-sent-event stream (a plain JSON body counts as one)."""
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            yield line[5:].strip()
        elif line.startswith("{"):
            yield line
