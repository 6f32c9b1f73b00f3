"""A loaded language model as the decoders use it: prompt encoding, one forward pass, prefill.

Both decoders go through `forward`, so a tree verification pass and a plain next-token step differ only
in the mask and positions they pass, never in how logits or hidden states are obtained.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Sequence

import torch
from transformers import DynamicCache, PreTrainedModel, PreTrainedTokenizerBase

from verifrag.errors import UserError
from verifrag.model.healing import TokenHealer
from verifrag.model.kv_cache import Cache, PrefixCache
from verifrag.model.lean import LeanForward


@dataclass
class Prefill:
    cache: Cache
    logits: torch.Tensor  # (vocab,) next-token logits after the prompt
    hidden: torch.Tensor  # (hidden,) the last position's final hidden state (Medusa heads read it)
    reused: int  # prompt tokens served from the prefix cache
    draft_hidden: torch.Tensor | None = None  # (draft, hidden) final hidden states at the draft tokens
    draft_logits: torch.Tensor | None = None  # (draft, vocab) next-token logits after each draft token


@dataclass
class LanguageModel:
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    banned_ids: list[int] = field(default_factory=list)  # e.g. an untrained [FRAG]
    frag_token_id: int | None = None
    prefix_cache: PrefixCache = field(default_factory=PrefixCache)
    lean: LeanForward | None = None  # the compact forward, on supported families; else transformers'

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype

    @property
    def context_length(self) -> int:
        return int(getattr(self.model.config, "max_position_embeddings", 2048))

    @property
    def eos_ids(self) -> set[int]:
        ids = set()
        for source in (self.tokenizer.eos_token_id, getattr(self.model.generation_config, "eos_token_id", None)):
            if isinstance(source, int):
                ids.add(source)
            elif isinstance(source, (list, tuple)):
                ids.update(source)
        return ids

    def encode_prompt(self, prompt: str, max_new_tokens: int) -> tuple[list[int], int]:
        """Token ids of `prompt`, cut from the left to leave room for `max_new_tokens`; and how many
        tokens were cut."""
        if not prompt:
            raise UserError("the prompt is empty")
        ids = self.tokenizer(prompt, add_special_tokens=True)["input_ids"]
        room = self.context_length - max_new_tokens
        if room < 1:
            raise UserError(f"max_new_tokens {max_new_tokens} leaves no room in the {self.context_length}-token context")
        cut = max(0, len(ids) - room)
        return ids[cut:], cut

    @cached_property
    def healer(self) -> TokenHealer:
        """Built on first use: it reads every token's string once (about 50,000 for SmolLM2)."""
        return TokenHealer(self.tokenizer)

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)

    def mask_banned(self, logits: torch.Tensor) -> torch.Tensor:
        if self.banned_ids:
            logits[..., self.banned_ids] = float("-inf")
        return logits

    @torch.inference_mode()
    def forward(
        self,
        ids: torch.Tensor,
        cache: Cache,
        positions: torch.Tensor | None = None,
        tree_mask: torch.Tensor | None = None,
        last_only: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits and final hidden states for `ids` (shape (1, q)) on top of `cache`, which grows by q.

        `positions` (q,) default to the next consecutive ones; `tree_mask` (q, q) boolean, when given,
        says which of the new tokens each new token attends to (all of the cached prefix is visible).
        """
        if self.lean is not None:
            logits, hidden = self.lean(ids, cache, positions, tree_mask, last_only)
            return self.mask_banned(logits), hidden
        output = self._transformers_pass(ids, cache, positions, tree_mask, logits_to_keep=1 if last_only else 0)
        hidden = output.hidden_states[-1][0]
        logits = output.logits[0].float()
        return self.mask_banned(logits), (hidden[-1:] if last_only else hidden)

    def _transformers_pass(self, ids: torch.Tensor, cache: Cache, positions: torch.Tensor | None,
                           tree_mask: torch.Tensor | None, logits_to_keep: int):
        """transformers' forward with every layer's hidden states; logits for the last `logits_to_keep`
        positions (0: all)."""
        return self.model(
            input_ids=ids,
            cache=cache,
            position_ids=None if positions is None else positions[None],
            attention_mask=None if tree_mask is None else self._tree_attention(tree_mask, cache.get_seq_length()),
            use_cache=True,
            output_hidden_states=True,
            logits_to_keep=logits_to_keep,
        )

    @torch.inference_mode()
    def hidden_states(self, ids: torch.Tensor, cache: Cache, positions: torch.Tensor | None = None,
                      tree_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Final hidden states of a pass (as `forward`: a tree pass with `positions` and `tree_mask`, else
        causal), without logits: the caller asks `head_logits` for the rows it needs."""
        if self.lean is not None:
            return self.lean(ids, cache, positions, tree_mask, with_logits=False)[1]
        # transformers always computes some logits: keep only the last row's, not one per node
        return self._transformers_pass(ids, cache, positions, tree_mask, logits_to_keep=1).hidden_states[-1][0]

    @torch.inference_mode()
    def head_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """float32 next-token logits, banned ids masked, for final hidden states (rows, hidden)."""
        if self.lean is not None:
            return self.mask_banned(self.lean.logits(hidden))
        return self.mask_banned(self.model.get_output_embeddings()(hidden).float())

    def _tree_attention(self, tree_mask: torch.Tensor, past: int) -> torch.Tensor:
        """transformers' 4D float mask (0 where allowed, the dtype's minimum elsewhere) for a tree."""
        dtype = self.dtype
        block = torch.zeros(tree_mask.shape, dtype=dtype, device=tree_mask.device).masked_fill(
            ~tree_mask, torch.finfo(dtype).min
        )
        prefix = torch.zeros((tree_mask.shape[0], past), dtype=dtype, device=tree_mask.device)
        return torch.cat([prefix, block], dim=1)[None, None]

    def prefill(self, ids: list[int], reserve: int = 0, draft: Sequence[int] = ()) -> Prefill:
        """Run the prompt, reusing the prefix cache's longest common prefix; `reserve` more positions
        are made room for in a static cache (so decoding never grows it). `draft` tokens ride along
        after the prompt in the same causal pass (the cache then holds them too, for the caller to keep
        or crop): the prompt's rows come out as they would without them."""
        cache, reused = self.prefix_cache.take(ids)
        if cache is None:
            cache = self.lean.new_cache(len(ids) + reserve) if self.lean else DynamicCache(config=self.model.config)
        elif self.lean is not None:
            cache.reserve(len(ids) + reserve)
        tensor = torch.tensor([ids[reused:] + list(draft)], device=self.device)
        if not draft:
            logits, hidden = self.forward(tensor, cache, last_only=True)
            return Prefill(cache, logits[-1], hidden[-1], reused)
        rows = self.hidden_states(tensor, cache)[-len(draft) - 1 :]
        logits = self.head_logits(rows)  # one pass over every row: reading the head's weight dominates
        return Prefill(cache, logits[0], rows[0], reused, rows[1:], logits[1:])

    def keep_prompt(self, ids: list[int], cache: Cache) -> None:
        """Hand the cache back after a generation so the next prompt can reuse its prompt part."""
        self.prefix_cache.store(ids, cache)
