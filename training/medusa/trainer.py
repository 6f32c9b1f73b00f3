"""The Medusa trainer: Medusa-1 (heads on a frozen base) and Medusa-2 (heads + base, jointly).

Everything distributed goes through accelerate's `Accelerator`, so one script runs unchanged on one
CPU, several CPU processes, or several GPUs (DDP; DeepSpeed or FSDP from `accelerate config`).

Two data paths:
- cached (heads-only, no `[FRAG]` tokens): the frozen base runs once over the corpus
  (`medusa.hidden`); training then only touches the heads, over batches of cached positions.
- windowed (Medusa-2, or `[FRAG]` on, whose embedding row must learn): the base runs every step.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.utils import DataLoaderConfiguration, gather_object, set_seed
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from tqdm.auto import tqdm

from verifrag.errors import UserError
from verifrag.model.base import DEFAULT_BASE, load_base
from verifrag.model.checkpoint import ADAPTER_DIR, STATE_DIR, CheckpointConfig, save_checkpoint
from verifrag.model.heads import MedusaHeads
from verifrag.model.tokenizer import add_frag_token, fit_embeddings
from verifrag.model.tree import build_tree
from verifrag.training.labels import IGNORE_INDEX
from verifrag.training.medusa.config import MedusaTrainConfig
from verifrag.training.medusa.data import Window, collate, read_texts, split_heldout, tokenize_set
from verifrag.training.medusa.eval import HeadScores, score_heads
from verifrag.training.medusa.hidden import compute_hidden, load_hidden, save_hidden
from verifrag.training.medusa.objective import (active_vocabulary, head_weights, lambda_at, per_head_loss,
                                                remap_targets)
from verifrag.training.precision import fresh_accelerator, mixed_precision
from verifrag.training.schedule import warmup_cosine

STATE_FILE = "progress.json"


class MedusaObjective(nn.Module):
    """Heads (and, when it trains, the base) behind one forward, so DDP sees one module.

    `forward` returns the base's next-token loss (None unless the base trains) and each head's loss.
    """

    def __init__(self, heads: MedusaHeads, base: nn.Module | None, projection: torch.Tensor | None,
                 active_ids: torch.Tensor | None, lm_loss: bool) -> None:
        super().__init__()
        self.heads = heads
        self.base = base
        self.lm_loss = lm_loss
        self.register_buffer("frozen_projection", projection, persistent=False)
        self.register_buffer("active_ids", active_ids, persistent=False)
        self.vocab_size = int((projection if base is None else base.get_output_embeddings().weight).shape[0])

    def _projection(self) -> torch.Tensor:
        weight = self.frozen_projection if self.base is None else self.base.get_output_embeddings().weight
        return weight if self.active_ids is None else weight.index_select(0, self.active_ids)

    def forward(self, labels: torch.Tensor, hidden: torch.Tensor | None = None, input_ids: torch.Tensor | None = None,
                attention_mask: torch.Tensor | None = None) -> tuple[torch.Tensor | None, torch.Tensor]:
        lm = None
        if hidden is None:
            output = self.base(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True,
                               logits_to_keep=0 if self.lm_loss else 1)
            if self.lm_loss:
                targets = input_ids[:, 1:].masked_fill(attention_mask[:, 1:] == 0, IGNORE_INDEX)
                lm = nn.functional.cross_entropy(output.logits[:, :-1].flatten(0, 1).float(), targets.flatten(),
                                                 ignore_index=IGNORE_INDEX)
            hidden = output.hidden_states[-1].flatten(0, 1)  # (N, H)
            labels = labels.transpose(0, 1).flatten(1)  # (B, K, L) -> (K, N)
        else:
            labels = labels.T  # (N, K) -> (K, N)
        projection = self._projection()
        if self.active_ids is not None:
            labels = remap_targets(labels, self.active_ids, self.vocab_size)
        states = self.heads.head_states(hidden.to(projection.dtype))
        return lm, per_head_loss(states, projection, labels)


def _wrap_base(base: nn.Module, config: MedusaTrainConfig, frag_id: int) -> nn.Module:
    """Make the base's trainable part: a LoRA adapter, all weights, or only the [FRAG] embedding row."""
    frag_rows = {"embed_tokens": [frag_id]} if config.frag_tokens else None
    if config.stage == "joint" and config.base_tuning == "full":
        base.requires_grad_(True)
        return base
    from peft import LoraConfig, TrainableTokensConfig, get_peft_model

    if config.stage == "joint":
        lora = LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha, lora_dropout=0.0,
                          target_modules="all-linear", trainable_token_indices=frag_rows)
        return get_peft_model(base, lora)
    if frag_rows:
        return get_peft_model(base, TrainableTokensConfig(target_modules=["embed_tokens"], token_indices=[frag_id]))
    base.requires_grad_(False)
    return base


