"""The real embedded default model, end to end through LSP (marked ``real_model``; CI runs it).

One server for the module: it opens the bundled Python, JavaScript, Go and Rust samples, asks
for inline completions where a developer would, checks they are sensible, that the Python file
still parses with the completion in it, and that typing on gets answers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from kodama.server.commands.client import EditorSession, utf16_len
from kodama.server.commands.demo import SAMPLES, load_sample, write_workspace
from kodama.server.config import KodamaConfig
from kodama.syntax.analysis import parses

pytestmark = pytest.mark.real_model
in_module_loop = pytest.mark.asyncio(loop_scope="module")

EXPECTED = {  # something any sensible completion at these points contains
    "inventory.py": ("price", "quantity"),
    "cart.js": ("item",),
    "stats.go": ("sum",),
    "geometry.rs": ("dx", "dy"),
}

AT_READY: dict[str, int] = {}  # the server's memory figures once the model is loaded


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def session(
    default_model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[EditorSession]:
    root = tmp_path_factory.mktemp("workspace")
    write_workspace(root)
    lsp = EditorSession(KodamaConfig(), root=root, options={"completion": {"debounceMs": 0}})
    await lsp.start()
    state, message = await lsp.wait_ready(timeout=600)
    assert state == "ready", message
    AT_READY.update(lsp.memory_kb())
    yield lsp
    await lsp.stop()


@in_module_loop
@pytest.mark.parametrize("name", SAMPLES)
async def test_sensible_completion_at_a_natural_point(session: EditorSession, name: str) -> None:
    sample = load_sample(name)
    uri = sample.uri_in(session.root)
    session.open(uri, sample.text, sample.language_id)
    text, _ = await session.inline(uri, sample.line, sample.character)
    assert text.strip(), f"no completion for {name}"
    for word in EXPECTED[name]:
        assert word in text, (name, text)
    if name.endswith(".py"):
        lines = sample.text.split("\n")
        lines[sample.line] += text
        assert parses("python", "\n".join(lines)), text
    # Typing the first characters of the suggestion: the server answers with the rest.
    typed = text[:3]
    session.insert(uri, sample.line, sample.character, typed)
    rest, _ = await session.inline(uri, sample.line, sample.character + utf16_len(typed))
    assert rest.strip() and (typed + rest).strip()[:6] == text.strip()[:6], (text, rest)
    session.close(uri)


@in_module_loop
async def test_server_memory_stays_near_the_budget(session: EditorSession) -> None:
    memory = session.memory_kb()
    assert memory, "no /proc figures"
    # Our budget: a server that stays under 1.5 GB with the default model, and never goes past
    # 1.6 GB, start-up included (the quantised weights are read from the cache, never
    # quantised from a float copy in this process).
    report = (f"now {memory}, when ready {AT_READY}; "
              "server log:\n" + "\n".join(session.stderr_tail[-30:]))
    assert memory["VmRSS"] < 1_500_000, report
    assert memory["VmHWM"] < 1_600_000, report


def test_complete_command_prints_json(default_model_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "fib.py"
    source.write_text("def fibonacci(n):\n    if n < 2:\n        return n\n    return \n")
    out = subprocess.run(
        [sys.executable, "-m", "kodama.server", "complete", f"{source}:4:12", "--json"],
        capture_output=True, text=True, timeout=600, check=True,
    )
    result = json.loads(out.stdout)
    # The model writes the recursion; its spacing (``n - 1`` or ``n-1``) is its own choice.
    assert result["mode"] == "single", result
    assert "fibonacci(n-1)" in result["completion"].replace(" ", ""), result


def test_docstring_command_documents_every_parameter(default_model_dir: Path,
                                                     tmp_path: Path) -> None:
    source = tmp_path / "limits.py"
    source.write_text(
        "def clamp(value, low, high):\n"
        "    if low > high:\n"
        "        raise ValueError('low is above high')\n"
        "    return max(low, min(value, high))\n"
    )
    subprocess.run(
        [sys.executable, "-m", "kodama.server", "docstring", f"{source}:1", "--apply"],
        capture_output=True, text=True, timeout=600, check=True,
    )
    text = source.read_text()
    assert parses("python", text), text
    head, _, rest = text.partition('    """')
    assert head == "def clamp(value, low, high):\n", "the docstring is the body's first statement"
    doc = rest.partition('"""')[0]
    assert "Args:" in doc and "Returns:" in doc and "Raises:" in doc, doc
    for name in ("value:", "low:", "high:", "ValueError:"):
        assert name in doc, doc
