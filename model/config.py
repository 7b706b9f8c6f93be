"""The settings the model layer reads: which model and how it runs, a remote inference server,
completion budgets, repository context, fine-tuning, and how generated tests are run.

Plain frozen dataclasses whose field docstrings are the user documentation; the server nests
them in its configuration tree (``kodama.server.config.KodamaConfig``), which feeds them from
defaults, environment, command line and the editor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Dtype = Literal["auto", "bfloat16", "float32"]
"""Number formats of ``model.dtype``."""

QuantizationName = Literal["none", "int8", "int4"]
"""Weight formats of ``model.quantization`` (``kodama.model.quantize`` implements them)."""
QUANTIZATION_NAMES: tuple[str, ...] = get_args(QuantizationName)


@dataclass(frozen=True)
class ModelConfig:
    """Which model to run and how."""

    name: str = "default"
    """A preset name (``default``, ``qwen2.5-coder-0.5b``, ``smollm2-135m``), a local folder, a
    ``.gguf`` file, or a Hugging Face hub id (needs internet the first time)."""
    dtype: Dtype = "auto"
    """Weights' number format: ``auto`` picks bfloat16 on CPUs with fast bf16 units."""
    threads: int | None = None
    """CPU threads for inference; None lets torch decide (all cores)."""
    adapter: str = "auto"
    """Fine-tuned adapter applied to the model: ``auto`` uses the one ``kodama fine-tune``
    installed for the workspace (and picks up a newer one without a restart), ``none`` uses the
    base model, or the path of an adapter folder."""
    quantization: QuantizationName = "int8"
    """Weight-only quantisation of the linear layers: ``int8`` halves the weights' memory and
    speeds up decoding (prefill still runs in bf16); ``int4`` (groups of 32) reads half as many
    bytes again per token; ``none`` keeps the weights as loaded. The packed weights are kept in
    the cache (``packed/``, written once per model), so a start reads them and never holds the
    float model (without an adapter)."""
    memory_budget_mb: int = 0
    """Memory the language server may use (resident, in MB) before it degrades instead of
    being killed: past it, repository context is turned off, its index and the per-document
    caches dropped, and the user told once (a restart turns them back on). 0: three quarters
    of this machine's memory."""


@dataclass(frozen=True)
class RemoteConfig:
    """A shared OpenAI-compatible inference server (vLLM, llama.cpp, TGI, Ollama) that
    generates instead of the local model; prompts, context and post-processing stay local."""

    url: str | None = None
    """Base URL of the server's OpenAI API, e.g. ``http://gpu-box:8000/v1``; None (the
    default) runs the model on this machine."""
    model: str | None = None
    """Model name sent with every request. On vLLM the name of a LoRA module (``--lora-modules
    NAME=PATH``) selects that fine-tuned adapter. None: the first model the server lists."""
    api_key_env: str = "KODAMA_API_KEY"
    """Environment variable holding the API key, sent as a bearer token (never logged)."""
    tokenizer: str | None = None
    """Tokenizer for prompt budgets and the fill-in-the-middle format (a preset, folder,
    ``.gguf`` or hub id; no weights are loaded); None: ``model.name``'s."""
    timeout_ms: int = 15000
    """Longest wait for the server's first token and between tokens (a slow answer gives no
    completion this time; the server is not marked down). Connecting waits 3 s at most."""
    retries: int = 2
    """Attempts after the first when the server cannot be reached or answers 429 / 5xx
    before any token (back-off 0.25 s, doubling)."""
    fallback: Literal["none", "local"] = "none"
    """While the server is unreachable: offer nothing (``none``), or load the local model and
    use it until the server answers again (``local``)."""


@dataclass(frozen=True)
class CompletionConfig:
    """Inline completion behaviour."""

    enabled: bool = True
    """Offer completions at all."""
    debounce_ms: int = 120
    """Wait this long after a request before generating; a newer request for the same document
    within that time replaces it."""
    prefix_tokens: int = 1024
    """Token budget for text before the cursor."""
    suffix_tokens: int = 256
    """Token budget for text after the cursor."""
    max_new_tokens_single: int = 48
    """Most tokens generated for a single-line completion."""
    max_new_tokens_multi: int = 128
    """Most tokens generated for a multi-line (block) completion."""
    max_lines: int = 16
    """Most lines in a multi-line completion."""


