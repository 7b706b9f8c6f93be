"""What a fine-tune trains and how it is kept: the model made trainable for a method (LoRA
adapters through peft, the top layers, or every parameter), and what was learned written to a
folder and applied again when serving.

- :func:`make_trainable` turns the loaded model into what is trained.
- :func:`save_trained` / :func:`apply_trained` write and read what was learned (a peft
  adapter folder, or the trained tensors of the other methods).

An adapter folder is read only once :func:`check_adapter` found it safe: safetensors only
(no pickle, which could run code when loaded), no links out of it, JSON files that hold
objects, weights whose headers are whole. Anything else is an :class:`UnsafeAdapter`.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from kodama.model.config import FineTuneConfig
from kodama.model.finetune.durable_files import first_link

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")
"""Torch's pickle formats: adapter weights in one of them are refused, never loaded."""
WEIGHT_STEMS = ("adapter_model", "trained")
"""Names of adapter weights (peft's, and :data:`TRAINED_FILE`'s); other files of the folder
(a trainer's ``training_args.bin``) are never read."""
LORA_CONFIG = "adapter_config.json"
LORA_WEIGHTS = "adapter_model.safetensors"
TRAINED_FILE = "trained.safetensors"
"""Trained tensors of the ``top`` and ``full`` methods (peft writes its own files for LoRA)."""
METHOD_FILE = "kodama-method.json"
"""Which method trained the tensors of :data:`TRAINED_FILE`."""


class UnsafeAdapter(ValueError):
    """An adapter folder that is not loaded: damaged, in a pickle format, or linking out."""

    def __init__(self, folder: Path, problem: str) -> None:
        """``problem``: what is wrong, naming the file."""
        super().__init__(f"the adapter {folder} is not loaded: {problem}")


def check_adapter(folder: Path) -> None:
    """Refuse (:class:`UnsafeAdapter`) an adapter folder that is not a folder of plain files,
    holds adapter weights in a pickle format, a JSON file that is not an object, or
    safetensors whose header is cut or damaged; or that holds neither a LoRA adapter nor
    trained tensors."""
    from safetensors import safe_open

    if not folder.is_dir():
        raise UnsafeAdapter(folder, "it is not a folder")
    link = first_link(folder)
    if link is not None:
        raise UnsafeAdapter(folder, f"{link} is a link to {os.readlink(link)}; an "
                                    "adapter folder must hold its own files")
    for dirpath, _dirnames, filenames in os.walk(folder):
        for name in filenames:
            entry = Path(dirpath) / name
            if entry.suffix.lower() in PICKLE_SUFFIXES and entry.stem in WEIGHT_STEMS:
                raise UnsafeAdapter(folder, f"{entry.name} is a pickle, which can run code "
                                            "when loaded: Kodama loads adapters from "
                                            "safetensors only (save it with "
                                            "safe_serialization=True)")
            if entry.suffix == ".json":
                _json_object(folder, entry)
            elif entry.suffix == ".safetensors":
                try:
                    with safe_open(str(entry), "pt") as weights:
                        weights.keys()
                except Exception as exc:
                    raise UnsafeAdapter(folder, f"{entry.name} is damaged ({exc})") from exc
    if not (folder / LORA_WEIGHTS).is_file() and not (folder / TRAINED_FILE).is_file():
        raise UnsafeAdapter(folder, f"it holds no adapter ({LORA_CONFIG} with {LORA_WEIGHTS}, "
                                    f"or {TRAINED_FILE})")
    if (folder / LORA_WEIGHTS).is_file() and not (folder / LORA_CONFIG).is_file():
        raise UnsafeAdapter(folder, f"{LORA_WEIGHTS} comes without its {LORA_CONFIG}")


def _json_object(folder: Path, file: Path) -> dict[str, Any]:
    """The JSON object in ``file`` (:class:`UnsafeAdapter` when it is none)."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UnsafeAdapter(folder, f"{file.name} is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise UnsafeAdapter(folder, f"{file.name} does not hold a JSON object")
    return data


@contextmanager
def _peft_quietly() -> Iterator[None]:
    """peft asks the model ``is_gradient_checkpointing``, which transformers 5 deprecates with
    a FutureWarning the user can do nothing about; it is silenced here, and only here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*",
                                category=FutureWarning)
        yield


