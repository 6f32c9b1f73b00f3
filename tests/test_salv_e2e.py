"""SALV end to end on a tiny random checkpoint: rollouts, pairs from hand-written samples, DPO, loadable output."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tests.salv_tiny import tiny_checkpoint
from verifrag.errors import UserError
from verifrag.model.engine import Engine
from verifrag.training.salv import cli as salv_cli
from verifrag.training.salv.jsonl import read_jsonl, write_jsonl
from verifrag.training.salv.rollouts import ROLLOUTS_FILE, RolloutSettings, run_rollouts
from verifrag.training.salv.tasks import read_tasks
from verifrag.training.salv.trainer import encode_pairs

REFERENCE = "module pair(input a, input b, output y, output z);\n  assign y = a & b;\n  assign z = a ^ b;\nendmodule\n"
CANDIDATES = [
    "module pair(input a, input b, output y, output z);\n  assign y = a & b;\n  assign z = a | b;\nendmodule\n",
    "module pair(input a, input b, output y, output z);\n  assign y = a | b;\n  assign z = a ^ b;\nendmodule\n",
    "module pair(input a, input b, output y, output z);\n  assign y = a & ;\nendmodule\n",
]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    return tiny_checkpoint(tmp_path_factory.mktemp("tiny"))


def _corpus(path: Path) -> Path:
    records = [{"id": f"t{i}", "source": "test", "file": "pair.v", "module": "pair", "instruction": f"Task {i}: y is a AND b, z is a XOR b.",
                "input": "", "output": REFERENCE, "text": REFERENCE} for i in range(2)]
    records.append({**records[0], "id": "bad", "output": "module inout_only(inout w);\nendmodule\n", "module": "inout_only"})
    write_jsonl(path, records)
    return path


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    salv_cli.add_arguments(parser)
    return salv_cli.run(parser.parse_args(list(argv)))


def test_rollouts_are_cached_and_resume(tmp_path, checkpoint):
    tasks, skipped = read_tasks(_corpus(tmp_path / "train.jsonl"))
    assert [t.task_id for t in tasks] == ["t0", "t1"] and skipped == 1
    engine = Engine.load(checkpoint)
    settings = RolloutSettings(str(checkpoint), samples=2, max_new_tokens=4)
    path = run_rollouts(tasks[:1], tmp_path / "work", settings, engine=engine, progress=False)
    first = list(read_jsonl(path))
    assert [(r["task_id"], r["index"]) for r in first] == [("t0", 0), ("t0", 1)]
    assert all(r["completion"].startswith("module pair") and r["prompt"].endswith("```verilog\n") for r in first)
    run_rollouts(tasks, tmp_path / "work", settings, engine=engine, progress=False)
    assert [(r["task_id"], r["index"]) for r in read_jsonl(path)][:2] == [("t0", 0), ("t0", 1)]
    assert len(list(read_jsonl(path))) == 4
    with pytest.raises(UserError, match="other settings"):
        run_rollouts(tasks, tmp_path / "work", RolloutSettings(str(checkpoint), samples=3), engine=engine)



@pytest.mark.parametrize("spec_key, reference_key", [("problem", "reference"), ("prompt", "answer")])
def test_autovcoder_and_pairs_records_name_the_first_declared_module(tmp_path, spec_key, reference_key):
    mux = "// a 2-to-1 mux\nmodule mux2(input a, input b, input s, output y);\n  assign y = s ? b : a;\nendmodule\n"
    records = [{"id": "avc-0001", spec_key: "  Pick b when s is high, else a.\n", reference_key: mux, "license": "MIT"},
               {spec_key: "Only an inout.", reference_key: "module w(inout p);\nendmodule\n"},
               {spec_key: "No module here.", reference_key: "package p; endpackage\n"},
               {spec_key: "AND and XOR.", reference_key: REFERENCE, "source": "test"}]
    write_jsonl(tmp_path / "tasks.jsonl", records)
    tasks, skipped = read_tasks(tmp_path / "tasks.jsonl")
    assert skipped == 2
    assert [(t.task_id, t.spec, t.module, t.reference) for t in tasks] == [
        ("avc-0001", "Pick b when s is high, else a.", "mux2", mux), ("tasks:4", "AND and XOR.", "pair", REFERENCE)]
    later, _ = read_tasks(tmp_path / "tasks.jsonl", skip=1)  # a later round: unusable records are not counted
    assert [t.task_id for t in later] == ["tasks:4"]
    assert [t.task_id for t in read_tasks(tmp_path / "tasks.jsonl", skip=0, limit=1)[0]] == ["avc-0001"]


def test_interface_prompts_list_the_reference_ports_and_ask_for_top_module(tmp_path, checkpoint):
    """The prompt the default model was tuned on: ports listed, module TopModule, reference renamed to
    match; the rollouts record that prompt and refuse to mix with rollouts of plain prompts."""
    bus = "module bus(input [7:0] d, input en, output [7:0] q);\n  assign q = en ? d : 8'd0;\nendmodule\n"
    write_jsonl(tmp_path / "tasks.jsonl", [{"id": "avc-0001", "problem": "Pass d through when en is high.", "reference": bus}])
    (task,), skipped = read_tasks(tmp_path / "tasks.jsonl", interface_prompts=True)
    assert skipped == 0 and task.module == "TopModule"
    assert task.reference == bus.replace("module bus", "module TopModule")
    assert task.spec.splitlines() == [
        "Implement the module TopModule with these ports (one bit wide unless a width is given):", "",
        " - input  d (8 bits)", " - input  en", " - output q (8 bits)", "", "Pass d through when en is high."]
    engine = Engine.load(checkpoint)
    settings = RolloutSettings(str(checkpoint), samples=1, max_new_tokens=4, interface_prompts=True)
    path = run_rollouts([task], tmp_path / "work", settings, engine=engine, progress=False)
    (record,) = read_jsonl(path)
    assert " - input  en" in record["prompt"] and record["completion"].startswith("module TopModule")
    with pytest.raises(UserError, match="other settings"):
        run_rollouts([task], tmp_path / "work", RolloutSettings(str(checkpoint), samples=1, max_new_tokens=4),
                     engine=engine, progress=False)


def test_a_record_of_no_accepted_shape_is_a_one_line_error(tmp_path):
    write_jsonl(tmp_path / "bad.jsonl", [{"problem": "Spec.", "reference": REFERENCE}, {"question": "q", "code": REFERENCE}])
    with pytest.raises(UserError) as error:
        read_tasks(tmp_path / "bad.jsonl")
    message = str(error.value)
    assert "\n" not in message and "bad.jsonl:2" in message
    assert all(field in message for field in ("instruction", "output", "prompt", "answer", "problem", "reference"))

def test_pairs_then_dpo_write_a_checkpoint_the_engine_loads(tmp_path, checkpoint):
    work, output = tmp_path / "work", tmp_path / "salv"
    prompt = "// y is a AND b, z is a XOR b.\n"
    write_jsonl(work / ROLLOUTS_FILE, [
        {"task_id": "t0", "index": i, "module": "pair", "prompt": prompt, "completion": text, "reference": REFERENCE}
        for i, text in enumerate(CANDIDATES)])
    assert _cli("--stage", "pairs", "--work", str(work), "--vectors", "16") == 0
    stats = json.loads((work / "pairs.stats.json").read_text())
    assert stats["samples"] == 3 and stats["compiled"] == 2 and stats["signals_correct"] == 2
    pairs = list(read_jsonl(work / "pairs.jsonl"))
    assert sorted(p["pair_id"] for p in pairs) == ["t0:0>1", "t0:0>2", "t0:1>0", "t0:1>2"]

    assert _cli("--stage", "train", "--work", str(work), "--checkpoint", str(checkpoint), "--output", str(output),
                "--lr", "1e-2", "--epochs", "2", "--mixed-precision", "no") == 0
    assert (output / "adapter" / "adapter_config.json").is_file()
    provenance = json.loads((output / "verifrag.json").read_text())["provenance"]
    assert provenance["note"] == "tiny random test model"
    salv = provenance["salv"]
    assert salv["pairs"] == 4 and salv["steps"] == 4 and salv["level"] == "signal"
    assert salv["mixed_precision"] == "no"
    assert salv["first_loss"] == pytest.approx(math.log(2), abs=1e-5)  # reference = adapters off = policy at start

    tuned, base = Engine.load(output), Engine.load(checkpoint)
    ids = torch.tensor([base.lm.tokenizer(prompt + CANDIDATES[0])["input_ids"]])
    with torch.no_grad():
        assert not torch.allclose(tuned.lm.model(ids).logits, base.lm.model(ids).logits)
    with pytest.raises(UserError, match="not empty"):
        _cli("--stage", "train", "--work", str(work), "--checkpoint", str(checkpoint), "--output", str(output))

    # A second round on the tuned checkpoint (the default ships with an adapter) trains on top of it,
    # merged, and stacks the two: the first adapter's update is kept exactly, the new one added.
    stacked = tmp_path / "salv2"
    (output / "train_state").mkdir()  # an SFT output keeps its resume state; a DPO checkpoint must not
    assert _cli("--stage", "train", "--work", str(work), "--checkpoint", str(output), "--output", str(stacked),
                "--lr", "1e-2", "--epochs", "2", "--rank", "4", "--mixed-precision", "bf16") == 0
    second = json.loads((stacked / "verifrag.json").read_text())["provenance"]["salv"]
    assert not (stacked / "train_state").exists()
    assert second["mixed_precision"] == "bf16"  # policy and reference both under autocast: still log 2 at step 0
    assert second["first_loss"] == pytest.approx(math.log(2), abs=1e-5)  # the reference is the first round's model
    config = json.loads((stacked / "adapter" / "adapter_config.json").read_text())
    assert config["r"] == 8 + 4 and config["lora_alpha"] == 12
    first, both = (load_file(str(d / "adapter" / "adapter_model.safetensors")) for d in (output, stacked))
    assert set(first) == set(both)
    assert {t.dtype for t in (*first.values(), *both.values())} == {torch.float16}  # half the bytes: rounds fit 60 MB
    for name, tensor in first.items():
        if "lora_A" in name:  # scaled by the first adapter's alpha / r = 16 / 8
            torch.testing.assert_close(both[name][:8], tensor * 2.0)
        else:
            torch.testing.assert_close(both[name][:, :8], tensor)
    again = Engine.load(stacked)
    with torch.no_grad():
        assert not torch.allclose(again.lm.model(ids).logits, tuned.lm.model(ids).logits)


def test_module_level_counts_whole_completions(checkpoint):
    tokenizer = Engine.load(checkpoint).lm.tokenizer
    pair = {"prompt": "// p\n", "chosen": CANDIDATES[0], "rejected": CANDIDATES[1],
            "chosen_spans": [[0, CANDIDATES[0].index("  assign z")]], "rejected_spans": [[0, 10]]}
    (signal,), _ = encode_pairs([pair], tokenizer, "signal")
    (module,), _ = encode_pairs([pair], tokenizer, "module")
    assert sum(module[0][1]) > sum(signal[0][1]) and sum(module[1][1]) > sum(signal[1][1])
