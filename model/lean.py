"""A compact forward pass for the Llama family (Llama/SmolLM2, Qwen2, Mistral), written from the
published architecture: RMSNorm, rotary position embeddings, grouped-query attention, SwiGLU MLP.

Why not transformers' forward: for a 135M model on a CPU its per-layer overhead and its growing
`DynamicCache` cost as much as the arithmetic. This forward runs the same weights (taken from the
loaded transformers model, so LoRA merges and `[FRAG]` rows are already in them) over a preallocated
`StaticKVCache`; a verification pass writes its tree into scratch slots and sees the prefix plus its
ancestors through one boolean mask. Every other architecture keeps transformers' forward.
"""

from __future__ import annotations

import ctypes
import functools
import mmap
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from transformers import PreTrainedModel

from verifrag.model.projections import LowRank, PackedHalfProjection, Projection, holds_own_copy, projection
from verifrag.model.static_cache import StaticKVCache

FAMILIES = ("llama", "qwen2", "mistral")
# RoPE variants whose frequencies do not depend on the sequence length: transformers bakes their
# scaling into `inv_freq` and `attention_scaling`, which we take as they are.
_STATIC_ROPE = ("default", "linear", "llama3", "yarn")


def _discard_pages(tensor: torch.Tensor) -> None:
    """Hand the whole pages inside `tensor`'s bytes back to the kernel before the tensor is dropped.

    transformers maps the safetensors file privately and gives each tensor a view of that one mapping,
    which stays mapped while any tensor of the file lives: dropping a weight alone frees nothing (measured:
    the default's resident memory stayed at 1,536 MiB; with this, 1,139 MiB). Nothing reads the pages
    again, and heap memory handed back this way reads as zeros if it is ever reused."""
    madvise = _madvise()
    if tensor.device.type != "cpu" or madvise is None:
        return
    start = tensor.data_ptr()
    end = start + tensor.numel() * tensor.element_size()
    first, last = -(-start // mmap.PAGESIZE) * mmap.PAGESIZE, end // mmap.PAGESIZE * mmap.PAGESIZE
    if last > first:
        madvise(ctypes.c_void_p(first), ctypes.c_size_t(last - first), mmap.MADV_DONTNEED)


@functools.cache
def _madvise() -> Callable[..., int] | None:
    """glibc's madvise, loaded once (None without glibc: freed weights' memory is then simply kept)."""
    try:
        return ctypes.CDLL("libc.so.6").madvise
    except (OSError, AttributeError):
        return None


def unsupported_reason(model: PreTrainedModel, context: int) -> str | None:
    """Why the lean forward cannot run `model` (None when it can)."""
    config = model.config
    if config.model_type not in FAMILIES:
        return f"model type {config.model_type!r} is not one of {', '.join(FAMILIES)}"
    rope_type = getattr(model.model.rotary_emb, "rope_type", "default")
    if rope_type not in _STATIC_ROPE:
        return f"RoPE type {rope_type!r} changes with the sequence length"
    if getattr(config, "hidden_act", "silu") != "silu":
        return f"activation {config.hidden_act!r} is not SwiGLU's silu"
    window = getattr(config, "sliding_window", None)
    if window is not None and getattr(config, "use_sliding_window", True) and window < context:
        return f"sliding window {window} is shorter than the {context}-token context"
    return None


@dataclass
class _Layer:
    input_norm: torch.Tensor
    qkv: Projection
    out: Projection
    post_norm: torch.Tensor
    gate_up: Projection
    down: Projection


class LeanForward:
    def __init__(self, model: PreTrainedModel, weight_format: str = "dense", low_rank: LowRank | None = None,
                 free_model_weights: bool = False) -> None:
        """`low_rank`: the factors of a LoRA adapter merged into `model`, for formats that keep them apart.
        `free_model_weights`: free each layer's linear weights in `model` once this forward holds its own
        copy of them (`model` can no longer run; a process that only decodes saves their memory)."""
        config = model.config
        core = model.model
        self.weight_format = weight_format
        self.dtype = core.embed_tokens.weight.dtype
        self.device = core.embed_tokens.weight.device
        self.eps = float(config.rms_norm_eps)
        first = core.layers[0].self_attn
        self.head_dim = int(getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads)
        self.num_heads = first.q_proj.out_features // self.head_dim
        self.num_kv_heads = first.k_proj.out_features // self.head_dim
        self.embed = core.embed_tokens.weight.detach()
        self.final_norm = core.norm.weight.detach()
        # The Q4_1 file keeps its embedding (the tied LM head) at 8 bits, and 4-bit logits lose too much:
        # under int4 the LM head is float16.
        self.lm_head = projection([model.get_output_embeddings()], "float16" if weight_format == "int4" else weight_format)
        self.layers = [self._layer(layer, low_rank, free_model_weights) for layer in core.layers]
        self.inv_freq = core.rotary_emb.inv_freq.detach().float()
        self.attention_scaling = float(getattr(core.rotary_emb, "attention_scaling", 1.0))
        self._cos = self._sin = torch.empty(0, self.head_dim, dtype=self.dtype, device=self.device)

    def _layer(self, layer: torch.nn.Module, low_rank: LowRank | None, free_model_weights: bool) -> _Layer:
        attn, mlp = layer.self_attn, layer.mlp
        fmt = self.weight_format
        built = _Layer(
            layer.input_layernorm.weight.detach(),
            projection([attn.q_proj, attn.k_proj, attn.v_proj], fmt, low_rank),
            projection([attn.o_proj], fmt, low_rank),
            layer.post_attention_layernorm.weight.detach(),
            projection([mlp.gate_proj, mlp.up_proj], fmt, low_rank),
            projection([mlp.down_proj], fmt, low_rank),
        )
        if free_model_weights and all(holds_own_copy(p) for p in (built.qkv, built.out, built.gate_up, built.down)):
            for linear in (attn.q_proj, attn.k_proj, attn.v_proj, attn.o_proj,
                           mlp.gate_proj, mlp.up_proj, mlp.down_proj):
                _discard_pages(linear.weight)
                linear.weight = torch.nn.Parameter(linear.weight.new_empty(0), requires_grad=False)
        return built

    @property
    def cheap_tree_passes(self) -> bool:
        """Whether a pass over several rows runs the same kernel as a one-token step at little more
        cost (fbgemm's float16), rather than the float32 model or a kernel that slows with rows."""
        return all(isinstance(p, PackedHalfProjection)
                   for layer in self.layers for p in (layer.qkv, layer.out, layer.gate_up, layer.down))

    def new_cache(self, capacity: int) -> StaticKVCache:
        return StaticKVCache(len(self.layers), self.num_kv_heads, self.head_dim, capacity, self.dtype, self.device)

    def _rope_tables(self, needed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """cos and signed sin for positions 0..needed-1 at least; recomputed (doubling) only when
        outgrown."""
        if self._cos.shape[0] < needed:
            size = max(256, 1 << (needed - 1).bit_length())
            positions = torch.arange(size, dtype=torch.float32, device=self.device)
            freqs = torch.outer(positions, self.inv_freq.to(self.device))
            angles = torch.cat([freqs, freqs], dim=-1)
            self._cos = (angles.cos() * self.attention_scaling).to(self.dtype)
            sin = angles.sin() * self.attention_scaling
            sin[:, : self.head_dim // 2] *= -1  # the sign rotate-half gives the first half (see _rotate)
            self._sin = sin.to(self.dtype)
        return self._cos, self._sin

    def _norm(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """RMSNorm, computed in float32 and scaled in the model's dtype, as the reference does (in one
        fused op for a float32 model: a one-token step is short enough for per-op overhead to show)."""
        if x.dtype == torch.float32:
            return F.rms_norm(x, (x.shape[-1],), weight, self.eps)
        x32 = x.float()
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return weight * x32.to(x.dtype)

    @staticmethod
    def _rotate(x: torch.Tensor, cos: torch.Tensor, signed_sin: torch.Tensor) -> torch.Tensor:
        """Rotary embedding, x * cos + rotate_half(x) * sin. rotate_half(x) is (-x2, x1): x rolled by
        half a head, with the first half's sign folded into the sin table, which spares the negation
        and the concatenation (measured 5.6 against 14.5 microseconds a call; a step makes 60 calls).
        Two products rounded apart and then added, as the reference rounds them: a fused addcmul
        (4.7 microseconds) doubled the float32 logit error of the default model against a float64
        run (1.1e-4 against transformers' 5.4e-5), because its 26,000-sized residual stream
        amplifies one rounding difference in the rotation into the logits."""
        return x * cos + x.roll(x.shape[-1] // 2, -1) * signed_sin

    @torch.inference_mode()
    def __call__(
        self,
        ids: torch.Tensor,
        cache: StaticKVCache,
        positions: torch.Tensor | None = None,
        tree_mask: torch.Tensor | None = None,
        last_only: bool = False,
        with_logits: bool = True,
    ) -> tuple[torch.Tensor | None, torch.Tensor]:
        """Logits (float32; None without `with_logits`) and final hidden states for `ids` (1, q) written
        after `cache.length`.

        `positions` (q,) default to consecutive ones; `tree_mask` (q, q) boolean says which new tokens
        each new token sees (the prefix is always visible); without it the new tokens are causal.
        """
        q = ids.shape[1]
        past = cache.length
        cache.reserve(past + q)
        cos_table, sin_table = self._rope_tables(past + q if positions is None else int(positions.max()) + 1)
        if positions is None:
            cos, sin = cos_table[past : past + q], sin_table[past : past + q]
        else:
            cos, sin = cos_table[positions], sin_table[positions]
        mask, causal = None, False
        if tree_mask is not None:
            mask = cache.tree_mask(tree_mask, past)
        elif q > 1 and past == 0:
            causal = True
        elif q > 1:
            mask = torch.ones((q, past + q), dtype=torch.bool, device=self.device).tril(past)
        x = F.embedding(ids[0], self.embed)
        for index, layer in enumerate(self.layers):
            x = x + self._attention(index, layer, self._norm(x, layer.input_norm), cache, past, cos, sin, mask, causal)
            gate, up = layer.gate_up(self._norm(x, layer.post_norm))
            x = x + layer.down(F.silu(gate) * up)[0]
        if tree_mask is not None:
            cache.release_mask(q, past)
        cache.length = past + q
        hidden = self._norm(x[-1:] if last_only else x, self.final_norm)
        return (self.logits(hidden) if with_logits else None), hidden

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """float32 logits for final hidden states (rows, hidden); the LM head is the largest matrix, so
        a tree pass asks only for the rows its acceptance walk reaches."""
        return self.lm_head(hidden)[0].float()

    def _attention(self, index: int, layer: _Layer, h: torch.Tensor, cache: StaticKVCache, past: int,
                   cos: torch.Tensor, sin: torch.Tensor, mask: torch.Tensor | None, causal: bool) -> torch.Tensor:
        q_len = h.shape[0]
        query, key, value = layer.qkv(h)
        query = self._rotate(query.view(q_len, self.num_heads, self.head_dim).transpose(0, 1), cos, sin)
        key = self._rotate(key.view(q_len, self.num_kv_heads, self.head_dim).transpose(0, 1), cos, sin)
        end = past + q_len
        cache.keys[index, :, past:end] = key
        cache.values[index, :, past:end] = value.view(q_len, self.num_kv_heads, self.head_dim).transpose(0, 1)
        attended = F.scaled_dot_product_attention(
            query[None], cache.keys[index, :, :end][None], cache.values[index, :, :end][None],
            attn_mask=mask, is_causal=causal, enable_gqa=self.num_heads != self.num_kv_heads,
        )
        return layer.out(attended[0].transpose(0, 1).reshape(q_len, self.num_heads * self.head_dim))[0]
