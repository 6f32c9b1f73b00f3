"""Heads retrained on a tuned base: self-distilled text from the tuned model, then `--base-checkpoint`
training, whose output keeps the adapter and decodes with the same merged model."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from tests.salv_tiny import tiny_checkpoint
from tests.test_sft import _pairs_file
from verifrag.model.engine import Engine
from verifrag.training.medusa.config import MedusaTrainConfig
from verifrag.training.medusa.distill import distill, pair_prompts
from verifrag.training.medusa.trainer import MedusaTrainer
from verifrag.training.sft.trainer import SFTConfig, SFTTrainer


def test_self_distilled_heads_on_a_tuned_base(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    pairs = _pairs_file(tmp_path / "data" / "problems.jsonl", 4)
    tuned = SFTTrainer(SFTConfig(output_dir=str(tmp_path / "tuned"), pairs=[str(pairs)],
                                 init_checkpoint=str(tiny_checkpoint(tmp_path / "tiny")), lora_rank=4,
                                 batch_tokens=600, seq_len=300, heldout_fraction=0.0, lr=1e-2)).run()
    engine = Engine.load(tuned, device="cpu", dtype="float32")
    prompts = pair_prompts([str(pairs)], engine.lm.tokenizer)
    out = tmp_path / "distilled.jsonl"
    assert distill(engine.lm.model, engine.lm.tokenizer, prompts[:3], out, max_new_tokens=6, batch_size=2) == 3
    assert distill(engine.lm.model, engine.lm.tokenizer, prompts, out, max_new_tokens=6, batch_size=2) == 1  # resumes
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len({r["key"] for r in records}) == 4
    texts = {p.text for p in prompts}
    assert all(any(r["text"].startswith(t) and len(r["text"]) > len(t) for t in texts) for r in records)
    assert all(r["license"] == "MIT License" and r["source"].startswith("self-distilled") for r in records)

    heads = MedusaTrainer(MedusaTrainConfig(data=[str(out)], output_dir=str(tmp_path / "heads"),
                                            base_checkpoint=str(tuned), num_heads=2, seq_len=64, batch_size=2,
                                            max_steps=3, tree_nodes=4, heldout_fraction=0.0)).run()
    assert (heads / "adapter" / "adapter_model.safetensors").is_file()
    reloaded = Engine.load(heads, device="cpu", dtype="float32")
    ids = torch.tensor([[5, 6, 7, 8]])
    with torch.no_grad():
        torch.testing.assert_close(reloaded.lm.model(ids).logits, engine.lm.model(ids).logits)
    provenance = json.loads((heads / "verifrag.json").read_text())["provenance"]
    assert provenance["base_checkpoint"]["sft"]["steps"] >= 1
