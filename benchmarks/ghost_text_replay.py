"""Ghost-text decoding configurations side by side, on the prompts of the LSP typing replay, in one process.

`lsp_latency.py` measures the server as an editor sees it, one configuration a run; runs an hour apart
on the shared machines differ by 10-20 %. This benchmark answers each of the replay's completion
requests (the same 300-line module, a request every `--every` characters, the prompt chosen as the
server chooses it) with every configuration in turn, each from the same prefix-cache state (the cache is
rewound between them), so the configurations see the same prompts and cache hits and differ only in how
they decode. A configuration is `decoder:prompt_draft:step_draft`: the decoder (`auto` as the server
resolves it for automatic ghost text), the tokens drafted from the document in the prompt pass, and, for
next-token decoding, with each step. Greedy decoding, the server's stop rule for automatic completions.

Run: python benchmarks/ghost_text_replay.py --configs ntp:0:0,medusa:8:0,ntp:8:4 [--every 60] [--anchor-lines 64]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lsp_latency import percentile, typed_module  # noqa: E402

from verifrag.model.engine import Engine  # noqa: E402
from verifrag.model.results import DecodeStats  # noqa: E402
from verifrag.model.stopping import end_of_statement  # noqa: E402
from verifrag.server.completion import ANCHOR_LINES, cursor_context  # noqa: E402
from verifrag.server.config import ServerConfig  # noqa: E402


def parse_config(text: str) -> tuple[str, int, int]:
    parts = text.split(":")
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        raise SystemExit(f"a configuration is decoder:prompt_draft:step_draft, e.g. ntp:8:4, not {text!r}")
    return parts[0], int(parts[1]), int(parts[2])


def replay(engine: Engine, configs: list[tuple[str, int, int]], every: int, anchor_lines: int
           ) -> dict[tuple[str, int, int], list[tuple[float, DecodeStats, str]]]:
    server = ServerConfig()
    tokenizer = engine.lm.tokenizer
    count = lambda s: len(tokenizer(s, add_special_tokens=False)["input_ids"])  # noqa: E731
    text = typed_module()
    cache = engine.lm.prefix_cache
    results: dict[tuple[str, int, int], list[tuple[float, DecodeStats, str]]] = {c: [] for c in configs}
    for offset in range(every, len(text) + 1, every):
        context = cursor_context(text[:offset], offset, server.context_tokens, count, anchor_lines)
        before = cache.ids
        for config in configs:
            cache.rewind(before)
            decoder, prompt_draft, step_draft = config
            decode = server.decode_config(server.max_new_tokens, end_of_statement, heal_prompt=True,
                                          prefill_lookup=prompt_draft, step_lookup=step_draft)
            started = time.perf_counter()
            result = engine.generate(context.prompt, decoder, decode, short_output=True)
            results[config].append(((time.perf_counter() - started) * 1000, result.stats, result.text))
    return results


def table(results: dict[tuple[str, int, int], list[tuple[float, DecodeStats, str]]]) -> str:
    first = next(iter(results.values()))
    rows = ["| decoder | prompt-pass draft | step draft | p50 | p90 | p95 | mean | steps | tokens from the prompt-pass draft | same answers as the first row |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for (decoder, prompt_draft, step_draft), runs in results.items():
        warm = runs[1:]  # the first request fills the cache from nothing
        ms = [m for m, _, _ in warm]
        stats = [s for _, s, _ in warm]
        same = sum(a[2] == b[2] for a, b in zip(first, runs))
        rows.append(f"| {stats[0].decoder if decoder == 'auto' else decoder} | {prompt_draft} | {step_draft} | "
                    f"{statistics.median(ms):.0f} ms | {percentile(ms, 0.9):.0f} | {percentile(ms, 0.95):.0f} | "
                    f"{statistics.mean(ms):.0f} | {sum(s.steps for s in stats)} | "
                    f"{sum(s.prefill_draft_tokens for s in stats)} of {sum(s.new_tokens for s in stats)} | {same}/{len(runs)} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", required=True, help="comma-separated decoder:prompt_draft:step_draft")
    parser.add_argument("--every", type=int, default=60, help="a request every N characters typed (default 60)")
    parser.add_argument("--anchor-lines", type=int, default=ANCHOR_LINES,
                        help=f"the prompt's start moves in steps of this many lines (default {ANCHOR_LINES})")
    args = parser.parse_args()
    configs = [parse_config(c) for c in args.configs.split(",")]
    engine = Engine.load(decode_only=True)
    results = replay(engine, configs, args.every, args.anchor_lines)
    load = os.getloadavg()
    print(f"Command: `python {' '.join(sys.argv)}`; load average at the end {load[0]:.2f}; "
          f"{len(next(iter(results.values())))} requests, the first (cold) left out\n")
    print(table(results))


if __name__ == "__main__":
    main()
