"""The `[FRAG]` special token: added to any tokenizer, and the model's embeddings grown to match."""

from __future__ import annotations

from transformers import PreTrainedModel, PreTrainedTokenizerBase

FRAG_TOKEN = "[FRAG]"


def add_frag_token(tokenizer: PreTrainedTokenizerBase) -> int:
    """Register `[FRAG]` as a special token (idempotent) and return its id."""
    if FRAG_TOKEN not in tokenizer.get_vocab():
        tokenizer.add_special_tokens({"additional_special_tokens": [FRAG_TOKEN]}, replace_extra_special_tokens=False)
    return tokenizer.convert_tokens_to_ids(FRAG_TOKEN)


def fit_embeddings(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> None:
    """Grow the embedding (and a tied LM head) so every tokenizer id, `[FRAG]` included, has a row.

    New rows start at the mean embedding (transformers' default); a checkpoint may overwrite the
    `[FRAG]` row with a trained one.
    """
    if model.get_input_embeddings().num_embeddings < len(tokenizer):
        model.resize_token_embeddings(len(tokenizer))
