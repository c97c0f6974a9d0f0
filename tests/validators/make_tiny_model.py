"""A tiny randomly initialised Llama or Qwen2 (2 layers; Qwen2 has q/k/v biases) and a tokenizer
trained on the spot, saved to OUTDIR. Nothing is downloaded.

Usage: python make_tiny_model.py OUTDIR [llama|qwen2]"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

# The trainers' chat templates (Llama 3, ChatML) use these: they are in the vocabulary from the
# start, so applying a template adds no token the tiny model has no embedding for.
CHAT_TOKENS = [
    "<|begin_of_text|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eot_id|>",
    "<|im_start|>",
    "<|im_end|>",
]


def main() -> None:
    out = Path(sys.argv[1])
    arch = sys.argv[2] if len(sys.argv) > 2 else "llama"
    out.mkdir(parents=True, exist_ok=True)
    core = Tokenizer(models.BPE(unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=256, special_tokens=["<unk>", "<s>", "</s>", "<pad>", *CHAT_TOKENS]
    )
    core.train_from_iterator(["the sky is blue and the grass is green, what is the answer"] * 50, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        additional_special_tokens=CHAT_TOKENS,
    )
    tokenizer.save_pretrained(out)
    config_class, model_class = (
        (Qwen2Config, Qwen2ForCausalLM) if arch == "qwen2" else (LlamaConfig, LlamaForCausalLM)
    )
    config = config_class(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    model_class(config).save_pretrained(out)


if __name__ == "__main__":
    main()
