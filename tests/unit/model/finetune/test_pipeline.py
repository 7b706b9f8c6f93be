"""The stages of the fine-tune pipeline, called in this process on the tiny model: data, plan,
the base model measured, training, the tuned model measured, the report and the install; a
resumed run reads its data and plan back; nothing new to learn stops early."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.repos import make_repo
from kodama.model.config import FineTuneConfig, ModelConfig
from kodama.model.finetune import data, pipeline
from kodama.model.finetune.dataset import DATASET_FILE, text_hash
from kodama.model.finetune.holes import HOLES_FILE
from kodama.model.finetune.run import DONE_FILE, MEMORY_FILE, Hooks, Request, Settings
from kodama.model.finetune.store import AdapterStore
from kodama.server.config import KodamaConfig
from kodama.server.setup import settings_from


def settings(model_dir: Path, **fine_tune: object) -> Settings:
    config = KodamaConfig()
    return Settings(ModelConfig(name=str(model_dir), dtype="float32", threads=1),
                    FineTuneConfig(holes=4, **fine_tune),  # type: ignore[arg-type]
                    settings_from(config.completion, config.context))


def test_the_stages_measure_train_report_and_install(tmp_path: Path,
                                                     tiny_model_dir: Path) -> None:
    root = make_repo(tmp_path / "repo")
    store = AdapterStore(tmp_path / "adapters")
    said: list[str] = []
    run = pipeline.open_run(Request(root), settings(tiny_model_dir, max_steps=3,
                                                    install="always"),
                            Hooks(say=said.append), store)
    assert run.folder is not None and run.folder.is_dir() and run.installed is None
    dataset = pipeline.prepare_data(run)
    assert dataset is not None and (run.folder / DATASET_FILE).is_file()
    training = pipeline.plan_training(run, dataset)
    assert training.plan.steps == 3 and training.plan.limited_by == "max_steps"
    assert training.evaluations == 2 and 0 < training.trainable < training.total

    base = pipeline.measure_base(run, dataset, training)
    assert base.holes is not None and base.run is not None
    assert len(base.holes.holes) == len(base.run.results) == 4
    assert {h.path for h in base.holes.holes} <= set(dataset.test_files())
    assert base.start.history == [{"step": 0, "validation_loss": base.validation_loss}]
    assert base.test_loss is not None
    assert "before: the base model completes 4 holes in " in said[-1]

    state = pipeline.train_model(run, dataset, training, base)
    assert state.step == 3 and (run.folder / "best").is_dir()
    tuned = pipeline.measure_tuned(run, dataset, training, base, state)
    assert len(tuned.run.results) == 4 and tuned.continued is None and tuned.forgetting is None
    assert run.loaded is None and training.model is None, "the trained model is released"

    report = pipeline.decide_and_install(run, dataset, training, base, tuned, state)
    installed = store.current(root)
    assert installed is not None and report.installed == installed.version
    assert report.decision.startswith("installed (install=always)")
    saved = json.loads((run.folder / "report.json").read_text())
    assert saved == json.loads(json.dumps(report.to_json(), default=str))
    assert saved["installed"] == installed.version and saved["training"]["steps"] == 3
    memory_plan = saved["training"]["memory_plan"]
    assert 0 < memory_plan["parts"]["weights"] < memory_plan["peak"] <= memory_plan["budget"]
    assert "MB (estimated " in (run.folder / "report.md").read_text()
    assert saved["results"]["holes"] == 4 and saved["data"]["continued_from"] is None
    assert installed.meta["results"] == report.results.to_json()
    assert installed.meta["splits"] == dataset.splits
    assert len(installed.meta["hole_results"]) == 4
    assert (installed.path / HOLES_FILE).is_file() and (installed.path / "report.md").is_file()
    assert (run.folder / DONE_FILE).read_text().startswith("installed")


def test_a_resumed_run_reads_its_data_and_plan_back(tmp_path: Path,
                                                    tiny_model_dir: Path) -> None:
    root = make_repo(tmp_path / "repo")
    chosen = settings(tiny_model_dir, max_steps=2)
    first = pipeline.open_run(Request(root), chosen, store=AdapterStore(tmp_path / "a"))
    dataset = pipeline.prepare_data(first)
    assert dataset is not None
    planned = pipeline.plan_training(first, dataset).plan

    said: list[str] = []
    again = pipeline.open_run(Request(root, resume=True), chosen, Hooks(say=said.append),
                              AdapterStore(tmp_path / "a"))
    assert again.folder == first.folder
    assert pipeline.prepare_data(again) == dataset
    assert pipeline.plan_training(again, dataset).plan == planned


def test_the_memory_plan_shapes_the_data_and_a_resumed_run_keeps_it(
        tmp_path: Path, tiny_model_dir: Path) -> None:
    root = make_repo(tmp_path / "repo")
    # Without checkpointing, only one sequence of 128 tokens per pass fits in 0.607 GB
    # (the tiny model's estimate is mostly the runtime's 0.6 GB).
    tight = settings(tiny_model_dir, max_steps=1, max_memory=0.607, gradient_checkpointing=0,
                     sequence_tokens=256, batch_size=2, gradient_accumulation=2)
    first = pipeline.open_run(Request(root), tight, store=AdapterStore(tmp_path / "a"))
    assert first.memory is not None and first.folder is not None
    assert first.memory.peak <= first.memory.budget == 607_000_000
    fitted = first.settings.fine_tune
    # As many tokens per optimiser step as configured (2 × 2 × 256).
    assert (fitted.batch_size, fitted.gradient_accumulation, fitted.sequence_tokens,
            fitted.gradient_checkpointing) == (1, 8, 128, 0)
    assert json.loads((first.folder / MEMORY_FILE).read_text())["sequence_tokens"] == 128
    dataset = pipeline.prepare_data(first)
    assert dataset is not None and max(len(s.ids) for s in dataset.train) <= 128

    roomy = settings(tiny_model_dir, max_steps=1, max_memory=100.0)
    again = pipeline.open_run(Request(root, resume=True), roomy,
                              store=AdapterStore(tmp_path / "a"))
    assert again.memory == first.memory and again.settings.fine_tune.sequence_tokens == 128
    assert again.settings.fine_tune.batch_size == fitted.batch_size


def test_nothing_changed_since_the_installed_adapter_stops_before_training(
        tmp_path: Path, tiny_model_dir: Path) -> None:
    root = make_repo(tmp_path / "repo")
    store = AdapterStore(tmp_path / "adapters")
    files = tmp_path / "adapter"
    files.mkdir()
    (files / "adapter_model.safetensors").write_bytes(b"weights")
    hashes = {s.path: text_hash(s.text) for s in data.collect(root).files}
    store.install(root, files, {"model": str(tiny_model_dir), "method": "lora",
                                "source_files": hashes})
    run = pipeline.open_run(Request(root), settings(tiny_model_dir), store=store)
    assert run.installed is not None and run.folder is not None
    assert pipeline.prepare_data(run) is None
    assert not run.folder.exists(), "the run folder of a run with nothing to do is removed"


def test_an_adapter_of_another_model_is_not_continued(tmp_path: Path,
                                                      tiny_model_dir: Path) -> None:
    root = make_repo(tmp_path / "repo")
    store = AdapterStore(tmp_path / "adapters")
    files = tmp_path / "adapter"
    files.mkdir()
    (files / "adapter_model.safetensors").write_bytes(b"weights")
    other = store.install(root, files, {"model": "another-model", "method": "lora"})
    said: list[str] = []
    run = pipeline.open_run(Request(root, dry_run=True), settings(tiny_model_dir),
                            Hooks(say=said.append), store)
    assert run.installed is None and run.folder is None
    assert said == [f"the installed adapter {other.version} was trained for another model or "
                    "method: starting from the base model"]


def test_a_missing_folder_is_refused(tmp_path: Path, tiny_model_dir: Path) -> None:
    with pytest.raises(ValueError, match="is not a folder"):
        pipeline.open_run(Request(tmp_path / "nowhere"), settings(tiny_model_dir))


def _train_history(root: Path, store: Path, model_dir: Path, seed: int) -> list[float]:
    run = pipeline.open_run(Request(root), settings(model_dir, max_steps=4, seed=seed,
                                                    dropout=0.3),
                            store=AdapterStore(store))
    dataset = pipeline.prepare_data(run)
    assert dataset is not None
    training = pipeline.plan_training(run, dataset)
    state = pipeline.train_model(run, dataset, training,
                                 pipeline.measure_base(run, dataset, training))
    return [next(iter(v for k, v in point.items() if k.endswith("loss")))
            for point in state.history]


def test_the_same_seed_trains_the_same_run(tmp_path: Path, tiny_model_dir: Path) -> None:
    # LoRA's random initialisation and dropout both draw from the seed, whatever ran before.
    root = make_repo(tmp_path / "repo")
    first = _train_history(root, tmp_path / "a", tiny_model_dir, seed=1)
    again = _train_history(root, tmp_path / "b", tiny_model_dir, seed=1)
    other = _train_history(root, tmp_path / "c", tiny_model_dir, seed=2)
    assert len(first) > 4 and first == again
    assert other != first
