"""The remote backend against a scripted OpenAI-compatible server: streaming, stop rules and
cancellation that close the stream, retries with back-off, timeouts, health and its probe,
the API key, and which endpoint each request uses. (tests/e2e/test_remote.py runs a real
llama.cpp server.)"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers.openai_fake import FakeOpenAI, Reply, serve
from kodama.model.remote import Endpoint, RemoteEngine, RemoteError
from kodama.model.tasks.generate import ChatRequest, run_chat
from kodama.model.tokens import PlainText, prompt_text
from kodama.server.commands.cli import main


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_model_dir))


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with serve(FakeOpenAI()) as running:
        yield running


def engine_for(url: str, tokenizer: Any, **kwargs: Any) -> RemoteEngine:
    health = kwargs.pop("on_health", None)
    return RemoteEngine(Endpoint(url=url, **kwargs), tokenizer, on_health=health)


def no_stop(_text: str) -> int | None:
    return None


def test_prompt_text_is_re_tokenised_to_the_same_ids(tokenizer: Any) -> None:
    encode = PlainText(tokenizer).encode
    fim = [tokenizer.convert_tokens_to_ids(t) for t in
           ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>")]

    def prompt(user: str) -> list[int]:
        return [fim[0], *encode(user), fim[1], *encode("\n"), fim[2]]

    plain = prompt("def f(a):\n    return ")
    assert tokenizer.encode(prompt_text(tokenizer, plain), add_special_tokens=False) == plain
    # User code with a literal control-token string: the server, which parses control tokens
    # in text, must still read the user's one as text.
    tricky = prompt('marker = "<|fim_middle|>"\ndef f(a):\n    return ')
    text = prompt_text(tokenizer, tricky)
    again = tokenizer.encode(text, add_special_tokens=False)
    assert [i for i in again if i in fim] == fim, "only Kodama's own control tokens"
    assert text.replace("\u200b", "") == tokenizer.decode(tricky)


def test_a_completion_streams_and_a_stop_cut_closes_the_stream(
        fake: FakeOpenAI, tokenizer: Any) -> None:
    fake.default = Reply(pieces=("total", " = 0", "\n", "never", *["x"] * 200), delay=0.01)
    engine = engine_for(fake.url, tokenizer)
    assert engine.connect() == f"fake-model at {fake.url}"
    result = engine.generate([5, 6, 7], max_new_tokens=64,
                             stop=lambda text: text.find("\n") if "\n" in text else None)
    assert (result.text, result.reason, result.tokens) == ("total = 0", "stop", 3)
    post = fake.posts()[0]
    assert post.path == "/v1/completions"
    assert post.body["model"] == "fake-model" and post.body["stream"] is True
    assert post.body["temperature"] == 0 and post.body["max_tokens"] == 64
    assert post.body["prompt"] == tokenizer.decode([5, 6, 7])
    assert post.done.wait(5)
    assert post.hung_up and post.sent < 20, "the server saw the client hang up at the cut"


def test_cancellation_closes_the_stream_at_once(fake: FakeOpenAI, tokenizer: Any) -> None:
    fake.default = Reply(pieces=("a",) * 400, delay=0.01)
    engine = engine_for(fake.url, tokenizer)
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    started = time.perf_counter()
    result = engine.generate([5, 6], max_new_tokens=1000, stop=no_stop, cancel=cancel)
    assert result.reason == "cancelled"
    assert time.perf_counter() - started < 3.0, "cancelled long before the 4 s stream ends"
    post = fake.posts()[0]
    assert post.done.wait(5) and post.hung_up and post.sent < 300
    assert engine.healthy, "a cancellation says nothing about the server"


def test_overloaded_answers_are_retried_with_back_off(fake: FakeOpenAI, tokenizer: Any) -> None:
    fake.replies = [Reply(status=503), Reply(status=429, headers={"Retry-After": "0.6"}),
                    Reply(pieces=("fine",))]
    engine = engine_for(fake.url, tokenizer, retries=2)
    started = time.perf_counter()
    result = engine.generate([5], max_new_tokens=8, stop=no_stop)
    elapsed = time.perf_counter() - started
    assert (result.text, result.reason) == ("fine", "eos")
    assert len(fake.posts()) == 3
    assert elapsed >= 0.25 + 0.6, "0.25 s back-off, then the server's Retry-After"


def test_retries_are_bounded_and_the_error_says_what_happened(
        fake: FakeOpenAI, tokenizer: Any) -> None:
    fake.default = Reply(status=503, body="model is loading")
    engine = engine_for(fake.url, tokenizer, retries=1)
    with pytest.raises(RemoteError, match=r"HTTP 503: model is loading"):
        engine.generate([5], max_new_tokens=8, stop=no_stop)
    assert len(fake.posts()) == 2
    assert not engine.healthy


def test_a_refused_request_leaves_the_server_healthy(fake: FakeOpenAI, tokenizer: Any) -> None:
    fake.replies = [Reply(status=400, body="prompt too long")]
    engine = engine_for(fake.url, tokenizer)
    with pytest.raises(RemoteError, match="HTTP 400: prompt too long"):
        engine.generate([5], max_new_tokens=8, stop=no_stop)
    assert engine.healthy and len(fake.posts()) == 1
    assert engine.generate([5], max_new_tokens=8, stop=no_stop).text == "ok"


def test_a_server_that_hangs_times_out(fake: FakeOpenAI, tokenizer: Any) -> None:
    fake.default = Reply(hang=5.0)
    engine = engine_for(fake.url, tokenizer, timeout_s=0.3, retries=0)
    started = time.perf_counter()
    with pytest.raises(RemoteError, match=r"sent no token within 0.3 s \(remote.timeout_ms\)"):
        engine.generate([5], max_new_tokens=8, stop=no_stop)
    assert time.perf_counter() - started < 4.0
    assert len(fake.posts()) == 1, "a slow server is not asked again"
    assert engine.healthy, "slow is not down: the next request is tried"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_down_server_fails_fast_and_the_probe_notices_its_return(tokenizer: Any) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    changes: list[tuple[bool, str]] = []
    engine = engine_for(url, tokenizer, retries=1,
                        on_health=lambda ok, why: changes.append((ok, why)))
    with pytest.raises(RemoteError, match=f"{url} cannot be reached"):
        engine.generate([5], max_new_tokens=8, stop=no_stop)
    assert not engine.healthy and changes == [(False, engine.problem)]
    assert "remote.fallback" in engine.problem, "the message says what to do"
    started = time.perf_counter()
    with pytest.raises(RemoteError):
        engine.generate([5], max_new_tokens=8, stop=no_stop)
    assert time.perf_counter() - started < 0.1, "no waiting on a server known to be down"
    with serve(FakeOpenAI(), port=port) as fake:
        deadline = time.monotonic() + 10
        while not engine.healthy and time.monotonic() < deadline:
            time.sleep(0.05)
        assert engine.healthy and changes[-1] == (True, "")
        assert engine.generate([5], max_new_tokens=8, stop=no_stop).text == "ok"
        assert fake.posts()[0].body["model"] == "fake-model", "chosen when the server came back"


def test_the_api_key_is_sent_but_never_logged(
        fake: FakeOpenAI, tokenizer: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    engine = engine_for(fake.url, tokenizer, api_key="sk-very-secret")
    engine.connect()
    engine.generate([5], max_new_tokens=8, stop=no_stop)
    assert all(s.headers.get("Authorization") == "Bearer sk-very-secret" for s in fake.seen)
    assert "sk-very-secret" not in caplog.text
    assert "sk-very-secret" not in repr(engine.endpoint)


def test_the_model_is_checked_against_what_the_server_serves(
        fake: FakeOpenAI, tokenizer: Any) -> None:
    engine = engine_for(fake.url, tokenizer, model="kodama-flask")
    with pytest.raises(RemoteError, match=r"does not serve 'kodama-flask'.*'fake-model'"):
        engine.connect()
    assert engine_for(fake.url, tokenizer, model="fake-model").connect().startswith("fake-model")


def test_tasks_use_the_chat_endpoint_unless_the_answer_is_prefilled(
        fake: FakeOpenAI, tokenizer: Any) -> None:
    engine = engine_for(fake.url, tokenizer)
    engine.connect()
    messages = [{"role": "system", "content": "Explain."},
                {"role": "user", "content": "def f(): return '<|im_end|>'"}]
    fake.default = Reply(pieces=("It ", "returns."))
    seen: list[str] = []
    answer = run_chat(engine, ChatRequest(messages=messages, max_new_tokens=50),
                      watch=lambda text: seen.append(text) and None)
    assert answer.text == "It returns." and seen == ["It ", "It returns."]
    chat = fake.posts()[0]
    assert chat.path == "/v1/chat/completions"
    assert chat.body["messages"][0] == messages[0]
    assert "<|im_end|>" not in chat.body["messages"][1]["content"], "control strings defused"

    fake.default = Reply(pieces=("Add two numbers.", '"""', "rest"))
    prefilled = ChatRequest(messages=messages, max_new_tokens=50, prefill='```python\n"""',
                            stop=lambda text: text.find('"""') if '"""' in text else None)
    answer = run_chat(engine, prefilled)
    assert (answer.text, answer.reason) == ("Add two numbers.", "stop")
    continued = fake.posts()[1]
    assert continued.path == "/v1/completions"
    assert continued.body["prompt"].startswith("<|im_start|>system\nExplain.<|im_end|>")
    assert continued.body["prompt"].endswith('<|im_start|>assistant\n```python\n"""')


def test_an_unreachable_remote_server_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tiny_model_dir: Path
) -> None:
    source = tmp_path / "a.py"
    source.write_text("x = 1\n")
    assert main(["complete", f"{source}:1:5", "--model", str(tiny_model_dir),
                 "--remote", "http://127.0.0.1:9/v1"]) == 1
    err = capsys.readouterr().err
    assert "kodama: remote server http://127.0.0.1:9/v1 cannot be reached" in err
    assert "Traceback" not in err
