"""``kodama demo``: drive the real server over LSP, exactly as an editor would, and show it.

Starts ``kodama serve`` as a subprocess, initialises it with editor-like capabilities, follows
the model loading through ``$/progress``, opens the bundled sample files (Python, JavaScript,
Go, Rust), asks for inline completions where the samples mark the cursor (█), then types the
first characters of each suggestion and asks again, printing the ghost text and the latency.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from kodama.server.config import KodamaConfig
from kodama.server.protocol import STATUS_NOTIFICATION

CURSOR = "█"
SAMPLES = ("inventory.py", "cart.js", "stats.go", "geometry.rs")
LANGUAGE_IDS = {".py": "python", ".js": "javascript", ".go": "go", ".rs": "rust"}


@dataclass(frozen=True)
class Sample:
    """A sample file with its cursor position."""

    name: str
    text: str
    line: int
    character: int

    @property
    def uri(self) -> str:
        """A file URI for the sample (it is never written to disk)."""
        return Path.cwd().joinpath("kodama-demo", self.name).as_uri()


def load_sample(name: str) -> Sample:
    """Read a bundled sample and find its cursor marker."""
    marked = resources.files("kodama.server").joinpath("samples", name).read_text("utf-8")
    before, after = marked.split(CURSOR, 1)
    lines = before.split("\n")
    character = len(lines[-1].encode("utf-16-le")) // 2
    return Sample(name, before + after, len(lines) - 1, character)


class _Style:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text


def server_command(config: KodamaConfig) -> list[str]:
    """The command line that starts the server with this configuration."""
    cmd = [sys.executable, "-m", "kodama.server", "serve", "--model", config.model.name,
           "--dtype", config.model.dtype, "--log-level", "warning"]
    if config.model.threads:
        cmd += ["--threads", str(config.model.threads)]
    return cmd


def render(sample: Sample, completion: str, style: _Style, context_lines: int = 4) -> str:
    """The sample around the cursor with the completion shown as ghost text."""
    lines = sample.text.split("\n")
    row = sample.line
    head = lines[max(0, row - context_lines):row]
    current = lines[row]
    cut = len(current.encode("utf-16-le")[: sample.character * 2].decode("utf-16-le"))
    ghost = completion.split("\n")
    shown = [*head, current[:cut] + style("2;3", ghost[0]) + current[cut:]]
    shown += [style("2;3", g) for g in ghost[1:]]
    shown += lines[row + 1 : row + 3]
    return "\n".join(f"  {style('2', '│')} {line}" for line in shown)


async def _demo(config: KodamaConfig, out: Any) -> int:
    style = _Style(out.isatty())
    client = LanguageClient("kodama-demo", "1")
    ready = asyncio.get_running_loop().create_future()
    stderr_tail: list[str] = []

    @client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
    def create_progress(params: types.WorkDoneProgressCreateParams) -> None:
        return None

    @client.feature(types.PROGRESS)
    def on_progress(params: types.ProgressParams) -> None:
        value: Any = params.value if isinstance(params.value, dict) else {}
        message = value.get("message") or value.get("title", "")
        percentage = value.get("percentage")
        pct = f" {percentage:3d}%" if percentage is not None else ""
        print(f"  {style('36', '⏳')} {message}{pct}", file=out, flush=True)

    @client.feature(STATUS_NOTIFICATION)
    def on_status(params: Any) -> None:
        status = params if isinstance(params, dict) else vars(params)
        if status.get("state") in ("ready", "error") and not ready.done():
            ready.set_result((status["state"], status.get("message", "")))

    @client.feature(types.WINDOW_SHOW_MESSAGE)
    def on_message(params: types.ShowMessageParams) -> None:
        print(f"  {style('33', '!')} {params.message}", file=out, flush=True)

    cmd = server_command(config)
    print(style("1", "Kodama demo") + f" — starting the language server: {' '.join(cmd[2:])}",
          file=out, flush=True)
    await client.start_io(*cmd)
    proc = client._server
    assert proc is not None and proc.stderr is not None

    async def drain(stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            stderr_tail.append(line.decode("utf-8", "replace").rstrip())
            del stderr_tail[:-40]

    drain_task = asyncio.create_task(drain(proc.stderr))
    started = time.perf_counter()
    result = await client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(
            window=types.WindowClientCapabilities(work_done_progress=True),
            text_document=types.TextDocumentClientCapabilities(
                inline_completion=types.InlineCompletionClientCapabilities(),
            ),
        ),
        process_id=None, root_uri=Path.cwd().as_uri(),
    ))
    client.initialized(types.InitializedParams())
    init_ms = (time.perf_counter() - started) * 1000
    print(f"  server {result.server_info.name if result.server_info else '?'} answered "
          f"initialize in {init_ms:.0f} ms; inline completion advertised: "
          f"{result.capabilities.inline_completion_provider is not None}", file=out, flush=True)
    try:
        state, message = await asyncio.wait_for(ready, timeout=900)
        print(f"  model: {message}\n", file=out, flush=True)
        if state != "ready":
            return 1
        for name in SAMPLES:
            await _show_sample(client, load_sample(name), style, out)
        return 0
    except TimeoutError:
        print("the model did not become ready within 15 minutes", file=out)
        return 1
    finally:
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
        drain_task.cancel()
        if proc.returncode not in (0, None):
            print("\n".join(stderr_tail), file=sys.stderr)


async def _complete(client: LanguageClient, uri: str, line: int, character: int) -> tuple[str, float]:
    started = time.perf_counter()
    answer = await client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=character),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Automatic),
    ))
    elapsed = (time.perf_counter() - started) * 1000
    items = answer.items if isinstance(answer, types.InlineCompletionList) else (answer or [])
    text = items[0].insert_text if items else ""
    return (text if isinstance(text, str) else text.value), elapsed


async def _show_sample(client: LanguageClient, sample: Sample, style: _Style, out: Any) -> None:
    language = LANGUAGE_IDS[Path(sample.name).suffix]
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(
            uri=sample.uri, language_id=language, version=1, text=sample.text)))
    text, ms = await _complete(client, sample.uri, sample.line, sample.character)
    print(style("1", f"{sample.name}") + f" ({language}) — inline completion in {ms:.0f} ms:",
          file=out)
    print(render(sample, text, style), file=out)
    typed = text.split("\n")[0][:3]
    if typed:
        position = types.Position(line=sample.line, character=sample.character)
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=sample.uri, version=2),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=position, end=position), text=typed)],
        ))
        column = sample.character + len(typed.encode("utf-16-le")) // 2
        rest, ms2 = await _complete(client, sample.uri, sample.line, column)
        print(f"  after typing {typed!r}: {ms2:.0f} ms → {style('2;3', rest.split(chr(10))[0])!s}",
              file=out)
    print(file=out, flush=True)
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=sample.uri)))


def run_demo(config: KodamaConfig) -> int:
    """Run the demo; the exit status is 0 when every step worked."""
    return asyncio.run(_demo(config, sys.stdout))
