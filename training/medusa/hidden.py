"""The heads-only fast path: run the frozen base once and keep its final hidden states.

With the base frozen, its hidden states never change, so every epoch after the first would recompute
the same numbers. They are computed once per position that has at least one head target, kept in
memory, and optionally written to a safetensors file that a later run (or a resumed one) reads back.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm

from verifrag.errors import UserError
from verifrag.training.labels import IGNORE_INDEX
from verifrag.training.medusa.data import Window, collate


@torch.inference_mode()
def compute_hidden(model: torch.nn.Module, windows: list[Window], batch_size: int, pad_id: int,
                   dtype: torch.dtype, show_progress: bool, competitors: int = 0
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(hidden (N, H) in `dtype`, labels (N, K), competitor ids) for positions with a kept head target.

    Competitor ids are the base's own top-`competitors` next tokens at those positions. Untrained heads
    are the identity, so these are the tokens the shared LM head ranks highly; a restricted training
    softmax that includes them learns to push them down, not only to pull the targets up.
    """
    device = next(model.parameters()).device
    hidden_parts: list[torch.Tensor] = []
    label_parts: list[torch.Tensor] = []
    seen = torch.zeros(0, dtype=torch.long)
    order = sorted(range(len(windows)), key=lambda i: windows[i].input_ids.shape[0])  # less padding
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    for batch_indices in tqdm(batches, desc="base hidden states", disable=not show_progress):
        batch = collate([windows[i] for i in batch_indices], pad_id)
        output = model(input_ids=batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device),
                       output_hidden_states=True, logits_to_keep=0 if competitors else 1)
        hidden = output.hidden_states[-1].to("cpu", dtype)
        labels = batch["labels"].transpose(1, 2)  # (B, L, K)
        keep = (labels != IGNORE_INDEX).any(dim=-1) & batch["attention_mask"].bool()
        hidden_parts.append(hidden[keep])
        label_parts.append(labels[keep])
        if competitors:
            top = output.logits[keep.to(device)].topk(competitors, dim=-1).indices
            seen = torch.cat([seen, top.unique().cpu()]).unique()
    hidden_size = int(model.config.hidden_size)
    heads = windows[0].labels.shape[0] if windows else 0
    if not hidden_parts:
        return torch.empty(0, hidden_size, dtype=dtype), torch.empty(0, heads, dtype=torch.long), seen
    return torch.cat(hidden_parts), torch.cat(label_parts), seen


def save_hidden(path: Path, hidden: torch.Tensor, labels: torch.Tensor, competitors: torch.Tensor, key: str) -> None:
    """Write a cache; `key` fingerprints the data and settings it was computed from."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {"hidden": hidden.contiguous(), "labels": labels.contiguous(), "competitors": competitors.contiguous()}
    save_file(tensors, str(path), metadata={"key": key})


def load_hidden(path: Path, key: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
    """A cache written for the same `key`, or None (missing or stale caches are recomputed)."""
    if not path.is_file():
        return None
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            if (handle.metadata() or {}).get("key") != key:
                return None
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise UserError(f"cannot read hidden-state cache {path}: {exc}") from exc
    return tensors["hidden"], tensors["labels"], tensors.get("competitors", torch.zeros(0, dtype=torch.long))
