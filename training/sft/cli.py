"""`verifrag train sft`: arguments and dispatch for supervised tuning (see docs/training.md)."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pairs", action="append", default=[], metavar="FILE.jsonl",
                        help="instruction pairs: {prompt, answer} records, or AutoVCoder's {problem, reference} "
                             "(repeatable); loss on the answer only")
    parser.add_argument("--raw", action="append", default=[], metavar="FILE.jsonl",
                        help="raw Verilog corpus ({text} records from `verifrag train data`) for continued "
                             "pretraining (repeatable)")
    parser.add_argument("--out", required=True, metavar="DIR", help="output checkpoint directory (also holds the "
                        "resumable state in DIR/train_state)")
    parser.add_argument("--init-checkpoint", default=None, metavar="DIR",
                        help="checkpoint whose base, heads and tokenizer are tuned (default: the bundled one); "
                             "its LoRA adapter, if it has one, is trained further")
    parser.add_argument("--lora-rank", type=int, default=16, help="LoRA rank on every linear layer (default 16)")
    parser.add_argument("--lora-alpha", type=int, default=32, help="LoRA alpha (default 32)")
    parser.add_argument("--lr", type=float, default=2e-4, help="peak learning rate (default 2e-4)")
    parser.add_argument("--epochs", type=float, default=1.0, help="passes over the data, may be fractional (default 1)")
    parser.add_argument("--batch-tokens", type=int, default=2048, metavar="N",
                        help="padded tokens per batch; batches group examples of similar length (default 2048)")
    parser.add_argument("--seq-len", type=int, default=512, metavar="N",
                        help="longest example; longer pairs are skipped, raw text is cut to windows (default 512)")
    parser.add_argument("--heldout-fraction", type=float, default=0.05, metavar="F",
                        help="pairs held out for the held-out loss, chosen by hash (default 0.05)")
    parser.add_argument("--max-minutes", type=float, default=0.0, metavar="M",
                        help="stop after M minutes of training, save, and let --resume continue (default: no limit)")
    parser.add_argument("--save-minutes", type=float, default=5.0, metavar="M",
                        help="save state and a loadable checkpoint every M minutes (default 5)")
    parser.add_argument("--interface-prompts", action="store_true",
                        help="list each answer's ports in its prompt and name the module TopModule, so the model "
                             "learns to follow a given interface")
    parser.add_argument("--raw-windows", type=int, default=0, metavar="N",
                        help="train on at most N windows of the --raw code, a sample chosen by --seed, mixed "
                             "with the pairs (default 0: every window)")
    parser.add_argument("--mixed-precision", choices=("auto", "no", "bf16"), default="auto",
                        help="bf16: bfloat16 autocast, weights and optimizer in float32 (1.7x the tokens/s of "
                             "float32 on an AVX-512-BF16 CPU); auto (default): bf16 where the CPU or GPU has "
                             "native bfloat16, else no (float32)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true",
                        help="continue the run saved in --out exactly where it stopped")


def run(args: argparse.Namespace) -> int:
    from verifrag.errors import UserError
    from verifrag.training.sft.trainer import SFTConfig, SFTTrainer

    if not args.pairs and not args.raw:
        raise UserError("give training data: --pairs FILE and/or --raw FILE")
    if args.raw_windows < 0:
        raise UserError("--raw-windows must be >= 0")
    if not 0.0 <= args.heldout_fraction < 1.0:
        raise UserError("--heldout-fraction must be in [0, 1)")
    config = SFTConfig(
        output_dir=args.out, pairs=args.pairs, raw=args.raw, init_checkpoint=args.init_checkpoint,
        lora_rank=args.lora_rank, lora_alpha=args.lora_alpha, lr=args.lr, epochs=args.epochs,
        batch_tokens=args.batch_tokens, seq_len=args.seq_len, heldout_fraction=args.heldout_fraction,
        interface_prompts=args.interface_prompts, raw_windows=args.raw_windows,
        mixed_precision=args.mixed_precision,
        max_minutes=args.max_minutes, save_minutes=args.save_minutes,
        seed=args.seed, resume=args.resume,
        command=" ".join(["verifrag"] + sys.argv[1:]),
    )
    output = SFTTrainer(config).run()
    print(f"wrote {output}")
    return 0
