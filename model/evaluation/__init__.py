"""Completion quality on held-out files of a real repository: the pure core of ``kodama eval``.

No torch at import time: the model sits behind :class:`kodama.model.completion.TextGenerator`
and repository context behind :class:`ContextProvider`. The rooms:

* :mod:`.files` — the repository's source files (:func:`walk_repository`) and a copy without
  the held-out ones (:func:`mirror_without`);
* :mod:`.cuts` — where holes can be cut in one file (:func:`find_candidates`);
* :mod:`.holes` — held-out files and holes drawn from a seed (:func:`pick_holes`);
* :mod:`.providers` — repository context kept from seeing held-out files;
* :mod:`.run` — a completion at every hole, scored (:func:`evaluate`);
* :mod:`.raw` — the bare-model baseline every figure is read against (:func:`complete_raw`);
* :mod:`.scoring` — exact match, edit similarity, parse check, summaries;
* :mod:`.report` — Markdown table and JSON (and back).

This package re-exports the public names of all of them.
"""

from __future__ import annotations

from kodama.model.evaluation.cuts import (
    MAX_HOLE_LINE_CHARS,
    MULTI_MAX_LINES,
    MULTI_MIN_LINES,
    Cut,
    FileCandidates,
    find_candidates,
)
from kodama.model.evaluation.files import (
    GENERATED_MARKERS,
    MAX_FILE_BYTES,
    MAX_LINE_CHARS,
    SourceFile,
    mirror_without,
    walk_repository,
)
from kodama.model.evaluation.holes import (
    MID_MAX_TOKENS,
    Hole,
    HoleKind,
    HoleSet,
    held_out_count,
    hole_set_hash,
    pick_holes,
)
from kodama.model.evaluation.providers import (
    ContextProvider,
    NoContext,
    ProviderFactory,
    held_out_free,
    repository_provider,
)
from kodama.model.evaluation.raw import (
    RAW_PREFIX_TOKENS,
    RAW_SUFFIX_TOKENS,
    complete_raw,
    raw_prompt,
)
from kodama.model.evaluation.report import (
    config_label,
    markdown_table,
    report_json,
    runs_from_json,
)
from kodama.model.evaluation.run import Completer, OnHoleResult, evaluate, served
from kodama.model.evaluation.scoring import (
    HoleResult,
    RunResult,
    Summary,
    edit_similarity,
    exact_match,
    levenshtein,
    normalize,
    paired_exact,
    percentile,
    score,
    summaries,
    summarize,
)

_Cut = Cut
"""Former private name of :class:`Cut`, still imported by the fine-tuning data builder."""

__all__ = [
    "GENERATED_MARKERS",
    "MAX_FILE_BYTES",
    "MAX_HOLE_LINE_CHARS",
    "MAX_LINE_CHARS",
    "MID_MAX_TOKENS",
    "MULTI_MAX_LINES",
    "MULTI_MIN_LINES",
    "RAW_PREFIX_TOKENS",
    "RAW_SUFFIX_TOKENS",
    "Completer",
    "ContextProvider",
    "Cut",
    "FileCandidates",
    "Hole",
    "HoleKind",
    "HoleResult",
    "HoleSet",
    "NoContext",
    "OnHoleResult",
    "ProviderFactory",
    "RunResult",
    "SourceFile",
    "Summary",
    "complete_raw",
    "config_label",
    "edit_similarity",
    "evaluate",
    "exact_match",
    "find_candidates",
    "held_out_count",
    "held_out_free",
    "hole_set_hash",
    "levenshtein",
    "markdown_table",
    "mirror_without",
    "normalize",
    "paired_exact",
    "percentile",
    "pick_holes",
    "raw_prompt",
    "report_json",
    "repository_provider",
    "runs_from_json",
    "score",
    "served",
    "summaries",
    "summarize",
    "walk_repository",
]
