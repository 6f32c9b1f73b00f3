"""A tiny random Llama checkpoint with the real SmolLM2 tokenizer, for SALV tests (nothing downloaded)."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

from verifrag.model.base import resolve_base
from verifrag.model.checkpoint import CheckpointConfig, save_checkpoint
from verifrag.model.heads import MedusaHeads

HIDDEN = 32


def smollm_tokenizer():
    return AutoTokenizer.from_pretrained(resolve_base(None), local_files_only=True)


def tiny_llama(vocab_size: int, seed: int = 0) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=HIDDEN, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                         tie_word_embeddings=True)
    return LlamaForCausalLM(config).eval()


def tiny_checkpoint(root: Path) -> Path:
    """Save a random tiny base model and a checkpoint on it; returns the checkpoint directory."""
    tokenizer = smollm_tokenizer()
    base = root / "base"
    model = tiny_llama(len(tokenizer))
    model.config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(base)
    tokenizer.save_pretrained(base)
    config = CheckpointConfig(base_model=str(base), hidden_size=HIDDEN, num_heads=2,
                              provenance={"note": "tiny random test model"})
    return save_checkpoint(root / "checkpoint", config, MedusaHeads(HIDDEN, 2, 1), tokenizer)
