"""Settings of one `verifrag train medusa` run, in one place so the CLI, the trainer and the
provenance written into verifrag.json agree on names and defaults."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class MedusaTrainConfig:
    data: list[str]
    output_dir: str
    heldout: list[str] = field(default_factory=list)  # empty: split `heldout_fraction` off `data`
    heldout_fraction: float = 0.05
    base_model: str | None = None  # None: DEFAULT_BASE
    base_checkpoint: str | None = None  # heads stage on a tuned base: this checkpoint's base with its adapter merged
    stage: str = "heads"  # "heads" (Medusa-1, frozen base) or "joint" (Medusa-2)
    base_tuning: str = "lora"  # joint only: "lora" (peft) or "full"
    lora_rank: int = 8
    lora_alpha: int = 16
    num_heads: int = 4
    head_layers: int = 1
    labels: str = "progressive"  # see training/labels.py
    frag_tokens: bool = False  # insert [FRAG] into the training text (needs a base that learns it)
    seq_len: int = 512
    max_train_tokens: int = 0  # 0: all
    max_heldout_tokens: int = 20_000
    max_doc_chars: int = 200_000
    batch_size: int = 8  # windows per batch (heads-only cached path: positions = batch_size * seq_len)
    grad_accum: int = 1
    epochs: float = 1.0
    max_steps: int = 0  # 0: from epochs
    lr: float = 1e-3  # heads; the base gets lr / head_lr_ratio
    head_lr_ratio: float = 4.0
    weight_decay: float = 0.0
    warmup_ratio: float = 0.05
    head_decay: float = 0.8
    lambda_peak: float = 0.2
    candidate_vocab: str = "corpus"  # "corpus": softmax over ids seen in training targets; "full"
    competitors: int = 0  # cached path, corpus vocab: also the base's top-N next tokens at each position
    cache_hidden: bool = True  # heads-only without [FRAG]: run the base once
    hidden_cache: str | None = None  # safetensors file to keep the cache between runs
    mixed_precision: str = "auto"
    save_every: int = 0
    eval_every: int = 0
    resume: bool = False
    tree_nodes: int = 16
    top_k: int = 10
    seed: int = 0
    command: str = ""
