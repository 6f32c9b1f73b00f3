"""Training examples for supervised tuning, built exactly the way the model is later prompted.

An instruction pair becomes `module_prompt(spec)` (the same chat text `verifrag generate`, `eval` and the
server's generate-module command send) followed by the rest of the module and the closing fence. The
prompt and the answer are tokenised separately and concatenated, because at inference the prompt is
tokenised alone and the model continues from its last token: joint tokenisation could merge tokens across
the seam and teach a split the decoder never sees. Only answer tokens carry labels; prompt tokens get
IGNORE_INDEX, so the model learns to write modules, not to predict specifications.

Raw code (continued pretraining) is cut into windows with every token labelled.

Batches are formed by length (examples sorted, then cut into groups under a token budget) so that little
compute goes to padding, which on a CPU is most of the saving; their order is then shuffled per epoch from
the seed, so a resumed run replays exactly the same sequence of batches.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import torch
from transformers import PreTrainedTokenizerBase

from verifrag.errors import UserError
from verifrag.jsonl_input import read_objects
from verifrag.model.prompting import module_prompt
from verifrag.training.labels import IGNORE_INDEX

ANSWER_END = "\n```"
_MODULE_HEAD = re.compile(r"\bmodule\s+(\\\S+|[A-Za-z_][A-Za-z0-9_$]*)")


@dataclass(frozen=True)
class Example:
    input_ids: tuple[int, ...]
    labels: tuple[int, ...]

    @property
    def trained_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE_INDEX)


@dataclass(frozen=True)
class Pair:
    """One specification -> module pair; `source` and `license` travel with it into the provenance."""
    spec: str
    module: str
    source: str
    license: str


def read_pairs(path: str | Path) -> list[Pair]:
    """Pairs from JSONL: `{"prompt", "answer"}` records (`verifrag train data` output) or AutoVCoder's own
    `{"problem", "reference"}` records, so its decontaminated file is used as shipped."""
    path = Path(path).expanduser()
    pairs: list[Pair] = []
    default_license = _license_beside(path)
    for number, record in read_objects(path, "pairs file"):
        spec = record.get("prompt", record.get("problem"))
        module = record.get("answer", record.get("reference"))
        if not isinstance(spec, str) or not isinstance(module, str):
            raise UserError(f"{path}:{number}: needs string fields prompt/answer (or problem/reference)")
        source = str(record.get("source") or path.parent.name)
        pairs.append(Pair(spec, module, source, str(record.get("license") or default_license)))
    return pairs


def _license_beside(path: Path) -> str:
    """The licence of a data set shipped as a folder with a LICENSE file (AutoVCoder's MIT): its first
    non-empty line; records may still name their own."""
    licence = path.parent / "LICENSE"
    if licence.is_file():
        for line in licence.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.strip():
                return line.strip()
    return "unknown"


def read_raw_records(path: str | Path) -> list[dict[str, Any]]:
    """Corpus records (`verifrag train data` output: one JSON object with a string "text" a line), for
    continued pretraining and for distillation prompts; a bad file or line is a one-line error."""
    file = Path(path).expanduser()
    records = []
    for number, record in read_objects(file, "raw corpus file"):
        if not isinstance(record.get("text"), str):
            raise UserError(f"{file}:{number}: not a JSON object with a \"text\" field")
        records.append(record)
    return records


def pair_example(pair: Pair, tokenizer: PreTrainedTokenizerBase) -> Example | None:
    """The pair as the model will see it; None when the answer holds no module declaration."""
    found = _MODULE_HEAD.search(pair.module)
    if found is None:
        return None
    prompt, _ = module_prompt(pair.spec, tokenizer, module_name=found.group(1))
    answer = pair.module[found.end():].rstrip() + ANSWER_END
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"]
    if tokenizer.eos_token_id is not None:
        answer_ids = answer_ids + [tokenizer.eos_token_id]
    return Example(tuple(prompt_ids + answer_ids), tuple([IGNORE_INDEX] * len(prompt_ids) + answer_ids))


def raw_examples(text: str, tokenizer: PreTrainedTokenizerBase, seq_len: int) -> list[Example]:
    """Continued-pretraining windows of one document, every token labelled."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return [Example(tuple(ids[i:i + seq_len]), tuple(ids[i:i + seq_len]))
            for i in range(0, len(ids), seq_len) if len(ids[i:i + seq_len]) > 1]


def heldout_split(pairs: Sequence[Pair], fraction: float) -> tuple[list[Pair], list[Pair]]:
    """A split by a hash of the module text: stable across reruns, resumes and file reorderings."""
    train, heldout = [], []
    for pair in pairs:
        bucket = int(hashlib.sha256(pair.module.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        (heldout if bucket < fraction else train).append(pair)
    return train, heldout


def length_batches(examples: Sequence[Example], max_tokens: int) -> list[list[Example]]:
    """Groups of similar length whose padded size (rows x longest) stays within `max_tokens`."""
    ordered = sorted(examples, key=lambda e: len(e.input_ids))
    batches: list[list[Example]] = []
    current: list[Example] = []
    for example in ordered:
        longest = len(example.input_ids)  # sorted: the newest example is the batch's longest
        if current and longest * (len(current) + 1) > max_tokens:
            batches.append(current)
            current = []
        current.append(example)
    if current:
        batches.append(current)
    return batches


def epoch_order(batches: Sequence[list[Example]], seed: int, epoch: int) -> list[list[Example]]:
    """The batches of one epoch in a shuffled order that depends only on (seed, epoch)."""
    order = list(batches)
    random.Random(seed * 1_000_003 + epoch).shuffle(order)
    return order


def collate(batch: Sequence[Example], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded tensors; padding is masked out of attention and of the loss."""
    width = max(len(e.input_ids) for e in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE_INDEX, dtype=torch.long)
    attention = torch.zeros((len(batch), width), dtype=torch.long)
    for row, example in enumerate(batch):
        n = len(example.input_ids)
        input_ids[row, :n] = torch.tensor(example.input_ids)
        labels[row, :n] = torch.tensor(example.labels)
        attention[row, :n] = 1
    return {"input_ids": input_ids, "labels": labels, "attention_mask": attention}


def iterate_steps(batches: Sequence[list[Example]], seed: int, start_step: int, total_steps: int
                  ) -> Iterator[tuple[int, list[Example]]]:
    """(step, batch) from `start_step` on, epoch after epoch, the same sequence whatever the start."""
    per_epoch = len(batches)
    step = start_step
    while step < total_steps:
        epoch, offset = divmod(step, per_epoch)
        for batch in epoch_order(batches, seed, epoch)[offset:]:
            if step >= total_steps:
                return
            yield step, batch
            step += 1
