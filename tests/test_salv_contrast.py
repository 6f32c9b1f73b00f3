"""Reset-timing contrast pairs: twins that differ only in their event control, told apart by simulation,
with the spec's own word deciding which side is chosen; and a DPO run on them alone."""

from __future__ import annotations

import argparse
import json

import pytest

from tests.salv_tiny import tiny_checkpoint
from verifrag.model.engine import Engine
from verifrag.training.salv import cli as salv_cli
from verifrag.training.salv.contrast import CONTRAST_FILE, reset_contrast_pairs
from verifrag.training.salv.jsonl import read_jsonl


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return tiny_checkpoint(tmp_path_factory.mktemp("tiny"))


def test_twins_differ_only_in_the_event_control_the_spec_decides(checkpoint):
    pairs, stats = reset_contrast_pairs(8, 3, Engine.load(checkpoint).lm.tokenizer)
    assert len(pairs) == 8 and stats["indistinguishable"] == 0 and stats["twins"] == 8
    timings = set()
    for pair in pairs:
        (c0, c1), (r0, r1) = pair["chosen_spans"][0], pair["rejected_spans"][0]
        chosen, rejected = pair["chosen"], pair["rejected"]
        assert chosen[:c0] == rejected[:r0] and chosen[c1:] == rejected[r1:]
        assert chosen[c0:c1].startswith("always @(posedge clk") and chosen[c0:c1] != rejected[r0:r1]
        asynchronous = " asynchronous reset " in pair["prompt"]
        assert asynchronous != (" synchronous reset " in pair["prompt"])
        assert (" or " in chosen[c0:c1]) == asynchronous
        assert pair["prompt"].rstrip().endswith("```verilog") and " - input  clk" in pair["prompt"]
        timings.add(asynchronous)
    assert timings == {True, False}
    assert {p["kind"] for p in pairs} <= {"reset-timing", "reset-edge"}


def test_dpo_on_contrast_pairs_alone(tmp_path, checkpoint):
    parser = argparse.ArgumentParser()
    salv_cli.add_arguments(parser)
    work, output = tmp_path / "work", tmp_path / "out"
    args = parser.parse_args(["--stage", "train", "--work", str(work), "--checkpoint", str(checkpoint),
                              "--output", str(output), "--reset-contrast", "4", "--mixed-precision", "no"])
    assert salv_cli.run(args) == 0
    assert len(list(read_jsonl(work / CONTRAST_FILE))) == 4
    salv = json.loads((output / "verifrag.json").read_text())["provenance"]["salv"]
    assert salv["pairs"] == 4 and salv["reset_contrast"] == 4 and salv["reset_contrast_stats"]["indistinguishable"] == 0
