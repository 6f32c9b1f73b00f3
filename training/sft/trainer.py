"""Supervised tuning run: LoRA on every linear layer of the base, answer-only loss on instruction pairs,
plain next-token loss on raw code; accelerate for devices, processes and mixed precision.

Built for a 2-core CPU and sessions that end: the run stops itself at `max_minutes`, saves its state every
`save_minutes` and at the stop, and `--resume` continues at exactly the next batch (the batch sequence is a
pure function of the seed, see `examples.iterate_steps`). Every save also writes a loadable checkpoint, so
a run cut short still leaves a usable model.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from accelerate.utils import set_seed
from tqdm.auto import tqdm

from verifrag.errors import UserError
from verifrag.model.base import load_base
from verifrag.model.checkpoint import ADAPTER_DIR, CONFIG_FILE, DEFAULT_CHECKPOINT, STATE_DIR, load_checkpoint
from verifrag.model.tokenizer import add_frag_token, fit_embeddings
from verifrag.training.precision import fresh_accelerator, mixed_precision
from verifrag.training.schedule import warmup_cosine
from verifrag.training.sft.examples import (Example, Pair, collate, heldout_split, iterate_steps, length_batches,
                                            pair_example, raw_examples, read_pairs, read_raw_records)
from verifrag.training.sft.interface import with_interface

PROGRESS_FILE = "progress.json"


@dataclass
class SFTConfig:
    output_dir: str
    pairs: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    init_checkpoint: str | None = None  # heads, tokenizer and base reference come from here
    lora_rank: int = 16
    lora_alpha: int = 32
    lr: float = 2e-4
    warmup_ratio: float = 0.05
    epochs: float = 1.0
    batch_tokens: int = 2048
    seq_len: int = 512
    heldout_fraction: float = 0.05
    interface_prompts: bool = False  # list each answer's ports in its prompt (see sft/interface.py)
    raw_windows: int = 0  # at most this many raw-code windows, a seeded sample (0: all of them)
    mixed_precision: str = "auto"  # "no", "bf16" (autocast; weights and optimizer stay float32) or "auto"
    max_minutes: float = 0.0  # 0: no time budget
    save_minutes: float = 5.0
    seed: int = 0
    resume: bool = False
    command: str = ""


@dataclass
class _Data:
    train_batches: list[list[Example]]
    heldout: list[Example]
    stats: dict[str, Any]


def _build_data(config: SFTConfig, tokenizer: Any) -> _Data:
    train: list[Example] = []
    heldout: list[Example] = []
    stats: dict[str, Any] = {"pairs": 0, "pairs_skipped": 0, "raw_windows": 0, "sources": {}}
    for path in config.pairs:
        train_pairs, heldout_pairs, dropped = split_pairs(read_pairs(path), config)
        if config.interface_prompts:
            stats["pairs_without_interface"] = stats.get("pairs_without_interface", 0) + dropped
        for part, target in ((train_pairs, train), (heldout_pairs, heldout)):
            for pair in part:
                example = pair_example(pair, tokenizer)
                if example is None or len(example.input_ids) > config.seq_len:
                    stats["pairs_skipped"] += 1
                    continue
                target.append(example)
                stats["pairs"] += 1
                key = f"{pair.source} ({pair.license})"
                stats["sources"][key] = stats["sources"].get(key, 0) + 1
    windows = [window for path in config.raw for record in read_raw_records(path)
               for window in raw_examples(record["text"], tokenizer, config.seq_len)]
    if 0 < config.raw_windows < len(windows):
        windows = random.Random(config.seed).sample(windows, config.raw_windows)
    train.extend(windows)
    stats["raw_windows"] = len(windows)
    if not train:
        raise UserError("no training examples: give --pairs and/or --raw files with usable records")
    stats["train_examples"] = len(train)
    stats["heldout_examples"] = len(heldout)
    stats["train_tokens"] = sum(len(e.input_ids) for e in train)
    stats["train_loss_tokens"] = sum(e.trained_tokens for e in train)
    return _Data(length_batches(train, config.batch_tokens), heldout, stats)


def split_pairs(pairs: list[Pair], config: SFTConfig) -> tuple[list[Pair], list[Pair], int]:
    """(train, held-out, pairs without a readable interface). The split is taken on the pairs as written,
    before any rewrite, so a second stage with --interface-prompts holds out the same pairs as the first."""
    train, heldout = heldout_split(pairs, config.heldout_fraction)
    if not config.interface_prompts:
        return train, heldout, 0
    train_rewritten = [with_interface(pair) for pair in train]
    heldout_rewritten = [with_interface(pair) for pair in heldout]
    dropped = train_rewritten.count(None) + heldout_rewritten.count(None)
    return ([p for p in train_rewritten if p is not None], [p for p in heldout_rewritten if p is not None], dropped)



class SFTTrainer:
    """One supervised run from an `SFTConfig` to a checkpoint directory with an `adapter/`."""

    def __init__(self, config: SFTConfig) -> None:
        if config.lora_rank < 1 or config.batch_tokens < config.seq_len or config.epochs <= 0:
            raise UserError("--lora-rank must be >= 1, --batch-tokens >= --seq-len, --epochs > 0")
        self.config = config
        self.output = Path(config.output_dir).expanduser()
        self.init = Path(config.init_checkpoint).expanduser() if config.init_checkpoint else DEFAULT_CHECKPOINT
        if self.output.resolve() == self.init.resolve():
            raise UserError("--out must differ from --init-checkpoint (the run writes its own checkpoint)")
        state = self.output / STATE_DIR / PROGRESS_FILE
        if config.resume and not state.is_file():
            raise UserError(f"--resume: no saved training state in {self.output / STATE_DIR}")
        if not config.resume and state.is_file():
            raise UserError(f"{self.output} holds a run already: add --resume to continue it, or choose another --out")
        self.accelerator = fresh_accelerator(mixed_precision=mixed_precision(config.mixed_precision, cpu_bfloat16=True))
        set_seed(config.seed)

    def run(self) -> Path:
        c, acc = self.config, self.accelerator
        ckpt = load_checkpoint(self.init)
        base, tokenizer = load_base(ckpt.config.base_model, acc.device, torch.float32)
        add_frag_token(tokenizer)
        fit_embeddings(base, tokenizer)
        data = _build_data(c, tokenizer)
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        model = self._trainable(base, ckpt)
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=c.lr, weight_decay=0.0)
        per_step = acc.num_processes
        total = max(1, int(len(data.train_batches) * c.epochs) // per_step)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: warmup_cosine(s, total, c.warmup_ratio))
        model, optimizer, scheduler = acc.prepare(model, optimizer, scheduler)
        progress = self._resume()
        step, tokens, spent = progress["step"], progress["tokens"], progress["seconds"]
        if "heldout_before" not in progress:  # held-out loss before this run's first step, kept across resumes
            progress["heldout_before"] = self.heldout_loss(model, data.heldout, pad_id)
        self.heldout_before = progress["heldout_before"]
        history: list[dict[str, Any]] = progress.get("history", [])
        budget = c.max_minutes * 60 if c.max_minutes > 0 else math.inf
        bar = tqdm(total=total, initial=step, desc="sft", unit="step", disable=not acc.is_local_main_process)
        run_start = last_save = time.time()
        model.train()
        batches = iterate_steps(data.train_batches, c.seed, step * per_step, total * per_step)
        for index, batch in batches:
            if index % per_step != acc.process_index:
                continue
            tensors = {k: v.to(acc.device) for k, v in collate(batch, pad_id).items()}
            loss = model(**tensors).loss
            acc.backward(loss)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            tokens += int(tensors["attention_mask"].sum()) * per_step
            elapsed = time.time() - run_start
            history.append({"step": step, "loss": round(loss.item(), 4)})
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}", tok_s=f"{tokens / max(1e-9, spent + elapsed):.0f}")
            if time.time() - last_save >= c.save_minutes * 60 and step < total:
                self._save(model, tokenizer, ckpt, data, step, tokens, spent + elapsed, history)
                last_save = time.time()
            if elapsed >= budget:
                bar.write(f"sft: time budget of {c.max_minutes:g} min reached at step {step}/{total}; "
                          f"continue with --resume")
                break
        bar.close()
        seconds = spent + (time.time() - run_start)
        self._save(model, tokenizer, ckpt, data, step, tokens, seconds, history, total=total)
        return self.output

    def _trainable(self, base: torch.nn.Module, ckpt: Any) -> torch.nn.Module:
        """A fresh LoRA adapter, or, when the init checkpoint was tuned already, its adapter trained on:
        a checkpoint holds one adapter, so a second stage continues the first instead of replacing it."""
        from peft import LoraConfig, PeftModel, get_peft_model

        if ckpt.embedding_rows:
            raise UserError("--init-checkpoint has trained embedding rows ([FRAG]); "
                            "tuning on top of them is not supported")
        if ckpt.adapter_dir is not None:
            return PeftModel.from_pretrained(base, str(ckpt.adapter_dir), is_trainable=True)
        return get_peft_model(base, LoraConfig(r=self.config.lora_rank, lora_alpha=self.config.lora_alpha,
                                               lora_dropout=0.0, target_modules="all-linear"))

    # -- evaluation ----------------------------------------------------------------------------------
    def heldout_loss(self, model: torch.nn.Module, examples: list[Example], pad_id: int) -> float | None:
        """Mean answer-token loss over the held-out pairs (token-weighted, not batch-weighted)."""
        if not examples:
            return None
        model.eval()
        total_loss, total_tokens = 0.0, 0
        with torch.no_grad():
            for batch in length_batches(examples, self.config.batch_tokens):
                tensors = {k: v.to(self.accelerator.device) for k, v in collate(batch, pad_id).items()}
                n = int((tensors["labels"][:, 1:] != -100).sum())
                total_loss += model(**tensors).loss.item() * n
                total_tokens += n
        model.train()
        return round(total_loss / max(1, total_tokens), 4)

    # -- state ---------------------------------------------------------------------------------------
    def _resume(self) -> dict[str, Any]:
        if not self.config.resume:
            return {"step": 0, "tokens": 0, "seconds": 0.0}
        directory = self.output / STATE_DIR
        self.accelerator.load_state(str(directory))
        return json.loads((directory / PROGRESS_FILE).read_text())

    def _save(self, model: torch.nn.Module, tokenizer: Any, ckpt: Any, data: _Data, step: int, tokens: int,
              seconds: float, history: list[dict[str, Any]], total: int | None = None) -> None:
        """The resumable state (accelerate's own format: optimizer, scheduler, RNG; scratch data that is
        only ever read back by `--resume` of this output directory) and a loadable checkpoint."""
        acc = self.accelerator
        directory = self.output / STATE_DIR
        acc.save_state(str(directory))
        if not acc.is_main_process:
            return
        (directory / PROGRESS_FILE).write_text(json.dumps(
            {"step": step, "tokens": tokens, "seconds": round(seconds, 1), "history": history,
             "heldout_before": self.heldout_before}) + "\n")
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        heldout = self.heldout_loss(model, data.heldout, pad_id) if total is not None else None
        self._write_checkpoint(acc.unwrap_model(model), tokenizer, ckpt, data, step, tokens, seconds, history,
                               heldout, total)

    def _write_checkpoint(self, model: Any, tokenizer: Any, ckpt: Any, data: _Data, step: int, tokens: int,
                          seconds: float, history: list[dict[str, Any]], heldout: float | None,
                          total: int | None) -> None:
        """The init checkpoint's heads and tokenizer, this run's adapter, and its provenance."""
        for item in self.init.iterdir():
            if item.is_file() and item.name != CONFIG_FILE:
                shutil.copy2(item, self.output / item.name)
        model.save_pretrained(str(self.output / ADAPTER_DIR), save_embedding_layers=False)
        config = json.loads((self.init / CONFIG_FILE).read_text())
        losses = [h["loss"] for h in history]
        earlier = config.get("provenance", {}).get("sft")
        config.setdefault("provenance", {})["sft"] = {
            "continued_from": earlier,
            "command": self.config.command, "settings": asdict(self.config), "data": data.stats,
            "steps": step, "planned_steps": total, "tokens_seen": tokens, "cpu_seconds_wall": round(seconds, 1),
            "tokens_per_s": round(tokens / max(1e-9, seconds), 1), "processes": self.accelerator.num_processes,
            "mixed_precision": self.accelerator.mixed_precision,
            "device": str(self.accelerator.device),
            "first_loss": losses[0] if losses else None,
            "last_100_mean_loss": round(sum(losses[-100:]) / len(losses[-100:]), 4) if losses else None,
            "heldout_answer_loss_before": self.heldout_before, "heldout_answer_loss": heldout,
            "finished": total is not None and step >= total,
        }
        (self.output / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
