"""`verifrag train medusa`: flags to `MedusaTrainConfig`, then one `MedusaTrainer` run.

Run it under `accelerate launch` for several processes or GPUs; plain `verifrag train medusa` is one
process. Flag names follow the config fields (see docs/training.md).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import fields

from verifrag.errors import UserError
from verifrag.training.labels import LABEL_MODES
from verifrag.training.medusa.config import MedusaTrainConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = MedusaTrainConfig(data=[], output_dir="")
    a = parser.add_argument
    a("--data", nargs="+", required=True, help="train.jsonl files (field \"text\") or directories of .v/.sv files")
    a("--heldout", nargs="*", default=[], help="held-out .jsonl/directories; default: a hash split of --data")
    a("--heldout-fraction", type=float, default=d.heldout_fraction)
    a("--output", "-o", dest="output_dir", required=True, help="checkpoint directory to write")
    a("--base-model", default=None, help="HF directory or .gguf (default: the bundled SmolLM2-135M)")
    a("--base-checkpoint", default=None, metavar="DIR",
      help="train heads on this checkpoint's tuned base (its adapter merged); the output keeps that adapter")
    a("--stage", choices=("heads", "joint"), default=d.stage, help="heads: Medusa-1 (frozen base); joint: Medusa-2")
    a("--base-tuning", choices=("lora", "full"), default=d.base_tuning, help="joint stage: LoRA adapter or all weights")
    a("--lora-rank", type=int, default=d.lora_rank)
    a("--lora-alpha", type=int, default=d.lora_alpha)
    a("--num-heads", type=int, default=d.num_heads)
    a("--head-layers", type=int, default=d.head_layers)
    a("--labels", choices=LABEL_MODES, default=d.labels, help="head target masking (see training/labels.py)")
    a("--frag-tokens", choices=("on", "off"), default="on" if d.frag_tokens else "off",
      help="insert [FRAG] into the training text and learn its embedding row")
    a("--seq-len", type=int, default=d.seq_len)
    a("--max-train-tokens", type=int, default=d.max_train_tokens, help="0 = all")
    a("--max-heldout-tokens", type=int, default=d.max_heldout_tokens)
    a("--max-doc-chars", type=int, default=d.max_doc_chars, help="skip longer documents")
    a("--batch-size", type=int, default=d.batch_size, help="windows per batch and process")
    a("--grad-accum", type=int, default=d.grad_accum)
    a("--epochs", type=float, default=d.epochs)
    a("--max-steps", type=int, default=d.max_steps, help="0 = from --epochs")
    a("--lr", type=float, default=d.lr, help="heads' learning rate")
    a("--head-lr-ratio", type=float, default=d.head_lr_ratio, help="heads' lr / base's lr (joint stage)")
    a("--weight-decay", type=float, default=d.weight_decay)
    a("--warmup-ratio", type=float, default=d.warmup_ratio)
    a("--head-decay", type=float, default=d.head_decay, help="head k's loss weight is decay**k")
    a("--lambda-peak", type=float, default=d.lambda_peak, help="joint stage: final weight of the heads' loss")
    a("--candidate-vocab", choices=("corpus", "full"), default=d.candidate_vocab,
      help="softmax over token ids seen in the training targets, or the whole vocabulary")
    a("--competitors", type=int, default=d.competitors,
      help="heads stage, corpus vocab: add the base's top-N next tokens at every position to the softmax")
    a("--no-cache-hidden", dest="cache_hidden", action="store_false", help="heads stage: rerun the base every step")
    a("--hidden-cache", default=None, help="safetensors file that keeps base hidden states between runs")
    a("--mixed-precision", choices=("auto", "no", "bf16", "fp16"), default=d.mixed_precision)
    a("--save-every", type=int, default=d.save_every, help="save a resumable state every N steps (0 = at the end only if --resume is wanted)")
    a("--eval-every", type=int, default=d.eval_every, help="held-out evaluation every N steps (always at the end)")
    a("--resume", action="store_true", help="continue from OUTPUT/train_state")
    a("--tree-nodes", type=int, default=d.tree_nodes, help="nodes of the candidate tree written to the checkpoint")
    a("--top-k", type=int, default=d.top_k, help="ranks measured per head")
    a("--seed", type=int, default=d.seed)


def config_from_args(args: argparse.Namespace) -> MedusaTrainConfig:
    values = {f.name: getattr(args, f.name) for f in fields(MedusaTrainConfig) if hasattr(args, f.name)}
    values["frag_tokens"] = args.frag_tokens == "on"
    values["command"] = shlex.join(["verifrag", *sys.argv[1:]]) if sys.argv else ""
    config = MedusaTrainConfig(**values)
    if config.num_heads < 1 or config.seq_len < 8 or config.batch_size < 1 or config.grad_accum < 1:
        raise UserError("--num-heads, --batch-size and --grad-accum must be positive and --seq-len at least 8")
    return config


def run(args: argparse.Namespace) -> int:
    from verifrag.training.medusa.trainer import MedusaTrainer

    output = MedusaTrainer(config_from_args(args)).run()
    print(f"verifrag train medusa: checkpoint written to {output}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point for `accelerate launch -m verifrag.training.medusa.cli ...` (same flags)."""
    parser = argparse.ArgumentParser(prog="verifrag train medusa")
    add_arguments(parser)
    try:
        return run(parser.parse_args(argv))
    except UserError as exc:
        sys.stderr.write(f"verifrag train medusa: error: {exc}\n")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
