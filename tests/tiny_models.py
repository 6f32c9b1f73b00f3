"""Tiny random causal LMs (Llama, Qwen2 and Mistral layouts) for decoder tests.

float64 keeps near-ties between logits from flipping an argmax between a tree pass and a sequential
pass, so "lossless" is tested as exact equality rather than up to rounding luck.
"""

from __future__ import annotations

import torch
from tokenizers import Tokenizer, models, pre_tokenizers, decoders
from transformers import (LlamaConfig, LlamaForCausalLM, MistralConfig, MistralForCausalLM, PreTrainedTokenizerFast,
                          Qwen2Config, Qwen2ForCausalLM)

from verifrag.model.heads import MedusaHeads
from verifrag.model.lean import LeanForward
from verifrag.model.runtime import LanguageModel
from verifrag.model.tokenizer import add_frag_token, fit_embeddings

VERILOG_WORDS = ["module", "endmodule", "input", "output", "reg", "wire", "assign", "always", "posedge", "begin",
                 "end", "if", "else", "clk", "rst", "q", "d", "a", "b", "y", "<=", "=", ";", "(", ")", ",", "[",
                 "]", ":", "0", "1", "4'b", "'d", "+", "-", "&", "|", "\n", " ", "  ", "@", "#"]


def byte_tokenizer() -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer with a few merged Verilog words, built locally (no download)."""
    vocab: dict[str, int] = {}
    byte_alphabet = pre_tokenizers.ByteLevel.alphabet()
    for symbol in sorted(byte_alphabet):
        vocab[symbol] = len(vocab)
    merges = []
    for word in ["module", "endmodule", "assign", "always", "posedge", "input", "output"]:
        mapped = "".join(ch if ch in byte_alphabet else ch for ch in word)
        current = mapped[0]
        for ch in mapped[1:]:
            merged = current + ch
            if merged not in vocab:
                vocab[merged] = len(vocab)
                merges.append((current, ch))
            current = merged
    vocab["<eos>"] = len(vocab)
    model = models.BPE(vocab=vocab, merges=merges)
    tokenizer = Tokenizer(model)
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="<eos>")
    return fast


def tiny_lm(
    kind: str = "llama", seed: int = 0, num_heads: int = 3, runtime: str = "transformers", weights: str = "dense"
) -> tuple[LanguageModel, MedusaHeads]:
    """A random tiny model with `[FRAG]` and random (not identity) Medusa heads, run by transformers'
    forward or (runtime "lean") by the lean forward with `weights` "dense", "float16", "int8" or "int4"
    (float64 but for the float16 and int4 formats, which run over a float32 model; int4 groups 32 inputs,
    so its model is 64 wide)."""
    torch.manual_seed(seed)
    width = 64 if weights == "int4" else 48
    tokenizer = byte_tokenizer()
    frag = add_frag_token(tokenizer)
    common = dict(vocab_size=len(tokenizer), hidden_size=width, intermediate_size=96, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                  eos_token_id=tokenizer.eos_token_id)
    if kind == "llama":
        model = LlamaForCausalLM(LlamaConfig(**common))
    elif kind == "qwen2":
        model = Qwen2ForCausalLM(Qwen2Config(**common))
    elif kind == "mistral":
        model = MistralForCausalLM(MistralConfig(**common))
    else:
        raise ValueError(kind)
    model = model.to(torch.float32 if weights in ("float16", "int4") else torch.float64).eval()
    fit_embeddings(model, tokenizer)
    heads = MedusaHeads(width, num_heads, 1).to(model.dtype)
    for parameter in heads.parameters():
        torch.nn.init.normal_(parameter, std=0.3)
    lm = LanguageModel(model, tokenizer, banned_ids=[frag], frag_token_id=frag)
    if runtime == "lean":
        lm.lean = LeanForward(model, weights)
    return lm, heads
