"""What several commands need: the model flags, ``FILE:LINE[:COL]`` locations, the source file
as a document, and the engine for a one-shot command (the local model or a remote server).

The rest they share with the language server (settings, project root, repository view) comes
from :mod:`kodama.server.setup`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from kodama.server.commands.progress import TerminalProgress
from kodama.server.config import QUANTIZATION_NAMES, KodamaConfig
from kodama.server.setup import local_engine, project_root, remote_engine

if TYPE_CHECKING:
    from kodama.model.engine import Engine
    from kodama.model.remote import RemoteEngine
    from kodama.syntax.document import SyntaxDocument


def model_flags(parser: argparse.ArgumentParser, *, remote: bool = True) -> None:
    """Add the flags that choose and run the model (and, with ``remote``, a remote server)."""
    parser.add_argument(
        "--model", metavar="NAME|PATH|HUB_ID",
        help="preset name (default: the embedded Qwen2.5-Coder-0.5B), a local model folder or "
             ".gguf file, or a Hugging Face hub id",
    )
    parser.add_argument("--dtype", choices=["auto", "bfloat16", "float32"],
                        help="number format of the weights (default: auto)")
    parser.add_argument("--threads", type=int, metavar="N", help="CPU threads for inference")
    parser.add_argument("--quantization", choices=QUANTIZATION_NAMES,
                        help="weight-only quantisation for decoding (default: int8)")
    parser.add_argument("--adapter", metavar="auto|none|PATH",
                        help="fine-tuned adapter: auto (the one installed for the repository), "
                             "none, or a folder (default: auto)")
    if remote:
        _remote_flags(parser)
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"],
                        help="log detail on stderr (default: info)")


def _remote_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--remote", metavar="URL",
                        help="generate on a shared OpenAI-compatible server (vLLM, llama.cpp, "
                             "TGI, Ollama) at URL, e.g. http://gpu-box:8000/v1; the API key is "
                             "read from $KODAMA_API_KEY (see remote.* settings)")
    parser.add_argument("--remote-model", metavar="NAME",
                        help="model (or vLLM LoRA adapter) name to request from the remote "
                             "server (default: the first it lists)")


def parse_location(text: str, *, column: bool = True) -> tuple[Path, int, int]:
    """``FILE:LINE:COL`` (1-based) → (path, line, column); with ``column=False`` the column is
    optional (``FILE:LINE`` means column 1). ValueError with a clear message."""
    parts = text.rsplit(":", 2)
    numbers: list[int] = []
    while len(parts) > 1 and parts[-1].isdigit() and len(numbers) < 2:
        numbers.insert(0, int(parts.pop()))
    if len(numbers) < (2 if column else 1):
        shape = "FILE:LINE:COL" if column else "FILE:LINE or FILE:LINE:COL"
        raise ValueError(f"expected {shape} with 1-based numbers, got {text!r}")
    return Path(":".join(parts)), numbers[0], numbers[1] if len(numbers) > 1 else 1


def open_source(path: Path, line: int, col: int) -> tuple[SyntaxDocument, int]:
    """The file as a document and the code-point offset of 1-based ``line``/``col`` (a column
    past the end of the line means its end); ValueError with a clear message for a binary
    file or a line outside it."""
    from kodama.syntax.document import SyntaxDocument
    from kodama.syntax.languages import detect

    data = path.read_bytes()
    if b"\0" in data:
        raise ValueError(f"{path} looks binary (it contains NUL bytes)")
    text = data.decode("utf-8", errors="replace")
    doc = SyntaxDocument(path.resolve().as_uri(), text, detect(str(path)), 0)
    if line < 1 or line > doc.lines.line_count:
        raise ValueError(f"{path} has {doc.lines.line_count} lines; line {line} is outside it")
    if col < 1:
        raise ValueError("COL is 1-based: the first character of a line is column 1")
    line_start = doc.offset_at(line - 1, 0)
    line_end = doc.offset_at(line - 1, 1 << 30)  # clamps to the end of the line
    return doc, min(line_start + col - 1, line_end)


def adapter_for(config: KodamaConfig, path: Path) -> Path | None:
    """The adapter folder ``model.adapter`` asks for when working on the file ``path`` (with
    ``auto``: the one installed for its project root, as the server would use)."""
    from kodama.model.finetune.store import chosen_adapter

    folder, _ = chosen_adapter(config.model.adapter, project_root(path))
    return folder


def engine_for(config: KodamaConfig, path: Path) -> tuple[Engine | RemoteEngine, str, str]:
    """The backend for a one-shot command on ``path``: the remote server when ``remote.url``
    is set (connected, or RemoteError), else the local model with the repository's adapter;
    with its display name and number format."""
    progress = TerminalProgress()
    if config.remote.url:
        remote = remote_engine(config.remote, config.model, progress.report)
        described = remote.connect()
        progress.close()
        return remote, f"remote {described}", "remote"
    engine, loaded = local_engine(config.model, adapter_for(config, path), progress.report)
    progress.close()
    return engine, loaded.name, loaded.dtype