def make_trainable(model: Any, config: FineTuneConfig, adapter: Path | None = None) -> Any:
    """The model ready to train with ``config.method``; with LoRA, ``adapter`` (an installed
    adapter folder) is the starting point instead of a fresh one (continual learning). A fresh
    adapter's random initialisation is drawn from ``config.seed``: the same seed, the same run."""
    import torch

    if adapter is not None:
        check_adapter(adapter)
    torch.manual_seed(config.seed)
    trainable = _wrapped(model, config, adapter)
    # After peft's wrapping, which would make the inputs require gradients again.
    checkpoint_layers(model, config.gradient_checkpointing or 0)
    return trainable


def _wrapped(model: Any, config: FineTuneConfig, adapter: Path | None) -> Any:
    """``model`` with LoRA adapters (fresh, or ``adapter``), or with the parameters of the
    method trainable."""
    if config.method == "lora":
        from peft import LoraConfig, PeftModel, get_peft_model

        with _peft_quietly():
            if adapter is not None:
                return PeftModel.from_pretrained(model, str(adapter), is_trainable=True)
            # "all-linear" leaves the output layer out: the vocabulary head stays frozen.
            lora = LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha,
                              lora_dropout=config.dropout, target_modules="all-linear",
                              bias="none", task_type="CAUSAL_LM")
            return get_peft_model(model, lora)
    for parameter in model.parameters():
        parameter.requires_grad = config.method == "full"
    if config.method == "top":
        layers = model.model.layers
        for layer in layers[max(0, len(layers) - config.top_layers):]:
            for parameter in layer.parameters():
                parameter.requires_grad = True
        for parameter in model.model.norm.parameters():
            parameter.requires_grad = True
    if adapter is not None:
        apply_trained(model, adapter)
    return model


def checkpoint_layers(model: Any, every: int) -> None:
    """Recompute the activations of every ``every``-th decoder layer of the Hugging Face model
    ``model`` in the backward pass (0: none, the activations are kept). Non-reentrant
    checkpointing: gradients reach LoRA adapters inside a layer without the inputs requiring
    gradients, so the hook that would make them is removed (it would keep the activations of
    the frozen layers below a ``top`` fine-tune)."""
    if every <= 0:
        if getattr(model, "is_activation_checkpointing", False):
            model.activation_checkpointing_disable()
        return
    model.activation_checkpointing_enable(
        activation_checkpointing_kwargs={"use_reentrant": False}, every_n_layers=every)
    model.disable_input_require_grads()


def trainable_parameters(model: Any) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())


def save_trained(model: Any, folder: Path, method: str,
                 weights: dict[str, Any] | None = None) -> None:
    """Write what was learned into ``folder`` (created): the peft adapter, or the trained
    tensors in the base model's float type. ``weights``: the full state dict, when it had to
    be gathered from several processes (FSDP); else the model's own."""
    folder.mkdir(parents=True, exist_ok=True)
    if method == "lora":
        if weights is None:
            model.save_pretrained(str(folder))
        else:
            model.save_pretrained(str(folder), state_dict=weights)
        return
    from safetensors.torch import save_file

    dtype = next(p for p in model.parameters()).dtype
    weights = weights if weights is not None else dict(model.state_dict())
    tensors = {name: weights[name].detach().to(
                   "cpu", dtype=torch.bfloat16 if dtype == torch.float32 else dtype).contiguous()
               for name, p in model.named_parameters() if p.requires_grad}
    save_file(tensors, str(folder / TRAINED_FILE))
    (folder / METHOD_FILE).write_text(json.dumps({"method": method}), encoding="utf-8")


def apply_trained(model: Any, folder: Path) -> Any:
    """``model`` with what :func:`save_trained` wrote applied (LoRA merged into the weights, so
    serving runs at the base model's speed); returns the model to use. The folder is checked
    first (:func:`check_adapter`); trained tensors of another model are refused."""
    check_adapter(folder)
    if (folder / LORA_CONFIG).is_file():
        from peft import PeftModel

        with _peft_quietly():
            return PeftModel.from_pretrained(model, str(folder)).merge_and_unload()
    from safetensors.torch import load_file

    tensors = load_file(str(folder / TRAINED_FILE))
    names = dict(model.named_parameters())
    unknown = [name for name in tensors if name not in names]
    if unknown:
        raise ValueError(f"{folder}: {len(unknown)} trained tensors do not belong to this "
                         f"model (first: {unknown[0]}); it was trained on another model")
    wrong = [name for name, tensor in tensors.items() if tensor.shape != names[name].shape]
    if wrong:
        raise ValueError(f"{folder}: {wrong[0]} has the shape {tuple(tensors[wrong[0]].shape)} "
                         f"where this model's is {tuple(names[wrong[0]].shape)}; it was "
                         "trained on another model")
    with torch.no_grad():
        for name, tensor in tensors.items():
            names[name].copy_(tensor.to(names[name].dtype))
    return model
