"""The checkpoint directory: what the trainers write and the decoders, CLI and server load.

Layout (DESIGN.md section 3):
- `verifrag.json`: format version, base model reference, heads' shape, `[FRAG]` id, default candidate
  tree, measured head acceptance, training provenance.
- `medusa_heads.safetensors`: the heads' weights.
- tokenizer files (the base tokenizer with `[FRAG]` added).
- `embedding_rows.safetensors` (optional): trained rows of new tokens, e.g. `[FRAG]`.
- `adapter/` (optional): a PEFT LoRA adapter for the base (Medusa-2 or SALV), merged at load time.

Only JSON and safetensors are ever read: nothing here unpickles. `verifrag.json` is checked against its
schema (`checkpoint_config`) before any tensor is allocated.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from verifrag.errors import UserError
from verifrag.model.checkpoint_config import (
    CONFIG_FILE,
    DEFAULT_CHECKPOINT,
    CheckpointConfig,
    checkpoint_directory,
    read_config,
)
from verifrag.model.heads import MedusaHeads

HEADS_FILE = "medusa_heads.safetensors"
ROWS_FILE = "embedding_rows.safetensors"
ADAPTER_DIR = "adapter"
# A trainer's resume state inside its output folder (optimizer, schedule, progress): not part of the
# servable checkpoint, so a stage that copies a checkpoint leaves it behind.
STATE_DIR = "train_state"


@dataclass
class Checkpoint:
    directory: Path
    config: CheckpointConfig
    heads: MedusaHeads
    embedding_rows: dict[int, torch.Tensor]

    @property
    def adapter_dir(self) -> Path | None:
        adapter = self.directory / ADAPTER_DIR
        return adapter if (adapter / "adapter_config.json").is_file() else None


def save_checkpoint(
    directory: str | Path,
    config: CheckpointConfig,
    heads: MedusaHeads,
    tokenizer: Any,
    embedding_rows: dict[int, torch.Tensor] | None = None,
) -> Path:
    """Write a checkpoint directory (created if missing); returns its path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {
        name: tensor.detach().cpu().contiguous() if not tensor.is_floating_point() else tensor.detach().to("cpu", torch.float32).contiguous()
        for name, tensor in heads.state_dict().items()
    }
    save_file(state, directory / HEADS_FILE, metadata={"format": "pt"})
    if embedding_rows:
        rows = {str(i): row.detach().to("cpu", torch.float32).contiguous() for i, row in embedding_rows.items()}
        save_file(rows, directory / ROWS_FILE, metadata={"format": "pt"})
    tokenizer.save_pretrained(directory)
    (directory / CONFIG_FILE).write_text(json.dumps(asdict(config), indent=2) + "\n")
    return directory


def load_checkpoint(directory: str | Path) -> Checkpoint:
    """Read and validate a checkpoint; the base model is loaded separately (see `engine`)."""
    directory = checkpoint_directory(directory)
    config = read_config(directory)  # the schema's bounds hold before MedusaHeads allocates anything
    try:
        state = load_file(directory / HEADS_FILE)
    except (FileNotFoundError, SafetensorError, OSError) as exc:
        raise UserError(f"cannot read {directory / HEADS_FILE}: {exc}") from exc
    vocab = None if config.shared_lm_head else (state["projections.0.weight"].shape[0] if "projections.0.weight" in state else 0)
    candidates = state["candidate_ids"].shape[0] if "candidate_ids" in state else None
    heads = MedusaHeads(config.hidden_size, config.num_heads, config.head_layers, vocab_size=vocab, num_candidates=candidates)
    try:
        heads.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise UserError(f"{HEADS_FILE} does not match {CONFIG_FILE}: {first[1].strip() if len(first) > 1 else first[0]}") from exc
    rows: dict[int, torch.Tensor] = {}
    if (directory / ROWS_FILE).is_file():
        try:
            rows = {int(k): v for k, v in load_file(directory / ROWS_FILE).items()}
        except (SafetensorError, OSError, ValueError) as exc:
            raise UserError(f"cannot read {directory / ROWS_FILE}: {exc}") from exc
    return Checkpoint(directory, config, heads.eval(), rows)
