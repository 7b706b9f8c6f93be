"""A GGUF file converted into a Hugging Face model folder, keeping transformers quiet meanwhile.

torch and transformers are imported only inside the functions that convert.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import logging
import sys
import time
from collections.abc import Iterable, Iterator, Sized
from pathlib import Path
from typing import Any

from kodama.model.errors import ModelLoadError
from kodama.model.types import ProgressFn, report_progress
from kodama.model.weights.store import STORED_DTYPE, StoredDtype

logger = logging.getLogger(__name__)

_CONVERSION_PACKAGES = ("accelerate", "gguf")
"""transformers refuses GGUF files without accelerate, and reads them with gguf."""
_END_TOKENS = ("<|endoftext|>", "<|im_end|>", "<|end_of_text|>", "<|eot_id|>")
"""Tokens that end a turn or a document in the model families we ship; all of them stop greedy
generation by default (the upstream Qwen2.5-Coder generation config lists both Qwen ones)."""


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
                report_progress(self._progress, self._message, index / total if total else None)


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
    report_progress(progress, message, 0.0)
    with quiet_transformers(progress, message):
        source = AutoModelForCausalLM.from_pretrained(
            str(gguf_path.parent), gguf_file=gguf_path.name, dtype=torch_dtype
        )
        report_progress(
            progress, f"Converting the tokenizer of {gguf_path.name} (first run only)", None
        )
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
    report_progress(progress, f"Saving the converted {gguf_path.name}", None)
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

