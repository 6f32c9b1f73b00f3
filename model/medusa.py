"""The Medusa tree decoder: draft with the heads, verify a whole candidate tree in one forward pass.

Each step: the heads read the last committed position's hidden state and propose top-k tokens for the
next positions; the static candidate tree picks which combinations to try; one forward pass runs the
root (the base model's own next token) and every tree node, each node attending to the prompt and its
ancestors only (a 4D mask) at position prefix + depth. The longest acceptable path is committed (cut
back to a fragment boundary when snapping), its KV entries are moved into contiguous slots, and the
same pass supplies the next step's logits and hidden state, so no extra forward is needed.
"""

from __future__ import annotations

from typing import Callable

import torch

from verifrag.model.decode_run import DecodeRun
from verifrag.model.heads import MedusaHeads
from verifrag.model.kv_cache import Cache, compact
from verifrag.model.projections import rows_product
from verifrag.model.results import DecodeResult, DecodeStats
from verifrag.model.runtime import LanguageModel
from verifrag.model.sampling import DecodeConfig, accept_drafts, choose_token
from verifrag.model.tree import CandidateTree, child_indices


# Up to this many rows (root + nodes) one LM-head pass over all of them beats a pass per kept token: on
# one AVX-512 core with float16 weights 1 row took 3.3 ms, 5 rows 4.9 ms, 11 rows 9.1 ms, and a step keeps
# 2-4 tokens (a throwaway timing script, ninth session).
ONE_HEAD_PASS_ROWS = 12


class MedusaDecoder:
    name = "medusa"

    def __init__(self, lm: LanguageModel, heads: MedusaHeads, tree: CandidateTree) -> None:
        if tree.depth > heads.num_heads:
            raise ValueError(f"tree depth {tree.depth} exceeds the {heads.num_heads} heads")
        self.lm = lm
        self.heads = heads
        self.tree = tree
        device = lm.device
        self._depths = tree.depths.to(device)
        self._head_index, self._rank_index = (t.to(device) for t in tree.head_and_rank)
        self._ancestors = tree.ancestor_mask.to(device)
        self._children = child_indices(tree.parents, device)
        self._candidates, self._candidate_logits = self._draft_vocabulary()

    def _draft_vocabulary(self) -> tuple[torch.Tensor | None, Callable[[torch.Tensor], torch.Tensor] | None]:
        """The heads' candidate ids (banned ids removed) and the product with the LM-head rows for
        them, or (None, None) when the heads draft over the whole vocabulary."""
        candidates = self.heads.candidate_ids
        if candidates is None or self.heads.own_projection:
            return None, None
        keep = ~torch.isin(candidates, torch.tensor(self.lm.banned_ids, dtype=torch.long, device=candidates.device))
        candidates = candidates[keep].to(self.lm.device)
        weight = self.lm.model.get_output_embeddings().weight
        return candidates, rows_product(weight.index_select(0, candidates).detach().clone())

    @torch.inference_mode()
    def draft(self, hidden: torch.Tensor) -> torch.Tensor:
        """The tree's node tokens, from the heads' top-k at the last committed position."""
        if self._candidates is None:
            logits = self.heads(hidden[None], self.lm.model.get_output_embeddings())[:, 0].float()
            top = self.lm.mask_banned(logits).topk(self.tree.top_k, dim=-1).indices
        else:
            logits = self._candidate_logits(self.heads.head_states(hidden[None])[:, 0])
            top = self._candidates[logits.topk(min(self.tree.top_k, logits.shape[-1]), dim=-1).indices]
        return top[self._head_index, self._rank_index]

    def verify(self, root: int, nodes: torch.Tensor, cache: Cache, past: int) -> tuple[torch.Tensor, torch.Tensor]:
        """One forward pass over root + tree nodes on top of `past` cached positions: the tree's tokens
        and the final hidden state at every tree position. The cache grows by the whole tree."""
        tokens = torch.cat([torch.tensor([root], device=nodes.device), nodes])[None]
        hidden = self.lm.hidden_states(tokens, cache, past + self._depths, self._ancestors)
        return tokens[0], hidden

    def best_path(self, tokens: torch.Tensor, hidden: torch.Tensor, config: DecodeConfig) -> tuple[torch.Tensor, torch.Tensor]:
        """Indices (into root + nodes) of the deepest path whose every draft is acceptable, and the
        logits after its last token. A small tree's logits come from one LM-head pass over every row
        (the head's weight read once dominates it); a bigger tree's only at accepted nodes, parents first
        (a node's drafts are judged by its logits), one row per kept token under greedy decoding."""
        accepted = [False] * tokens.shape[0]
        accepted[0] = True
        every = self.lm.head_logits(hidden) if tokens.shape[0] <= ONE_HEAD_PASS_ROWS else None
        logits: dict[int, torch.Tensor] = {}
        for node, children in enumerate(self._children):
            if not accepted[node] or children is None:
                continue
            logits[node] = every[node : node + 1] if every is not None else self.lm.head_logits(hidden[node : node + 1])
            verdicts = accept_drafts(logits[node].expand(children.shape[0], -1), tokens[children], config)
            for child in children[verdicts].tolist():
                accepted[child] = True
        depth = torch.where(torch.tensor(accepted, device=tokens.device), self._depths, torch.full_like(self._depths, -1))
        best = int(torch.argmax(depth))  # first of the deepest: nodes are sorted, so ties go to top ranks
        if best not in logits:
            logits[best] = every[best : best + 1] if every is not None else self.lm.head_logits(hidden[best : best + 1])
        return torch.nonzero(self._ancestors[best])[:, 0], logits[best][0]

    @property
    def num_draft_nodes(self) -> int:
        """Tokens a verification pass adds after the root."""
        return self.tree.num_nodes

    def propose(self, hidden: torch.Tensor, context: list[int]) -> torch.Tensor:
        """The draft tokens of one step; `context` is every token so far, ending with the root."""
        return self.draft(hidden)

    def record(self, stats: DecodeStats, path: torch.Tensor, kept: int) -> None:
        """Statistics of a step that kept `kept` tokens of `path`: one hit for each head used."""
        for head in range(kept - 1):
            stats.head_hits[head] += 1

    @torch.inference_mode()
    def generate(self, prompt: str, config: DecodeConfig) -> DecodeResult:
        stats = DecodeStats(decoder=self.name, head_hits=[0] * self.heads.num_heads)
        run = DecodeRun.start(self.lm, prompt, config, stats, config.max_new_tokens + self.num_draft_nodes + 1)
        emitter, generator = run.emitter, run.generator
        cache, past, hidden = run.prefill.cache, run.past, run.prefill.hidden
        root = choose_token(run.prefill.logits, config, generator)
        while not run.done:
            nodes = self.propose(hidden, run.ids + emitter.ids + [root])
            tokens, hiddens = self.verify(root, nodes, cache, past)
            path, next_logits = self.best_path(tokens, hiddens, config)
            path_tokens = tokens[path].tolist()
            next_root = choose_token(next_logits, config, generator)
            kept = emitter.snap(path_tokens, next_root) if config.snap_fragments else len(path_tokens)
            stats.frag_discarded += len(path_tokens) - kept
            stats.steps += 1
            stats.accepted += len(path_tokens)
            stats.accepted_per_step.append(kept)
            self.record(stats, path, kept)
            if emitter.accept(path_tokens[:kept]):
                break
            compact(cache, past, path[:kept])
            past += kept
            hidden = hiddens[path[kept - 1]]
            root = next_root if kept == len(path_tokens) else path_tokens[kept]
        return run.finish(cache)

