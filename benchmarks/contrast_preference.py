"""Which side of each reset-timing contrast pair a checkpoint prefers, by kind of pair.

For each pair of a `reset_contrast.jsonl` (written by `verifrag train salv --reset-contrast N`), the
checkpoint's log-probability of the chosen event control is compared with the rejected one's, each
given the prompt and the module text before it (the tokens `encode_with_mask` selects, as DPO counts
them). A model that reads the specification prefers the chosen side for both timings; one that learnt
only a habit prefers one timing whatever the prompt says.

    python benchmarks/contrast_preference.py PAIRS.jsonl CKPT [CKPT ...] [--limit 60]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import torch

from verifrag.model.engine import Engine
from verifrag.training.salv.dpo import encode_with_mask, pad_batch, sequence_logprobs


@torch.inference_mode()
def span_logprob(engine: Engine, prompt: str, completion: str, spans: list[list[int]]) -> float:
    row = encode_with_mask(engine.lm.tokenizer, prompt, completion, spans)
    return float(sequence_logprobs(engine.lm.model, *pad_batch([row], pad_id=0))[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", type=Path)
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--limit", type=int, default=60, help="first N pairs (default 60)")
    args = parser.parse_args()
    pairs = [json.loads(line) for line in args.pairs.read_text().splitlines() if line.strip()][: args.limit]
    print("| checkpoint | asynchronous spec, other timing rejected | asynchronous spec, wrong edge rejected "
          "| synchronous spec, other timing rejected |")
    print("| --- | --- | --- | --- |")
    for checkpoint in args.checkpoints:
        engine = Engine.load(checkpoint)
        engine.lm.model.eval()
        wins: dict[str, list[bool]] = defaultdict(list)
        for pair in pairs:
            chosen = span_logprob(engine, pair["prompt"], pair["chosen"], pair["chosen_spans"])
            rejected = span_logprob(engine, pair["prompt"], pair["rejected"], pair["rejected_spans"])
            timing = "asynchronous" if " asynchronous reset " in pair["prompt"] else "synchronous"
            wins[f"{timing} {pair['kind']}"].append(chosen > rejected)
        columns = ("asynchronous reset-timing", "asynchronous reset-edge", "synchronous reset-timing")
        cells = [wins[key] for key in columns]
        print(f"| {checkpoint} | " + " | ".join(f"{sum(c)}/{len(c)}" for c in cells) + " |")


if __name__ == "__main__":
    main()
