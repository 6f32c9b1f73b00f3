"""Training text for the Medusa trainer: read documents, tokenise with boundary flags, cut windows.

Inputs are JSONL files from `verifrag train data` (one module per line in "text") or, for quick runs
on raw sources, directories of .v/.sv files (one document per file). Labels are computed over whole
documents (see `labels.head_labels`), then documents are cut into windows of `seq_len` tokens, so
the base model sees at most `seq_len` tokens of context but no head target is lost at a window edge.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import torch
from transformers import PreTrainedTokenizerBase

from verifrag.errors import UserError
from verifrag.training.frag_insertion import frag_annotate
from verifrag.training.labels import IGNORE_INDEX, head_labels

SOURCE_SUFFIXES = (".v", ".sv", ".vh", ".svh")


def read_texts(paths: Sequence[str | Path], max_chars: int = 200_000) -> list[str]:
    """Documents from JSONL files ("text" field) and source directories, in a stable order.

    Files longer than `max_chars` are skipped: in the CPU-core packages they are generated netlists
    (VexRiscv) that would dominate a small corpus without teaching hand-written style.
    """
    texts: list[str] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix in SOURCE_SUFFIXES and p.is_file())
            texts.extend(t for t in (f.read_text(errors="replace") for f in files) if 0 < len(t) <= max_chars)
        elif path.is_file() and path.suffix == ".jsonl":
            texts.extend(_jsonl_texts(path))
        else:
            raise UserError(f"training data {path} is neither a .jsonl file nor a directory of Verilog files")
    return texts


def _jsonl_texts(path: Path) -> Iterable[str]:
    with path.open() as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                text = json.loads(line)["text"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise UserError(f"{path}:{number}: not a JSON object with a \"text\" field") from exc
            if text:
                yield text


def split_heldout(texts: list[str], fraction: float) -> tuple[list[str], list[str]]:
    """Deterministic train/held-out split by a hash of each document, so reruns and resumed runs agree."""
    train, heldout = [], []
    for text in texts:
        bucket = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        (heldout if bucket < fraction else train).append(text)
    return train, heldout


@dataclass
class Window:
    """One training window: `input_ids` (L,) and head `labels` (num_heads, L)."""

    input_ids: torch.Tensor
    labels: torch.Tensor


@dataclass
class TokenizedSet:
    windows: list[Window]
    stats: dict[str, int | list[int]] = field(default_factory=dict)


def tokenize_set(texts: Sequence[str], tokenizer: PreTrainedTokenizerBase, num_heads: int, label_mode: str,
                 seq_len: int, max_tokens: int, insert_frag: bool) -> TokenizedSet:
    """Windows of at most `seq_len` tokens until `max_tokens` tokens are collected (0 = no limit).

    `insert_frag` puts `[FRAG]` into the text by the corpus rule (`frag_insertion`, rule `hidden`);
    the tokenizer must already know `[FRAG]` (`add_frag_token`).
    """
    windows: list[Window] = []
    tokens = documents = 0
    kept = [0] * num_heads
    for text in texts:
        if max_tokens and tokens >= max_tokens:
            break
        ids, flags = frag_annotate(text, tokenizer, insert_frag=insert_frag)
        if len(ids) < 2:
            continue
        if max_tokens:
            ids, flags = ids[: max_tokens - tokens], flags[: max_tokens - tokens]
        labels = head_labels(ids, flags, num_heads, label_mode)
        ids_tensor = torch.tensor(ids, dtype=torch.long)
        for start in range(0, len(ids), seq_len):
            windows.append(Window(ids_tensor[start:start + seq_len], labels[:, start:start + seq_len]))
        documents += 1
        tokens += len(ids)
        kept = [a + int(b) for a, b in zip(kept, (labels != IGNORE_INDEX).sum(dim=1).tolist())]
    return TokenizedSet(windows, {"documents": documents, "tokens": tokens, "windows": len(windows),
                                  "head_targets": kept})


def collate(windows: Sequence[Window], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad a batch; padded positions get attention 0 and ignored labels."""
    length = max(w.input_ids.shape[0] for w in windows)
    heads = windows[0].labels.shape[0]
    ids = torch.full((len(windows), length), pad_id, dtype=torch.long)
    attention = torch.zeros((len(windows), length), dtype=torch.long)
    labels = torch.full((len(windows), heads, length), IGNORE_INDEX, dtype=torch.long)
    for row, window in enumerate(windows):
        size = window.input_ids.shape[0]
        ids[row, :size] = window.input_ids
        attention[row, :size] = 1
        labels[row, :, :size] = window.labels
    return {"input_ids": ids, "attention_mask": attention, "labels": labels}
