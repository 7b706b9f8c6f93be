"""A preset or a GGUF file made ready as a converted model folder in Kodama's cache.

On first use a preset's GGUF is assembled and verified, converted, and deleted again; a GGUF
file given by path is converted as it is, keyed by its own SHA-256. Later runs only read the
finished folder's marker.
"""

from __future__ import annotations

import re
from pathlib import Path

from kodama.model.errors import ModelLoadError
from kodama.model.presets import Preset
from kodama.model.types import ProgressFn
from kodama.model.weights.assemble import assemble_gguf
from kodama.model.weights.convert import convert_gguf
from kodama.model.weights.store import cache_root, cached_sha256, converted_dir, ensure_folder


def ensure_converted(
    preset: Preset, root: Path | None = None, progress: ProgressFn | None = None
) -> Path:
    """Return a Hugging Face model folder for ``preset``, assembling and converting on first use.

    The folder is ``<root>/models/<name>-<sha256[:12]>`` (root: :func:`cache_root`). When it is
    complete this only reads its marker. Otherwise, under a lock shared with other processes,
    the GGUF is assembled and verified in a scratch folder, converted, deleted, and the result
    renamed into place.
    """
    final = converted_dir(preset, root)

    def build(work: Path, out: Path) -> None:
        gguf = assemble_gguf(preset, work, progress)
        convert_gguf(gguf, out, progress=progress)
        gguf.unlink()

    return ensure_folder(final, preset.sha256, f"model preset {preset.name!r}", build, progress)


def ensure_converted_gguf(
    gguf_path: Path, root: Path | None = None, progress: ProgressFn | None = None
) -> Path:
    """Like :func:`ensure_converted`, for a GGUF file given by path (keyed by its SHA-256)."""
    base = root if root is not None else cache_root()
    if not gguf_path.is_file():
        raise ModelLoadError(f"No such GGUF file: {gguf_path}. Check the path.")
    sha = cached_sha256(gguf_path, base, progress)
    stem = re.sub(r"[^a-z0-9._-]+", "-", gguf_path.stem.lower()).strip(".-") or "model"
    final = base / "models" / f"{stem}-{sha[:12]}"

    def build(work: Path, out: Path) -> None:
        convert_gguf(gguf_path, out, progress=progress)

    return ensure_folder(final, sha, f"GGUF file {gguf_path}", build, progress)
