"""Syntax-enriched head labels against hand-worked examples (see training/labels.py for the rules)."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoTokenizer

from verifrag.model.base import resolve_base
from verifrag.training.frag_insertion import frag_annotate
from verifrag.training.labels import IGNORE_INDEX, head_labels

X = IGNORE_INDEX
IDS = [10, 11, 12, 13, 14, 15]
# token:     10    11     12    13     14     15
FLAGS = [True, False, True, False, False, True]


def test_plain_labels_shift_by_head() -> None:
    # head k at t predicts token t+k+2
    assert head_labels(IDS, FLAGS, 2, "plain").tolist() == [
        [12, 13, 14, 15, X, X],
        [13, 14, 15, X, X, X],
    ]


def test_fragment_labels_ignore_targets_inside_a_fragment() -> None:
    assert head_labels(IDS, FLAGS, 2, "fragment").tolist() == [
        [12, X, X, 15, X, X],
        [X, X, 15, X, X, X],
    ]


def test_progressive_labels_keep_targets_that_reach_a_boundary_within_the_heads() -> None:
    # head 0 at t=2 targets token 14 (inside a fragment) but head 1 would finish it at token 15: kept.
    # head 0 at t=1 targets 13; neither 13 nor 14 ends a fragment: ignored. The last head = fragment rule.
    assert head_labels(IDS, FLAGS, 2, "progressive").tolist() == [
        [12, X, 14, 15, X, X],
        [X, X, 15, X, X, X],
    ]


def test_progressive_masks_later_heads_at_least_as_much() -> None:
    torch.manual_seed(0)
    flags = torch.rand(200) < 0.4
    labels = head_labels(torch.arange(200), flags, 4, "progressive")
    kept = (labels != X).sum(dim=1).tolist()
    assert kept == sorted(kept, reverse=True) and kept[0] > kept[-1]


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError):
        head_labels(IDS, FLAGS, 2, "sometimes")


def test_real_text_ignores_half_identifiers() -> None:
    tokenizer = AutoTokenizer.from_pretrained(resolve_base(None), local_files_only=True)
    text = "assign overflow_flag = a;\n"
    ids, flags = frag_annotate(text, tokenizer, insert_frag=False)
    labels = head_labels(ids, flags, 1, "fragment")[0]
    pieces = [tokenizer.decode([i]) for i in ids]
    for t in range(len(ids) - 2):
        kept = labels[t].item() != X
        assert kept == flags[t + 2], (pieces, t)
    # `overflow_flag` is several BPE pieces; a target ending mid-identifier must be ignored somewhere
    assert not all(flags) and (labels == X).any()