@dataclass(frozen=True)
class ContextConfig:
    """Repository context: snippets from other files of the workspace in the prompt."""

    enabled: bool = True
    """Index the workspace (in the background, cached on disk) and put snippets from other files
    in multi-line prompts: definitions of the symbols used near the cursor, similar code, recent
    edits (single-line prompts go without: measured, they distract more than they help)."""
    max_files: int = 5000
    """Most files indexed (source files with a grammar and shallow folders first); the index
    also stops at 50 MB of source."""
    tokens: int = 384
    """Token budget for the snippets from other files in a multi-line prompt (0 = none)."""


@dataclass(frozen=True)
class FineTuneConfig:
    """``kodama fine-tune``: how the model learns a repository (every value has a flag)."""

    method: Literal["lora", "top", "full"] = "lora"
    """What is trained: ``lora`` adapters on every linear layer (small, the default), the
    ``top`` layers only, or ``full`` (all parameters; needs ~8× the model's size in memory)."""
    lora_rank: int = 16
    """Rank of the LoRA matrices."""
    lora_alpha: int = 32
    """LoRA scaling numerator (the update is scaled by alpha / rank)."""
    dropout: float = 0.05
    """Dropout on the LoRA input (``lora``) or the model's own dropout (``top``, ``full``)."""
    top_layers: int = 4
    """Decoder layers trained from the top, with method ``top``."""
    optimizer: Literal["adamw", "sgd"] = "adamw"
    """Optimiser."""
    learning_rate: float | None = None
    """Peak learning rate; None picks one for the method (lora 5e-4, top 1e-4, full 2e-5)."""
    warmup: float = 0.06
    """Share of the steps spent warming the learning rate up (linear), then a cosine decay."""
    weight_decay: float = 0.1
    """AdamW weight decay."""
    sequence_tokens: int = 512
    """Tokens per packed training sequence."""
    batch_size: int = 1
    """Sequences per forward pass."""
    gradient_accumulation: int = 4
    """Forward passes per optimiser step (effective batch = batch_size × this × processes)."""
    gradient_checkpointing: int | None = None
    """Recompute the activations of every n-th decoder layer in the backward pass instead of
    keeping them (1: every layer, 0: none): less memory, about a third more compute per step.
    None: planned to fit ``max_memory`` (none when the run fits without)."""
    max_memory: float = 0.0
    """Most memory (GB) training may take: batch size (with more accumulation), gradient
    checkpointing and, last, sequence length are planned to fit it, and a run that cannot fit
    stops at once, saying what would. 0: 60 % of the memory available when the run starts."""
    epochs: float | None = None
    """Passes over the training data; None scales to the data: 3 for tiny repositories, down
    to 1, and always within ``max_minutes``."""
    max_steps: int | None = None
    """Hard cap on optimiser steps (None: from epochs and the time budget)."""
    max_minutes: float = 35.0
    """Training time budget, validations included: the step count is planned from a measured
    step, and training stops at the budget if steps run slower (0 = no budget). Evaluating
    before and after adds about ``holes`` × 2 × 5 s on a 2-core CPU."""
    eval_every: int | None = None
    """Validation every this many steps; None: 6 times per run."""
    patience: int = 3
    """Stop after this many validations without a better validation loss."""
    seed: int = 0
    """Seed of the split, the examples, their order and the evaluation holes."""
    test_fraction: float = 0.1
    """Share of files held out for the before/after test (never trained on)."""
    validation_fraction: float = 0.05
    """Share of files used for the validation loss (early stopping)."""
    holes: int = 80
    """Completion holes in the test files for the before/after evaluation."""
    install: Literal["better", "always", "never"] = "better"
    """Install the adapter when it beats the base model on the test holes, always, or never."""


@dataclass(frozen=True)
class TestRunConfig:
    """Running generated tests (and docstring examples) before they are offered."""

    __test__ = False  # not a pytest test class

    run: bool = True
    """Run the generated tests (twice, in a scratch copy of the repository, with its own
    framework) and offer only those that pass; off: offer them unchecked."""
    python: str = ""
    """The interpreter that runs them (needs pytest); empty: the repository's ``.venv`` or
    ``venv``, else the active virtual environment, else ``python3``."""
    node: str = ""
    """The Node executable that runs JavaScript / TypeScript tests (node:test; Jest, Vitest
    and Mocha come from the repository's ``node_modules``); empty: ``node`` on the PATH."""
    timeout_s: int = 20
    """Time limit of one test (a test past it fails; the others go on)."""
    repairs: int = 2
    """Repair rounds: the model sees why its tests failed and rewrites them (0: none)."""
    network: bool = False
    """Let the tests reach the network (off: a network namespace of their own where the system
    allows one, and connections to other machines refused in any case)."""
