"""The Medusa trainer end to end on a tiny random Llama that uses the real SmolLM2 tokenizer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

from verifrag.model.base import resolve_base
from verifrag.model.checkpoint import load_checkpoint
from verifrag.model.engine import Engine
from verifrag.model.sampling import DecodeConfig
from verifrag.training.medusa.config import MedusaTrainConfig
from verifrag.training.medusa.trainer import MedusaTrainer

MODULES = [
    "module counter(input clk, input rst, output reg [3:0] q);\n  always @(posedge clk) begin\n"
    "    if (rst) q <= 4'd0;\n    else q <= q + 4'd1;\n  end\nendmodule\n",
    "module mux2(input a, input b, input s, output y);\n  assign y = s ? b : a;\nendmodule\n",
    "module dff(input clk, input d, output reg q);\n  always @(posedge clk) q <= d;\nendmodule\n",
    "module and3(input a, input b, input c, output y);\n  assign y = a & b & c;\nendmodule\n",
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("medusa")
    tokenizer = AutoTokenizer.from_pretrained(resolve_base(None), local_files_only=True)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                         tie_word_embeddings=True, eos_token_id=tokenizer.eos_token_id)
    LlamaForCausalLM(config).save_pretrained(root / "base")
    tokenizer.save_pretrained(root / "base")
    data = root / "train.jsonl"
    data.write_text("".join(json.dumps({"text": m}) + "\n" for m in MODULES * 4))
    heldout = root / "heldout.jsonl"
    heldout.write_text("".join(json.dumps({"text": m}) + "\n" for m in MODULES[:2]))
    return {"root": root, "base": root / "base", "data": data, "heldout": heldout}


def _config(tiny: dict[str, Path], out: str, **overrides: object) -> MedusaTrainConfig:
    settings = dict(data=[str(tiny["data"])], heldout=[str(tiny["heldout"])], output_dir=str(tiny["root"] / out),
                    base_model=str(tiny["base"]), num_heads=3, seq_len=64, batch_size=2, max_steps=25, lr=3e-2,
                    warmup_ratio=0.0, tree_nodes=6)
    settings.update(overrides)
    return MedusaTrainConfig(**settings)


def test_heads_only_loss_falls_and_checkpoint_decodes(tiny: dict[str, Path]) -> None:
    out = MedusaTrainer(_config(tiny, "heads", competitors=4)).run()
    ckpt = load_checkpoint(out)
    provenance = ckpt.config.provenance
    first, last = provenance["first_losses"]["heads"], provenance["final_losses"]["heads"]
    assert all(b < a for a, b in zip(first, last)), (first, last)
    assert len(ckpt.config.head_acceptance) == 3 and len(ckpt.config.head_acceptance[0]) == 10
    assert ckpt.config.tree and not ckpt.config.frag_trained and ckpt.adapter_dir is None
    assert provenance["train_data"]["documents"] == len(MODULES) * 4
    distinct_targets = len({t for m in MODULES for t in AutoTokenizer.from_pretrained(tiny["base"])(m)["input_ids"][2:]})
    assert provenance["candidate_vocab"] > distinct_targets  # the base's competitors joined the softmax
    engine = Engine.load(out, device="cpu", dtype="float32")
    result = engine.generate("module counter(", "medusa", DecodeConfig(max_new_tokens=8))
    assert result.stats.steps >= 1


def test_joint_lora_with_frag_tokens_saves_adapter_and_row(tiny: dict[str, Path]) -> None:
    out = MedusaTrainer(_config(tiny, "joint", stage="joint", frag_tokens=True, max_steps=3, lora_rank=4)).run()
    ckpt = load_checkpoint(out)
    assert ckpt.adapter_dir is not None
    assert ckpt.config.frag_trained and list(ckpt.embedding_rows) == [ckpt.config.frag_token_id]
    assert "lm" in ckpt.config.provenance["final_losses"]
    engine = Engine.load(out, device="cpu", dtype="float32")
    assert engine.generate("module m(", "medusa", DecodeConfig(max_new_tokens=4)).stats.steps >= 1


def test_resume_continues_from_saved_step(tiny: dict[str, Path]) -> None:
    MedusaTrainer(_config(tiny, "resume", max_steps=2, save_every=2)).run()
    state = tiny["root"] / "resume" / "train_state" / "progress.json"
    assert json.loads(state.read_text())["step"] == 2
    out = MedusaTrainer(_config(tiny, "resume", max_steps=4, save_every=2, resume=True)).run()
    provenance = load_checkpoint(out).config.provenance
    assert provenance["resumed_from_step"] == 2 and provenance["first_losses"]["step"] == 3
    assert provenance["steps"] == 4 and json.loads(state.read_text())["step"] == 4


def test_two_cpu_processes_under_accelerate_launch(tiny: dict[str, Path]) -> None:
    out = tiny["root"] / "ddp"
    # accelerate's `--cpu` launcher starts several processes only through MPI; `--multi_gpu` starts them
    # with torchrun, and on a machine without CUDA they train on the CPU over gloo (MULTI_CPU).
    command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               "-m", "verifrag.training.medusa.cli", "--data", str(tiny["data"]), "--heldout", str(tiny["heldout"]),
               "-o", str(out), "--base-model", str(tiny["base"]), "--num-heads", "2", "--seq-len", "64",
               "--batch-size", "1", "--max-steps", "3", "--tree-nodes", "4"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=400, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    provenance = load_checkpoint(out).config.provenance
    assert provenance["processes"] == 2 and provenance["steps"] == 3
