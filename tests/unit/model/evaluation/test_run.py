"""kodama.model.evaluation.run: the real completion pipeline at every hole, and no leakage."""

from __future__ import annotations

from pathlib import Path

from kodama.model.completion import CompletionSettings
from kodama.model.evaluation import NoContext, evaluate, pick_holes, summarize, walk_repository

from .fakes import WHOLE_FILE, OracleEngine, RecordingProvider


def test_oracle_answers_score_perfectly_through_the_real_pipeline(repo: Path) -> None:
    hole_set = pick_holes(repo, holes=30, held_out=4, seed=5)
    engine = OracleEngine(hole_set.holes)
    run = evaluate(hole_set, engine, WHOLE_FILE, NoContext(), config={"context": "file"})
    assert len(run.results) == len(hole_set.holes)
    failures = [(r.expected, r.completion) for r in run.results if not r.exact]
    # Every answer survives the stop rules and post-processing: a body that opens a block on
    # its first line (``if len(values) == 0 {``) goes on after that block closes.
    assert failures == []
    assert len(hole_set.holes) >= 20
    summary = summarize(run.results)
    assert summary.parse_rate == 1.0 and summary.empty_rate == 0.0
    # The model saw the holed document: the prompt's prefix and suffix are the hole's.
    for hole, (prefix, suffix) in zip(hole_set.holes, engine.prompts, strict=True):
        assert prefix == hole.prefix and suffix == hole.suffix


def test_provider_sees_only_the_holed_document_and_held_out_snippets_are_dropped(
    repo: Path,
) -> None:
    hole_set = pick_holes(repo, holes=8, held_out=2, seed=2)
    held = hole_set.held_out
    kept = next(f.path for f in walk_repository(repo) if f.path not in held)
    provider = RecordingProvider([held[0], held[1], kept])
    engine = OracleEngine(hole_set.holes)
    run = evaluate(hole_set, engine, CompletionSettings(), provider)
    for hole, (path, text, offset) in zip(hole_set.holes, provider.seen, strict=True):
        assert path == hole.path and offset == len(hole.prefix)
        assert text == hole.prefix + hole.suffix, "the provider never sees the middle"
    # Its per-file cache is cleared before every hole (no reuse of another hole's document).
    assert provider.calls == [c for h in hole_set.holes
                              for c in (f"forget {h.path}", f"snippets {h.path}")]
    # Per hole: its own file's snippet and the non-held-out one stay, the other held-out goes.
    assert run.dropped_snippets == len(hole_set.holes)
    assert {r.snippets for r in run.results} == {2}
