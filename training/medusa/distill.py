"""Self-distilled training text for Medusa heads: what the tuned model itself writes.

The Medusa authors train heads on the model's own outputs when the available text is not what the model
writes; after supervised tuning, ours writes modules in its own style, and heads that predict that style
are the heads that get accepted. Each record is the prompt the decoders send (a module prompt built from
an instruction pair, or the head of a raw corpus file) followed by the tuned model's greedy continuation,
so head training sees the hidden states of real use.

Generation is batched (left padding) through transformers' `generate`, which on a CPU gives several times
the throughput of one sequence at a time; the output JSONL is appended as batches finish and a rerun
skips the records already written.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import torch
from tqdm.auto import tqdm

from verifrag.model.prompting import module_prompt
from verifrag.training.sft.examples import read_pairs, read_raw_records


@dataclass(frozen=True)
class DistillPrompt:
    key: str
    text: str
    source: str
    license: str


def pair_prompts(paths: Sequence[str], tokenizer) -> list[DistillPrompt]:
    """Module prompts from instruction pairs, exactly as `verifrag generate` builds them."""
    prompts = []
    for path in paths:
        for pair in read_pairs(path):
            text, _ = module_prompt(pair.spec, tokenizer)
            prompts.append(DistillPrompt(_key(text), text, pair.source, pair.license))
    return prompts


def raw_prompts(paths: Sequence[str], tokenizer, prefix_tokens: int) -> list[DistillPrompt]:
    """The first `prefix_tokens` tokens of each raw corpus record: a file being written."""
    prompts = []
    for path in paths:
        for record in read_raw_records(path):
            ids = tokenizer(record["text"], add_special_tokens=False)["input_ids"][:prefix_tokens]
            text = tokenizer.decode(ids)
            prompts.append(DistillPrompt(_key(text), text, str(record.get("source", path)),
                                         str(record.get("license", "unknown"))))
    return prompts


def _key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _done_keys(output: Path) -> set[str]:
    if not output.is_file():
        return set()
    keys = set()
    for line in output.read_text(encoding="utf-8").splitlines():
        try:
            keys.add(json.loads(line)["key"])
        except (json.JSONDecodeError, KeyError, TypeError):
            continue  # a torn last line from a killed run: its prompt is generated again
    return keys


def _batches(items: Sequence[DistillPrompt], size: int) -> Iterator[list[DistillPrompt]]:
    ordered = sorted(items, key=lambda p: len(p.text))  # similar lengths: little padding
    for start in range(0, len(ordered), size):
        yield ordered[start:start + size]


def distill(model: torch.nn.Module, tokenizer, prompts: Sequence[DistillPrompt], output: Path,
            max_new_tokens: int, batch_size: int) -> int:
    """Append greedy continuations for every prompt not yet in `output`; returns how many were written."""
    done = _done_keys(output)
    todo = [p for p in prompts if p.key not in done]
    output.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.padding_side = "left"
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    written = 0
    bar = tqdm(total=len(todo), desc="distill", unit="prompt")
    with output.open("a", encoding="utf-8") as sink:
        for batch in _batches(todo, batch_size):
            encoded = tokenizer([p.text for p in batch], return_tensors="pt", padding=True, add_special_tokens=False)
            with torch.no_grad():
                generated = model.generate(**encoded, max_new_tokens=max_new_tokens, do_sample=False,
                                           pad_token_id=pad_id, stop_strings=["endmodule"], tokenizer=tokenizer)
            width = encoded["input_ids"].shape[1]
            for prompt, row in zip(batch, generated):
                continuation = tokenizer.decode(row[width:], skip_special_tokens=True)
                sink.write(json.dumps({"key": prompt.key, "text": prompt.text + continuation,
                                       "source": f"self-distilled from {prompt.source}",
                                       "license": prompt.license}) + "\n")
                written += 1
            sink.flush()
            bar.update(len(batch))
    bar.close()
    return written
