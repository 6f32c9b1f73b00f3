"""Supervised tuning: answer-only loss masking, the prompt format generation uses, length batching, and an
exact resume after a time-budget stop (tiny random Llama with the real SmolLM2 tokenizer)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tests.salv_tiny import smollm_tokenizer, tiny_checkpoint
from verifrag.errors import UserError
from verifrag.model.prompting import module_prompt
from verifrag.training.labels import IGNORE_INDEX
from verifrag.training.sft.examples import (ANSWER_END, Example, Pair, iterate_steps, length_batches,
                                            pair_example, read_pairs)
from verifrag.training.sft.trainer import SFTConfig, SFTTrainer


MODULE = "module and_gate (\n    input a,\n    input b,\n    output y\n);\n    assign y = a & b;\nendmodule"


def _pairs_file(path: Path, count: int = 8) -> Path:
    lines = []
    for i in range(count):
        body = MODULE.replace("and_gate", f"gate{i}").replace("a & b", " ^ ".join(["a", "b"] * (i + 1)))
        lines.append(json.dumps({"problem": f"Design gate number {i}: y is a function of a and b.", "reference": body}))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    (path.parent / "LICENSE").write_text("MIT License\n\nCopyright (c) test\n")
    return path


def test_only_answer_tokens_carry_labels_and_prompt_is_the_generation_prompt():
    tokenizer = smollm_tokenizer()
    example = pair_example(Pair("An AND gate.", MODULE, "test", "MIT"), tokenizer)
    prompt, start = module_prompt("An AND gate.", tokenizer, module_name="and_gate")
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    assert start == "module and_gate"
    assert list(example.input_ids[:len(prompt_ids)]) == prompt_ids
    assert set(example.labels[:len(prompt_ids)]) == {IGNORE_INDEX}
    answer = [t for t in example.labels if t != IGNORE_INDEX]
    assert len(answer) == len(example.input_ids) - len(prompt_ids)
    assert answer[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(answer[:-1]) == MODULE[len("module and_gate"):] + ANSWER_END


def test_a_pair_without_a_module_is_skipped():
    assert pair_example(Pair("spec", "assign y = a;", "test", "MIT"), smollm_tokenizer()) is None


def test_pairs_carry_the_licence_beside_the_file_and_bad_records_are_one_line_errors(tmp_path):
    pairs = read_pairs(_pairs_file(tmp_path / "problems.jsonl", 2))
    assert [p.license for p in pairs] == ["MIT License"] * 2
    (tmp_path / "bad.jsonl").write_text('{"prompt": 3, "answer": "x"}\n')
    with pytest.raises(UserError, match="bad.jsonl:1"):
        read_pairs(tmp_path / "bad.jsonl")


def test_length_batches_keep_every_example_within_the_token_budget():
    examples = [Example(tuple(range(n)), tuple(range(n))) for n in (5, 60, 7, 33, 31, 8, 64, 2)]
    batches = length_batches(examples, 64)
    assert sorted(len(e.input_ids) for b in batches for e in b) == sorted(len(e.input_ids) for e in examples)
    assert all(len(b) * max(len(e.input_ids) for e in b) <= 64 for b in batches)


def test_a_resumed_step_sequence_is_the_tail_of_the_whole_sequence():
    batches = [[Example((i,), (i,))] for i in range(5)]
    whole = [(s, b[0].input_ids) for s, b in iterate_steps(batches, 3, 0, 12)]
    tail = [(s, b[0].input_ids) for s, b in iterate_steps(batches, 3, 7, 12)]
    assert whole[7:] == tail
    assert [s for s, _ in whole] == list(range(12))
    assert whole[:5] != whole[5:10]  # a new order each epoch


def _config(root: Path, data: Path, ckpt: Path, **overrides) -> SFTConfig:
    settings = dict(output_dir=str(root), pairs=[str(data)], init_checkpoint=str(ckpt), lora_rank=4, lora_alpha=8,
                    lr=1e-2, epochs=2.0, batch_tokens=600, seq_len=300, heldout_fraction=0.2, seed=1)
    settings.update(overrides)
    return SFTConfig(**settings)


@pytest.mark.parametrize("precision", ["no", "bf16"])
def test_a_run_stopped_by_its_time_budget_resumes_to_the_same_adapter(tmp_path, precision):
    torch.set_num_threads(1)
    data = _pairs_file(tmp_path / "data" / "problems.jsonl")
    ckpt = tiny_checkpoint(tmp_path / "tiny")
    whole = SFTTrainer(_config(tmp_path / "whole", data, ckpt, mixed_precision=precision)).run()
    cut = tmp_path / "cut"
    SFTTrainer(_config(cut, data, ckpt, max_minutes=1e-9, mixed_precision=precision)).run()  # stops after one step
    first = json.loads((cut / "verifrag.json").read_text())["provenance"]["sft"]
    assert first["steps"] == 1 and first["finished"] is False
    with pytest.raises(UserError, match="--resume"):
        SFTTrainer(_config(cut, data, ckpt, mixed_precision=precision))
    SFTTrainer(_config(cut, data, ckpt, resume=True, mixed_precision=precision)).run()
    done = json.loads((cut / "verifrag.json").read_text())["provenance"]["sft"]
    reference = json.loads((whole / "verifrag.json").read_text())["provenance"]["sft"]
    assert done["finished"] and done["steps"] == reference["steps"] > 1
    assert done["mixed_precision"] == reference["mixed_precision"] == precision
    a = load_file(whole / "adapter" / "adapter_model.safetensors")
    b = load_file(cut / "adapter" / "adapter_model.safetensors")
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=1e-6)
    assert reference["heldout_answer_loss"] < reference["heldout_answer_loss_before"]


def test_the_tuned_checkpoint_loads_with_its_adapter_merged(tmp_path):
    from verifrag.model.engine import Engine

    data = _pairs_file(tmp_path / "data" / "problems.jsonl", 4)
    ckpt = tiny_checkpoint(tmp_path / "tiny")
    out = SFTTrainer(_config(tmp_path / "out", data, ckpt, epochs=1.0)).run()
    untuned = Engine.load(ckpt, device="cpu", dtype="float32")
    tuned = Engine.load(out, device="cpu", dtype="float32")
    ids = torch.tensor([[1, 2, 3]])
    with torch.no_grad():
        assert not torch.allclose(untuned.lm.model(ids).logits, tuned.lm.model(ids).logits)


def test_interface_prompts_list_the_answers_ports_and_name_it_top_module():
    from verifrag.training.sft.interface import HEADER, with_interface

    module = ("module counter (\n  input clk,\n  input reset,\n  output reg [3:0] q\n);\n"
              "  always @(posedge clk) q <= reset ? 4'd0 : q + 4'd1;\nendmodule")
    rewritten = with_interface(Pair("A counter.", module, "test", "MIT"))
    assert rewritten.spec == "\n".join([HEADER, "", " - input  clk", " - input  reset", " - output q (4 bits)", "",
                                        "A counter."])
    assert rewritten.module.startswith("module TopModule (") and rewritten.module.count("counter") == 0
    assert with_interface(Pair("x", "module m(inout wire a); endmodule", "test", "MIT")) is None


def test_a_second_stage_trains_the_init_checkpoints_adapter_further(tmp_path):
    torch.set_num_threads(1)
    data = _pairs_file(tmp_path / "data" / "problems.jsonl", 4)
    first = SFTTrainer(_config(tmp_path / "first", data, tiny_checkpoint(tmp_path / "tiny"), epochs=1.0)).run()
    second = SFTTrainer(_config(tmp_path / "second", data, first, epochs=1.0, interface_prompts=True)).run()
    a = load_file(first / "adapter" / "adapter_model.safetensors")
    b = load_file(second / "adapter" / "adapter_model.safetensors")
    assert a.keys() == b.keys() and any(not torch.equal(a[k], b[k]) for k in a)
    provenance = json.loads((second / "verifrag.json").read_text())["provenance"]["sft"]
    assert provenance["continued_from"]["steps"] >= 1 and provenance["settings"]["interface_prompts"]


def test_interface_prompts_hold_out_the_same_pairs_as_the_plain_stage(tmp_path):
    from verifrag.training.sft.trainer import split_pairs

    pairs = read_pairs(_pairs_file(tmp_path / "problems.jsonl", 12))
    plain = SFTConfig(output_dir="x", heldout_fraction=0.4)
    rewritten = SFTConfig(output_dir="x", heldout_fraction=0.4, interface_prompts=True)
    _, held_plain, _ = split_pairs(pairs, plain)
    _, held_rewritten, dropped = split_pairs(pairs, rewritten)
    assert held_plain and dropped == 0
    assert [p.spec for p in held_plain] == [p.spec.rsplit("\n", 1)[-1] for p in held_rewritten]


def test_bad_raw_corpus_and_pairs_files_are_one_line_errors(tmp_path):
    from verifrag.training.sft.examples import read_raw_records

    (tmp_path / "raw.jsonl").write_text('{"text": "module m; endmodule"}\n{"txt": 1}\n')
    with pytest.raises(UserError, match=r"raw.jsonl:2: not a JSON object with a \"text\" field"):
        read_raw_records(tmp_path / "raw.jsonl")
    (tmp_path / "torn.jsonl").write_text('{"text": "module m;')
    with pytest.raises(UserError, match="torn.jsonl:1: not JSON"):
        read_raw_records(tmp_path / "torn.jsonl")
    (tmp_path / "bytes.jsonl").write_bytes(b'{"prompt": "\xff", "answer": "module m; endmodule"}\n')
    with pytest.raises(UserError, match="not UTF-8"):
        read_pairs(tmp_path / "bytes.jsonl")


def test_raw_windows_take_a_seeded_sample_of_the_raw_code(tmp_path):
    from verifrag.training.sft.trainer import _build_data

    lines = [json.dumps({"text": f"module m{i} (input a, output y);\n" + "  assign y = a;\n" * 40 + "endmodule\n"})
             for i in range(6)]
    (tmp_path / "raw.jsonl").write_text("\n".join(lines) + "\n")
    tokenizer = smollm_tokenizer()

    def windows(limit: int, seed: int = 0) -> list[tuple[int, ...]]:
        config = SFTConfig(output_dir="x", raw=[str(tmp_path / "raw.jsonl")], seq_len=64, raw_windows=limit, seed=seed)
        data = _build_data(config, tokenizer)
        assert data.stats["raw_windows"] == sum(len(b) for b in data.train_batches)
        return sorted(e.input_ids for b in data.train_batches for e in b)

    every = windows(0)
    sample = windows(5)
    assert len(every) > 5 and len(sample) == 5 and set(sample) <= set(every)
    assert windows(5) == sample and windows(5, seed=1) != sample
    assert windows(len(every) + 3) == every


def test_mixed_precision_auto_is_bfloat16_only_where_the_hardware_has_it(monkeypatch):
    from verifrag.training import precision

    monkeypatch.setattr(precision, "native_bfloat16", lambda: False)
    assert precision.mixed_precision("auto", cpu_bfloat16=True) == "no"
    monkeypatch.setattr(precision, "native_bfloat16", lambda: True)
    monkeypatch.setattr(precision.torch.cuda, "is_available", lambda: False)
    assert precision.mixed_precision("auto", cpu_bfloat16=True) == "bf16"
    assert precision.mixed_precision("auto", cpu_bfloat16=False) == "no"  # heads: bf16 on a GPU only
    monkeypatch.setattr(precision.torch.cuda, "is_available", lambda: True)
    assert precision.mixed_precision("auto", cpu_bfloat16=False) == "bf16"
    assert precision.mixed_precision("no", cpu_bfloat16=True) == "no"
    with pytest.raises(UserError, match="unknown mixed precision"):
        precision.mixed_precision("fp8", cpu_bfloat16=True)


def test_trainers_with_different_precisions_run_in_turn_in_one_process():
    from verifrag.training.precision import fresh_accelerator

    assert fresh_accelerator(mixed_precision="bf16").mixed_precision == "bf16"
    assert fresh_accelerator().mixed_precision == "no"
