"""``kodama demo``: drive the real server over LSP, exactly as an editor would, and show it.

Starts ``kodama serve`` as a subprocess, initialises it with editor-like capabilities, follows
the model loading through ``$/progress``, opens the bundled sample files (Python, JavaScript,
Go, Rust), asks for inline completions where ``samples/cursors.json`` puts the cursor, types the
first characters of each suggestion and asks again, printing the ghost text and the latency.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TextIO

from kodama.server.commands.client import EditorSession, utf16_len
from kodama.server.commands.progress import TerminalProgress
from kodama.server.config import KodamaConfig

SAMPLES = ("inventory.py", "cart.js", "stats.go", "geometry.rs")
LANGUAGE_IDS = {".py": "python", ".js": "javascript", ".go": "go", ".rs": "rust"}


@dataclass(frozen=True)
class Sample:
    """A sample file with its cursor position (line, UTF-16 character)."""

    name: str
    text: str
    line: int
    character: int

    def uri_in(self, root: Path) -> str:
        """The sample's URI inside the workspace folder ``root``."""
        return root.joinpath(self.name).as_uri()

    @property
    def language_id(self) -> str:
        """The LSP language id of the sample."""
        return LANGUAGE_IDS[Path(self.name).suffix]


def write_workspace(root: Path) -> list[Sample]:
    """Write every sample into ``root`` (a small multi-language workspace); return them."""
    samples = [load_sample(name) for name in SAMPLES]
    for sample in samples:
        root.joinpath(sample.name).write_text(sample.text, encoding="utf-8")
    return samples


def load_sample(name: str) -> Sample:
    """Read a bundled sample and where its cursor goes (``samples/cursors.json``)."""
    folder = resources.files("kodama.server").joinpath("samples")
    cursor = json.loads(folder.joinpath("cursors.json").read_text("utf-8"))[name]
    text = folder.joinpath(name).read_text("utf-8")
    return Sample(name, text, int(cursor["line"]), int(cursor["character"]))


class Style:
    """ANSI styling, only when writing to a terminal."""

    def __init__(self, enabled: bool) -> None:
        """Style text only if ``enabled``."""
        self.enabled = enabled

    def __call__(self, code: str, text: str) -> str:
        """``text`` in the SGR style ``code``."""
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text


def render(sample: Sample, completion: str, style: Style, context_lines: int = 4) -> str:
    """The sample around the cursor with the completion shown as ghost text."""
    lines = sample.text.split("\n")
    row = sample.line
    current = lines[row]
    cut = len(current.encode("utf-16-le")[: sample.character * 2].decode("utf-16-le"))
    ghost = completion.split("\n")
    shown = [*lines[max(0, row - context_lines):row],
             current[:cut] + style("2;3", ghost[0]) + current[cut:]]
    shown += [style("2;3", g) for g in ghost[1:]]
    shown += lines[row + 1 : row + 3]
    return "\n".join(f"  {style('2', '│')} {line}" for line in shown)


async def _show_sample(session: EditorSession, sample: Sample, style: Style, out: TextIO) -> bool:
    uri = sample.uri_in(session.root)
    session.open(uri, sample.text, sample.language_id)
    text, ms = await session.inline(uri, sample.line, sample.character)
    print(style("1", sample.name) + f" ({sample.language_id}) — inline completion in {ms:.0f} ms:",
          file=out)
    print(render(sample, text, style), file=out)
    typed = text.split("\n")[0][:3]
    if typed:
        session.insert(uri, sample.line, sample.character, typed)
        rest, ms2 = await session.inline(uri, sample.line,
                                         sample.character + utf16_len(typed))
        print(f"  after typing {typed!r}: {ms2:.0f} ms → " + style("2;3", rest.split("\n")[0]),
              file=out)
    print(file=out, flush=True)
    session.close(uri)
    return bool(text.strip())


async def _demo(config: KodamaConfig, root: Path, out: TextIO) -> int:
    style = Style(out.isatty())
    samples = write_workspace(root)

    loading = TerminalProgress(out, prefix=f"  {style('36', '…')} ")

    def progress(message: str, percentage: int | None) -> None:
        loading.report(message, None if percentage is None else percentage / 100)

    session = EditorSession(config, root=root, on_progress=progress,
                            on_message=lambda m: print(f"  {style('33', '!')} {m}", file=out))
    print(style("1", "Kodama demo") + f": starting `kodama serve --model {config.model.name}` "
          "and talking LSP to it like an editor", file=out, flush=True)
    await session.start()
    result = session.result
    assert result is not None
    print(f"  initialize answered in {session.initialize_ms:.0f} ms; inline completion "
          f"advertised: {result.capabilities.inline_completion_provider is not None}",
          file=out, flush=True)
    try:
        state, message = await session.wait_ready()
        loading.clear()
        print(f"  model: {message}\n", file=out, flush=True)
        if state != "ready":
            return 1
        shown = [await _show_sample(session, sample, style, out) for sample in samples]
        memory = session.memory_kb()
        if memory:
            print(f"server memory: {memory.get('VmRSS', 0) / 1024:.0f} MB resident, "
                  f"peak {memory.get('VmHWM', 0) / 1024:.0f} MB", file=out)
        print(f"{sum(shown)}/{len(shown)} samples got a completion.", file=out)
        return 0 if all(shown) else 1
    except TimeoutError:
        print("the model did not become ready within 15 minutes", file=out)
        return 1
    finally:
        await session.stop()
        if state_failed := (session.client._server and session.client._server.returncode):
            print(f"server exited with {state_failed}:\n" + "\n".join(session.stderr_tail[-20:]),
                  file=sys.stderr)


def run_demo(config: KodamaConfig) -> int:
    """Run the demo; the exit status is 0 when every sample got a completion."""
    with tempfile.TemporaryDirectory(prefix="kodama-demo-") as folder:
        return asyncio.run(_demo(config, Path(folder), sys.stdout))