def _shard_hidden(accelerator: Accelerator, base: nn.Module, windows: list[Window], config: MedusaTrainConfig,
                  pad_id: int, competitors: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every process computes hidden states for its share of windows; all get the whole result."""
    mine = windows[accelerator.process_index::accelerator.num_processes]
    result = compute_hidden(base, mine, config.batch_size, pad_id, torch.float32,
                            accelerator.is_local_main_process, competitors)
    if accelerator.num_processes == 1:
        return result
    parts = gather_object([result])
    return tuple(torch.cat([p[i] for p in parts]) for i in range(3))  # type: ignore[return-value]


class MedusaTrainer:
    """One training run from a `MedusaTrainConfig` to a checkpoint directory."""

    def __init__(self, config: MedusaTrainConfig) -> None:
        if config.stage not in ("heads", "joint"):
            raise UserError(f"unknown stage {config.stage!r}; choose heads or joint")
        self.config = config
        self.output = Path(config.output_dir).expanduser()
        # Under torchrun on a machine without CUDA, accelerate only joins the processes (gloo) when told
        # to use the CPU; otherwise each process would train alone.
        distributed_cpu = not torch.cuda.is_available() and int(os.environ.get("WORLD_SIZE", "1")) > 1
        self.accelerator = fresh_accelerator(
            cpu=distributed_cpu, gradient_accumulation_steps=config.grad_accum,
            mixed_precision=mixed_precision(config.mixed_precision, cpu_bfloat16=False),
            dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True))
        set_seed(config.seed)
        self.started = time.time()

    # -- data -------------------------------------------------------------------------------------
    def _datasets(self, tokenizer: Any, frag_id: int) -> tuple[Any, Any]:
        c = self.config
        texts = read_texts(c.data, c.max_doc_chars)
        if c.heldout:
            train_texts, heldout_texts = texts, read_texts(c.heldout, c.max_doc_chars)
        else:
            train_texts, heldout_texts = split_heldout(texts, c.heldout_fraction)
        random.Random(c.seed).shuffle(train_texts)  # a token budget then samples every source, not the first
        random.Random(c.seed + 1).shuffle(heldout_texts)
        insert = c.frag_tokens
        train = tokenize_set(train_texts, tokenizer, c.num_heads, c.labels, c.seq_len, c.max_train_tokens, insert)
        # Held-out scoring uses plain labels: the decoder accepts any token the base agrees with.
        heldout = tokenize_set(heldout_texts, tokenizer, c.num_heads, "plain", c.seq_len, c.max_heldout_tokens, insert)
        if not train.windows:
            raise UserError("no training text: the data paths hold no usable documents")
        return train, heldout

    # -- run --------------------------------------------------------------------------------------
    def run(self) -> Path:
        c, acc = self.config, self.accelerator
        base, tokenizer = self._load_base()
        frag_id = add_frag_token(tokenizer)
        fit_embeddings(base, tokenizer)
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        train, heldout = self._datasets(tokenizer, frag_id)
        hidden_size = int(base.config.hidden_size)
        heads = MedusaHeads(hidden_size, c.num_heads, c.head_layers)
        cached = c.stage == "heads" and not c.frag_tokens and c.cache_hidden
        vocab = base.get_output_embeddings().weight.shape[0]
        extra = [frag_id]
        if cached:
            base.requires_grad_(False)
            self.frozen_base = base  # kept out of the objective: only held-out evaluation runs it again
            hidden, labels, competitors = self._cached_train(base, train.windows, pad_id)
            extra += competitors.tolist()
            loader = DataLoader(TensorDataset(hidden, labels), batch_size=c.batch_size * c.seq_len, shuffle=True)
        else:
            base = _wrap_base(base, c, frag_id)
            loader = DataLoader(train.windows, batch_size=c.batch_size, shuffle=True,
                                collate_fn=lambda ws: collate(ws, pad_id))
        active = (active_vocabulary([w.labels for w in train.windows], extra, vocab)
                  if c.candidate_vocab == "corpus" else None)
        objective = (MedusaObjective(heads, None, base.get_output_embeddings().weight.detach(), active, False) if cached
                     else MedusaObjective(heads, base, None, active, c.stage == "joint"))
        optimizer = self._optimizer(objective)
        steps_per_epoch = max(1, math.ceil(len(loader) / acc.num_processes / c.grad_accum))
        total = c.max_steps or max(1, int(steps_per_epoch * c.epochs))
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: warmup_cosine(s, total, c.warmup_ratio))
        objective, optimizer, loader, scheduler = acc.prepare(objective, optimizer, loader, scheduler)
        step = resumed_from = self._resume()
        weights = head_weights(c.num_heads, c.head_decay)
        bar = tqdm(total=total, initial=step, desc="medusa", disable=not acc.is_local_main_process)
        heldout_hidden = None
        scores: HeadScores | None = None
        history: list[dict[str, Any]] = []
        while step < total:
            epoch, done_in_epoch = divmod(step, steps_per_epoch)
            loader.set_epoch(epoch)
            batches = acc.skip_first_batches(loader, done_in_epoch * c.grad_accum) if done_in_epoch else loader
            for batch in batches:
                with acc.accumulate(objective):
                    lm, losses = (objective(batch[1], hidden=batch[0]) if cached else
                                  objective(batch["labels"], input_ids=batch["input_ids"],
                                            attention_mask=batch["attention_mask"]))
                    head_term = sum(w * l for w, l in zip(weights, losses))
                    loss = head_term if lm is None else lm + lambda_at(step, total, c.lambda_peak) * head_term
                    acc.backward(loss)
                    optimizer.step()
                    scheduler.step()
                    optimizer.zero_grad()
                if not acc.sync_gradients:
                    continue
                step += 1
                record = {"step": step, "loss": round(loss.item(), 4), "heads": [round(l.item(), 4) for l in losses]}
                if lm is not None:
                    record["lm"] = round(lm.item(), 4)
                history.append(record)
                bar.update(1)
                bar.set_postfix({f"h{k + 1}": f"{l.item():.3f}" for k, l in enumerate(losses)})
                if c.save_every and step % c.save_every == 0:
                    self._save_state(step)
                if c.eval_every and step % c.eval_every == 0:
                    heldout_hidden = heldout_hidden if cached and heldout_hidden else self._heldout_hidden(objective, heldout.windows, pad_id)
                    scores = self._evaluate(objective, *heldout_hidden)
                    bar.write(f"step {step}: held-out top-1 per head {scores.summary()['top1']}")
                if step >= total:
                    break
        bar.close()
        if scores is None or not (c.eval_every and step % c.eval_every == 0):
            heldout_hidden = self._heldout_hidden(objective, heldout.windows, pad_id)
            scores = self._evaluate(objective, *heldout_hidden)
        if c.save_every:
            self._save_state(step)
        return self._write_checkpoint(objective, tokenizer, frag_id, scores, train.stats, heldout.stats, step,
                                      resumed_from, history, active)

    def _load_base(self) -> tuple[nn.Module, Any]:
        """The plain base, or a tuned checkpoint's base exactly as the decoders see it (rows applied,
        adapter merged), so the heads learn the hidden states they will be used on."""
        c = self.config
        if c.base_checkpoint is None:
            return load_base(c.base_model, self.accelerator.device, torch.float32)
        if c.stage != "heads" or c.base_model:
            raise UserError("--base-checkpoint trains heads on a tuned base: use it with --stage heads and no --base-model")
        from verifrag.model.engine import Engine

        engine = Engine.load(c.base_checkpoint, device=str(self.accelerator.device), dtype="float32")
        self.tuned = engine.checkpoint
        return engine.lm.model, engine.lm.tokenizer

    def _cached_train(self, base: nn.Module, windows: list[Window], pad_id: int
                      ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        c = self.config
        key = json.dumps({"base": c.base_model or DEFAULT_BASE, "tuned": c.base_checkpoint, "data": c.data, "labels": c.labels, "heads": c.num_heads,
                          "seq_len": c.seq_len, "tokens": c.max_train_tokens, "seed": c.seed,
                          "windows": len(windows), "competitors": c.competitors}, sort_keys=True)
        path = Path(c.hidden_cache).expanduser() if c.hidden_cache else None
        found = load_hidden(path, key) if path else None
        if found is not None:
            return found
        result = _shard_hidden(self.accelerator, base, windows, c, pad_id,
                               c.competitors if c.candidate_vocab == "corpus" else 0)
        if path and self.accelerator.is_main_process:
            save_hidden(path, *result, key)
        return result

    def _optimizer(self, objective: MedusaObjective) -> torch.optim.Optimizer:
        c = self.config
        groups = [{"params": list(objective.heads.parameters()), "lr": c.lr}]
        if objective.base is not None:
            base_params = [p for p in objective.base.parameters() if p.requires_grad]
            if base_params:
                groups.append({"params": base_params, "lr": c.lr / c.head_lr_ratio})
        return torch.optim.AdamW(groups, weight_decay=c.weight_decay)

    def _heldout_hidden(self, objective: nn.Module, windows: list[Window], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Held-out hidden states from the base as it is now (it changes in Medusa-2)."""
        inner = self.accelerator.unwrap_model(objective)
        base = inner.base if inner.base is not None else self.frozen_base
        was_training = base.training
        base.eval()
        result = _shard_hidden(self.accelerator, base, windows, self.config, pad_id)[:2] if windows else (
            torch.empty(0, inner.heads.hidden_size), torch.empty(0, inner.heads.num_heads, dtype=torch.long))
        base.train(was_training)
        return result

    def _evaluate(self, objective: nn.Module, hidden: torch.Tensor, labels: torch.Tensor) -> HeadScores:
        inner = self.accelerator.unwrap_model(objective)
        projection = (inner.frozen_projection if inner.base is None else inner.base.get_output_embeddings().weight).detach()
        inner.heads.eval()
        scores = score_heads(inner.heads, projection, hidden, labels, self.config.top_k)
        inner.heads.train()
        return scores

    # -- state ------------------------------------------------------------------------------------
    def _save_state(self, step: int) -> None:
        """A resumable training state (accelerate's format: it restores optimizer, scheduler, RNG).

        It is the trainer's own scratch data, unpickled on `--resume`; only resume from an output
        directory you wrote. The checkpoint that is shared is safetensors + JSON only.
        """
        directory = self.output / STATE_DIR
        self.accelerator.save_state(str(directory))
        if self.accelerator.is_main_process:
            (directory / STATE_FILE).write_text(json.dumps({"step": step}) + "\n")
        self.accelerator.wait_for_everyone()

    def _resume(self) -> int:
        directory = self.output / STATE_DIR
        if not self.config.resume:
            return 0
        if not (directory / STATE_FILE).is_file():
            raise UserError(f"--resume: no saved training state in {directory}")
        self.accelerator.load_state(str(directory))
        return int(json.loads((directory / STATE_FILE).read_text())["step"])

    # -- output -----------------------------------------------------------------------------------
    def _write_checkpoint(self, objective: nn.Module, tokenizer: Any, frag_id: int, scores: HeadScores,
                          train_stats: dict, heldout_stats: dict, step: int, resumed_from: int, history: list[dict],
                          active: torch.Tensor | None) -> Path:
        c, acc = self.config, self.accelerator
        acc.wait_for_everyone()
        inner = acc.unwrap_model(objective)
        if not acc.is_main_process:
            return self.output
        rates = scores.rank_rates()
        base_ref = c.base_model or DEFAULT_BASE
        rows: dict[int, torch.Tensor] = {}
        if inner.base is not None:
            if c.frag_tokens:
                rows = {frag_id: _embedding_row(inner.base, frag_id).float().cpu()}
            if c.stage == "joint" and c.base_tuning == "lora":
                # The [FRAG] row travels in embedding_rows (and as a peft token delta), never a whole embedding.
                inner.base.save_pretrained(str(self.output / ADAPTER_DIR), save_embedding_layers=False)
            elif c.stage == "joint":
                inner.base.save_pretrained(str(self.output / "base"), safe_serialization=True)
                tokenizer.save_pretrained(str(self.output / "base"))
                base_ref = "base"
        provenance = {
            "command": c.command, "settings": asdict(c), "steps": step,
            "wall_seconds": round(time.time() - self.started, 1), "processes": acc.num_processes,
            "train_data": train_stats, "heldout_data": heldout_stats,
            "candidate_vocab": int(active.shape[0]) if active is not None else None,
            "heldout_accuracy": scores.summary(), "resumed_from_step": resumed_from,
            "first_losses": history[0] if history else None, "final_losses": history[-1] if history else None,
        }
        config = CheckpointConfig(base_model=base_ref, hidden_size=inner.heads.hidden_size, num_heads=c.num_heads,
                                  head_layers=c.head_layers, shared_lm_head=True, frag_token_id=frag_id,
                                  frag_trained=bool(rows), tree=[list(p) for p in build_tree(rates, c.tree_nodes)],
                                  head_acceptance=[[round(v, 5) for v in row] for row in rates], provenance=provenance)
        # The heads learnt to rank only the candidate vocabulary; the decoder drafts over the same ids.
        inner.heads.set_candidates(active)
        if c.base_checkpoint is not None:
            config.base_model = self.tuned.config.base_model
            config.frag_trained = self.tuned.config.frag_trained
            rows = dict(self.tuned.embedding_rows)
            if self.tuned.adapter_dir is not None:
                shutil.copytree(self.tuned.adapter_dir, self.output / ADAPTER_DIR, dirs_exist_ok=True)
            config.provenance["base_checkpoint"] = self.tuned.config.provenance
        save_checkpoint(self.output, config, inner.heads, tokenizer, embedding_rows=rows or None)
        return self.output


def _embedding_row(base: nn.Module, index: int) -> torch.Tensor:
    """One input-embedding row as the model uses it: through the embedding module, so a peft
    trainable-token delta is applied (the raw weight would still hold the untrained row)."""
    embedding = base.get_input_embeddings()
    with torch.no_grad():
        return embedding(torch.tensor([index], device=next(base.parameters()).device))[0]
