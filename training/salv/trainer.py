"""`verifrag train salv` training step: LoRA DPO on preference pairs, written as a servable checkpoint.

The policy is the checkpoint's model exactly as the server builds it
(`Engine.load`: base, `[FRAG]` rows, its own adapter merged) with a fresh LoRA
adapter; the reference policy is the same model with the new adapter disabled,
so no second copy of the weights is held. LoRA B starts at zero, so policy and
reference agree at step 0 (loss log 2). The output checkpoint is the input one
with the new adapter in `adapter/`; where the input already had one (the tuned
default does), the two are stacked into one adapter whose rank is the sum of
theirs and whose update is exactly their sum (peft's `cat` combination), which
`Engine.load` merges as before.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from tqdm import tqdm
from transformers import get_cosine_schedule_with_warmup

from verifrag.errors import UserError
from verifrag.model.checkpoint import (ADAPTER_DIR, CONFIG_FILE, DEFAULT_CHECKPOINT, STATE_DIR, load_checkpoint,
                                       read_config)
from verifrag.model.engine import Engine
from verifrag.training.precision import fresh_accelerator, mixed_precision
from verifrag.training.salv.contrast import CONTRAST_FILE, reset_contrast_pairs
from verifrag.training.salv.dpo import dpo_loss, encode_with_mask, pad_batch, sequence_logprobs
from verifrag.training.salv.jsonl import read_jsonl, write_jsonl

ADAPTER_WEIGHTS = "adapter_model.safetensors"  # peft's file name for the LoRA factors
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
LEVELS = ("signal", "module")


@dataclass(frozen=True)
class DpoSettings:
    """SALV's training recipe (DESIGN section 6); `level="module"` is the module-level DPO ablation."""

    beta: float = 0.1
    lr: float = 5e-6
    rank: int = 8
    epochs: int = 1
    batch_size: int = 2
    warmup_ratio: float = 0.1
    level: str = "signal"
    max_pairs: int | None = None
    reset_contrast: int = 0  # reset-timing contrast pairs added to the rollouts' (`contrast.py`)
    seed: int = 0
    mixed_precision: str = "auto"  # "no", "bf16" (autocast for policy and reference alike) or "auto"

    def validate(self) -> None:
        if self.level not in LEVELS:
            raise UserError(f"--level must be one of {', '.join(LEVELS)}, not {self.level!r}")
        if self.beta <= 0 or self.lr <= 0 or self.rank < 1 or self.epochs < 1 or self.batch_size < 1:
            raise UserError("--beta and --lr must be positive; --rank, --epochs and --batch-size at least 1")
        if self.reset_contrast < 0:
            raise UserError("--reset-contrast must be 0 or more")


def encode_pairs(pairs: list[dict], tokenizer, level: str) -> tuple[list[tuple], int]:
    """(chosen row, rejected row) per pair, each row (ids, mask); and how many pairs selected no token."""
    encoded, empty = [], 0
    for pair in pairs:
        rows = []
        for side in ("chosen", "rejected"):
            spans = [[0, len(pair[side])]] if level == "module" else pair[f"{side}_spans"]
            rows.append(encode_with_mask(tokenizer, pair["prompt"], pair[side], spans))
        if not all(any(mask) for _, mask in rows):
            empty += 1
            continue
        encoded.append(tuple(rows))
    return encoded, empty


def _lora(model: torch.nn.Module, rank: int):
    from peft import LoraConfig, get_peft_model

    names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    targets = [t for t in LORA_TARGETS if t in names]
    if not targets:
        raise UserError(f"the base model has none of the LoRA target layers {', '.join(LORA_TARGETS)}")
    config = LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.0, target_modules=targets, task_type="CAUSAL_LM")
    return get_peft_model(model, config)


def _save_adapter(model, input_adapter: Path | None, target: Path) -> None:
    """Save the trained adapter to `target`, stacked onto `input_adapter` when the input had one: the
    model was trained with that adapter merged, so the checkpoint must carry both updates. Its factors
    are stored in float16 (`_store_float16`)."""
    if input_adapter is None:
        model.save_pretrained(target, save_embedding_layers=False)
    else:
        model.load_adapter(str(input_adapter), adapter_name="input")
        model.add_weighted_adapter(["input", "default"], [1.0, 1.0], adapter_name="stacked", combination_type="cat")
        with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
            model.save_pretrained(scratch, selected_adapters=["stacked"], save_embedding_layers=False)
            shutil.move(Path(scratch) / "stacked", target)
    _store_float16(target / ADAPTER_WEIGHTS)


def _store_float16(path: Path) -> None:
    """Rewrite a LoRA weights file in float16. Every round stacks its rank onto the adapter, and the
    shipped checkpoint must stay under 60 MB: float16 halves it. The loss is below what serving loses
    anyway: peft loads the factors back into float32, and their product's rounding error (about 5e-4 of
    the update) is far smaller than the float16 rounding of the merged weights the CPU runtime runs (the
    shipped adapter stored so gave the same 156 greedy VerilogEval modules, `benchmarks/salv_round.md`)."""
    tensors = load_file(str(path))
    save_file({name: t.half() if t.is_floating_point() else t for name, t in tensors.items()}, str(path),
              metadata={"format": "pt"})


