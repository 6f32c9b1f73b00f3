"""The speed comparison runs every decoder of ours side by side, on both runtimes, and every one of
them reproduces greedy next-token output (the table's losslessness column)."""

from __future__ import annotations

import torch

from verifrag.evaluation.speed import compare
from verifrag.evaluation.speed_report import speed_table
from verifrag.model.engine import Engine


def test_our_methods_agree_and_the_report_names_the_hybrid_branches(tiny_checkpoint):
    torch.set_num_threads(1)
    engine = Engine.load(tiny_checkpoint, device="cpu", dtype="float32")
    assert engine.lm.lean is not None
    prompts = ["module counter(input clk, output reg [3:0] q);\n", "assign y = a & b;\nassign y = a"]
    methods = ["ntp", "ntp_transformers", "medusa", "medusa_frag", "hybrid"]
    summaries, identical = compare(engine, prompts, methods, max_new_tokens=12)
    assert list(summaries) == methods
    assert identical == {m: len(prompts) for m in methods}
    assert engine.lm.lean is not None  # the transformers row put the lean runtime back
    hybrid = summaries["hybrid"]
    assert sum(hybrid.branch_wins.values()) == hybrid.steps > 0
    table = speed_table(summaries, identical, len(prompts))
    assert "transformers forward" in table and "Hybrid steps by the branch" in table
