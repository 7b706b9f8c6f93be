"""A tiny, randomly initialised Qwen2-architecture model for tests: built offline in seconds.

``make_tiny_model`` writes a Hugging Face folder (config, safetensors, tokenizer, chat
template) that :func:`kodama.model.loader.load_model` loads like any real model. Its tokenizer is a
real byte-level BPE trained on the code embedded below, with Qwen's special tokens, so prompt
building, FIM and chat templates run for real; its generations are noise.

``make_tiny_gguf`` writes the same weights and tokenizer as a GGUF file, so the GGUF conversion
path can be tested without the 491 MB default model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|fim_pad|>",
    "<|im_start|>",
    "<|im_end|>",
)
"""Qwen's special tokens, in the order they get ids 0..6 in the tiny vocabulary."""

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
"""A plain ChatML template, the format Qwen's instruct models use."""

VOCAB_SIZE = 512
SEED = 1234

_CORPUS = '''
def fibonacci(n):
    """Return the n-th Fibonacci number."""
    if n < 2:
        return n
    return fibonacci(n - 1) + fibonacci(n - 2)


class Stack:
    def __init__(self):
        self.items = []

    def push(self, item):
        self.items.append(item)

    def pop(self):
        if not self.items:
            raise IndexError("pop from empty stack")
        return self.items.pop()


def read_lines(path: str) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        return [line.rstrip("\\n") for line in handle]


import json
import os
from pathlib import Path

for index, value in enumerate(range(10)):
    print(index, value * 2)

function add(a, b) {
    return a + b;
}

const items = [1, 2, 3].map((x) => x * x);
export default function main() { console.log("hello, world"); }

func Sum(values []int) int {
    total := 0
    for _, v := range values {
        total += v
    }
    return total
}

fn main() {
    let mut count = 0;
    while count < 10 { count += 1; }
    println!("{}", count);
}

public class Main {
    public static void main(String[] args) {
        System.out.println("Hello");
    }
}

#include <stdio.h>
int main(void) { printf("%d\\n", 42); return 0; }
'''


def _train_tokenizer() -> Any:
    """Byte-level BPE over the corpus, Qwen's special tokens first. Deterministic."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator([_CORPUS] * 3, trainer=trainer)
    return tokenizer


def _make_tokenizer() -> Any:
    from transformers import PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=_train_tokenizer(),
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        extra_special_tokens=[t for t in SPECIAL_TOKENS if t != "<|endoftext|>"],
        clean_up_tokenization_spaces=False,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def make_tiny_model(path: Path, *, emit: tuple[str, str] | None = None,
                    tied: bool = False) -> Path:
    """Write a tiny seeded Qwen2 causal LM with a real BPE tokenizer to ``path``; return it.

    With ``emit=("x", "y")`` the output head only ever picks one of those two tokens (by the
    sign of one hidden unit), so the model writes an identifier such as ``xyyxy…``: a
    deterministic, non-empty, parseable completion for end-to-end plumbing tests.
    """
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    tokenizer = _make_tokenizer()
    eos = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        rms_norm_eps=1e-6,
        tie_word_embeddings=tied,
        bos_token_id=eos,
        eos_token_id=eos,
        pad_token_id=eos,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        model = Qwen2ForCausalLM(config)
    if emit is not None:
        first, second = (int(tokenizer.convert_tokens_to_ids(t)) for t in emit)
        with torch.no_grad():
            model.lm_head.weight.zero_()
            model.lm_head.weight[first, 0] = 10.0
            model.lm_head.weight[second, 0] = -10.0
    model.generation_config = GenerationConfig(
        bos_token_id=eos, eos_token_id=[eos, im_end], pad_token_id=eos
    )
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(path))
    tokenizer.save_pretrained(str(path))
    return path


def make_tiny_gguf(model_dir: Path, gguf_path: Path) -> Path:
    """Write the tiny model in ``model_dir`` as an unquantised (F32) GGUF file; return its path.

    Tensor names and metadata follow llama.cpp's qwen2 layout, which is what transformers'
    GGUF reader maps back.
    """
    import gguf
    from safetensors.numpy import load_file

    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    tok = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    weights = load_file(str(model_dir / "model.safetensors"))
    vocab: dict[str, int] = tok["model"]["vocab"]
    for added in tok["added_tokens"]:
        vocab[added["content"]] = added["id"]
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda item: item[1])]
    special = {a["content"] for a in tok["added_tokens"] if a["special"]}
    merges = [m if isinstance(m, str) else " ".join(m) for m in tok["model"]["merges"]]

    writer = gguf.GGUFWriter(str(gguf_path), "qwen2")
    writer.add_name("tiny-qwen2")
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(config["num_attention_heads"])
    writer.add_head_count_kv(config["num_key_value_heads"])
    writer.add_rope_freq_base(float(config.get("rope_parameters", {}).get("rope_theta", 1e6)))
    writer.add_layer_norm_rms_eps(config["rms_norm_eps"])
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types(
        [gguf.TokenType.CONTROL if t in special else gguf.TokenType.NORMAL for t in tokens]
    )
    writer.add_token_merges(merges)
    writer.add_bos_token_id(vocab["<|endoftext|>"])
    writer.add_eos_token_id(vocab["<|im_end|>"])
    writer.add_pad_token_id(vocab["<|endoftext|>"])
    writer.add_chat_template(CHAT_TEMPLATE)

    names = {
        "model.embed_tokens.weight": "token_embd.weight",
        "model.norm.weight": "output_norm.weight",
        "lm_head.weight": "output.weight",
    }
    per_layer = {
        "self_attn.q_proj": "attn_q",
        "self_attn.k_proj": "attn_k",
        "self_attn.v_proj": "attn_v",
        "self_attn.o_proj": "attn_output",
        "mlp.gate_proj": "ffn_gate",
        "mlp.up_proj": "ffn_up",
        "mlp.down_proj": "ffn_down",
        "input_layernorm": "attn_norm",
        "post_attention_layernorm": "ffn_norm",
    }
    for layer in range(config["num_hidden_layers"]):
        for hf, gg in per_layer.items():
            for kind in ("weight", "bias"):
                names[f"model.layers.{layer}.{hf}.{kind}"] = f"blk.{layer}.{gg}.{kind}"
    for hf_name, array in weights.items():
        writer.add_tensor(names[hf_name], array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return gguf_path
