"""The `[FRAG]` special token: added to any tokenizer, and the model's embeddings grown to match."""

from __future__ import annotations

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

FRAG_TOKEN = "[FRAG]"


def add_frag_token(tokenizer: PreTrainedTokenizerBase) -> int:
    """Register `[FRAG]` as a special token (idempotent) and return its id."""
    if FRAG_TOKEN not in tokenizer.get_vocab():
        tokenizer.add_special_tokens({"additional_special_tokens": [FRAG_TOKEN]}, replace_extra_special_tokens=False)
    return tokenizer.convert_tokens_to_ids(FRAG_TOKEN)


def fit_embeddings(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> None:
    """Grow the embedding (and a tied LM head) so every tokenizer id, `[FRAG]` included, has a row.

    New rows start at the mean of the old rows, deterministically (transformers' default draws them at
    random), so two loads of one checkpoint give the same model; a checkpoint may overwrite the
    `[FRAG]` row with a trained one.
    """
    old = model.get_input_embeddings().num_embeddings
    if old >= len(tokenizer):
        return
    model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    embedding = model.get_input_embeddings().weight
    with torch.no_grad():
        embedding[old:] = embedding[:old].mean(dim=0)
        output = model.get_output_embeddings()
        if output is not None and output.weight.data_ptr() != embedding.data_ptr():
            output.weight[old:] = output.weight[:old].mean(dim=0)
