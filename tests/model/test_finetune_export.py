"""``kodama adapters export``: the installed adapter in the forms inference servers load —
peft's LoRA folder (vLLM's ``--lora-modules``) and merged full weights — checked by loading
them the way those servers' libraries do and comparing logits with Kodama's own serving."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from helpers.repos import fine_tune, make_repo
from kodama.model.finetune.store import AdapterStore
from kodama.model.loader import load_model
from kodama.server.commands.cli import main


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path,
          kodama_cache_dir: Path) -> tuple[Path, torch.Tensor]:
    """A repository with an installed LoRA adapter, and the tuned model's logits on IDS."""
    root = make_repo(tmp_path_factory.mktemp("export") / "flaskish")
    with pytest.MonkeyPatch.context() as patch:  # module scope: before the autouse fixture
        patch.setenv("KODAMA_CACHE_DIR", str(kodama_cache_dir))
        return _tune(root, tiny_model_dir)


def _tune(root: Path, tiny_model_dir: Path) -> tuple[Path, torch.Tensor]:
    assert fine_tune(root, tiny_model_dir, "--max-steps", "3", "--learning-rate", "0.05",
                     "--install", "always") == 0
    installed = AdapterStore().current(root)
    assert installed is not None
    with torch.no_grad():
        logits = load_model(str(tiny_model_dir), dtype="float32",
                            adapter=installed.path).model(IDS).logits
    return root, logits


IDS = torch.tensor([[10, 20, 30, 40, 50]])


def test_lora_export_loads_as_peft_adapter_on_the_base_model(
        tuned: tuple[Path, torch.Tensor], tiny_model_dir: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    root, expected = tuned
    dest = tmp_path / "exported"
    assert main(["adapters", "export", str(root), "--to", str(dest)]) == 0
    assert "as 'kodama-flaskish'" in capsys.readouterr().out
    config = json.loads((dest / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str(tiny_model_dir)
    assert config["peft_type"] == "LORA" and config["r"] == 16
    assert set(config["target_modules"]) >= {"q_proj", "v_proj", "down_proj"}
    notes = (dest / "SERVING.md").read_text()
    assert f"--lora-modules kodama-flaskish={dest}" in notes
    assert "--remote-model kodama-flaskish" in notes
    base = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir), dtype=torch.float32)
    with torch.no_grad():
        before = base(IDS).logits
        got = PeftModel.from_pretrained(base, str(dest)).model(IDS).logits
    assert not torch.allclose(before, expected, atol=1e-4), "the adapter changes the model"
    assert torch.allclose(got, expected, atol=1e-4)
    # A second export to the same folder is refused rather than mixed in.
    assert main(["adapters", "export", str(root), "--to", str(dest)]) == 1


def test_merged_export_is_a_plain_model_folder_with_the_tuned_weights(
        tuned: tuple[Path, torch.Tensor], tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    root, expected = tuned
    dest = tmp_path / "merged"
    assert main(["adapters", "export", str(root), "--to", str(dest), "--merged",
                 "--name", "team-model"]) == 0
    assert not list(dest.glob("adapter_*")), "no adapter left: the weights carry it"
    model = AutoModelForCausalLM.from_pretrained(str(dest), dtype=torch.float32)
    with torch.no_grad():
        got = model(IDS).logits
    assert torch.allclose(got, expected, atol=2e-2)  # saved in the load dtype (bf16 or f32)
    assert AutoTokenizer.from_pretrained(str(dest)).encode("def f():") != []
    assert "--served-model-name team-model" in (dest / "SERVING.md").read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".merged.")], "no scratch"


def test_export_without_an_installed_adapter_says_what_to_do(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["adapters", "export", str(tmp_path), "--to", str(tmp_path / "x")]) == 1
    assert "run `kodama fine-tune" in capsys.readouterr().err