def _write_checkpoint(source: Path, output: Path, model, summary: dict) -> None:
    """Copy the input checkpoint (minus any adapter, and minus a trainer's resume state, which would
    otherwise carry an SFT run's optimizer into a DPO checkpoint), add `adapter/` (stacked on the
    input's own), record provenance."""
    shutil.copytree(source, output, ignore=shutil.ignore_patterns(ADAPTER_DIR, STATE_DIR), dirs_exist_ok=True)
    _save_adapter(model, load_checkpoint(source).adapter_dir, output / ADAPTER_DIR)
    config = read_config(output)
    base = Path(config.base_model)
    if not base.is_absolute() and (source / base).exists():  # keep a relative base reachable from the copy
        config.base_model = str((source / base).resolve())
    config.provenance = {**config.provenance, "salv": summary}
    (output / CONFIG_FILE).write_text(json.dumps(asdict(config), indent=2) + "\n")


def train_salv(pairs_path: Path, output: Path, settings: DpoSettings, *, checkpoint: str | None = None,
               device: str = "auto", progress: bool = True) -> dict:
    """Train LoRA with DPO on the pairs in `pairs_path`, write the checkpoint to `output`; returns a summary."""
    settings.validate()
    source = Path(checkpoint) if checkpoint else DEFAULT_CHECKPOINT
    if output.exists() and any(output.iterdir()):
        raise UserError(f"output folder {output} is not empty")
    pairs = list(read_jsonl(pairs_path))[: settings.max_pairs]
    if not pairs and not settings.reset_contrast:
        raise UserError(f"no preference pairs in {pairs_path}; nothing to train on")
    torch.manual_seed(settings.seed)
    engine = Engine.load(source, device=device)
    tokenizer = engine.lm.tokenizer
    contrast_stats = None
    if settings.reset_contrast:
        contrast, contrast_stats = reset_contrast_pairs(settings.reset_contrast, settings.seed, tokenizer)
        write_jsonl(pairs_path.with_name(CONTRAST_FILE), contrast)  # beside the pairs, to read what was trained
        pairs += contrast
    encoded, empty = encode_pairs(pairs, tokenizer, settings.level)
    if not encoded:
        raise UserError(f"none of the {len(pairs)} pairs selects any token")
    model = _lora(engine.lm.model, settings.rank)
    model.train()
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    loader = torch.utils.data.DataLoader(
        encoded, batch_size=settings.batch_size, shuffle=True,
        generator=torch.Generator().manual_seed(settings.seed),
        collate_fn=lambda batch: pad_batch([c for c, _ in batch] + [r for _, r in batch], pad_id),
    )
    steps = settings.epochs * len(loader)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=settings.lr)
    scheduler = get_cosine_schedule_with_warmup(optimizer, math.ceil(settings.warmup_ratio * steps), steps)
    accelerator = fresh_accelerator(cpu=engine.lm.device.type == "cpu",
                                    mixed_precision=mixed_precision(settings.mixed_precision, cpu_bfloat16=True))
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    history: list[dict] = []
    bar = tqdm(total=steps, desc="salv dpo", unit="step", disable=not progress or not accelerator.is_main_process,
               file=sys.stderr)
    for _ in range(settings.epochs):
        for input_ids, attention, selected in loader:
            half = input_ids.shape[0] // 2
            with torch.no_grad(), accelerator.unwrap_model(model).disable_adapter():
                reference = sequence_logprobs(model, input_ids, attention, selected)
            policy = sequence_logprobs(model, input_ids, attention, selected)
            loss, chosen, rejected = dpo_loss(policy[:half], policy[half:], reference[:half], reference[half:],
                                              settings.beta)
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            history.append({"loss": loss.item(), "accuracy": (chosen > rejected).float().mean().item(),
                            "margin": (chosen - rejected).mean().item()})
            bar.update()
            bar.set_postfix(loss=f"{history[-1]['loss']:.4f}")
    bar.close()
    summary = {
        "command": "verifrag train salv", "input_checkpoint": str(source), "pairs_file": str(pairs_path),
        "pairs": len(encoded), "pairs_without_tokens": empty, "steps": steps, **asdict(settings),
        "reset_contrast_stats": contrast_stats,
        "mixed_precision": accelerator.mixed_precision,
        "first_loss": history[0]["loss"], "final_loss": history[-1]["loss"],
        "mean_loss_last_epoch": sum(h["loss"] for h in history[-len(loader):]) / len(loader),
        "reward_accuracy_last_epoch": sum(h["accuracy"] for h in history[-len(loader):]) / len(loader),
    }
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        _write_checkpoint(source, output, accelerator.unwrap_model(model), summary)
    return summary
