"""[FRAG] insertion and boundary flags with the real SmolLM2 tokenizer, on hand-worked examples."""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers import AutoTokenizer, PreTrainedTokenizerBase

from verifrag.model.base import resolve_base
from verifrag.model.tokenizer import FRAG_TOKEN, add_frag_token
from verifrag.syntax.fragments import FragmentIndex, fragments
from verifrag.training.frag_insertion import EVERY, HIDDEN, frag_annotate, frag_counts, tokenize_with_ends

ALU = (Path(__file__).parent / "data" / "corpus_small" / "core" / "alu.v").read_text()


@pytest.fixture(scope="module")
def tokenizer() -> PreTrainedTokenizerBase:
    tok = AutoTokenizer.from_pretrained(resolve_base(None), local_files_only=True)
    add_frag_token(tok)
    return tok


def _pieces(text: str, tokenizer: PreTrainedTokenizerBase, **kwargs) -> list[str]:
    """Token texts, with [FRAG] shown as '|' and a '~' after tokens that end inside a fragment."""
    ids, flags = frag_annotate(text, tokenizer, **kwargs)
    frag = tokenizer.convert_tokens_to_ids(FRAG_TOKEN)
    return ["|" if i == frag else tokenizer.decode([i]) + ("" if flag else "~") for i, flag in zip(ids, flags)]


def test_sized_literal_gets_no_frag_inside_and_one_before_the_semicolon(tokenizer) -> None:
    text = "assign q = 4'b1010;"
    assert _pieces(text, tokenizer) == ["assign", " q", " =", " ", "4~", "'~", "b~", "1~", "0~", "1~", "0", "|", ";"]
    assert _pieces(text, tokenizer, rule=EVERY) == [
        "assign", "|", " q", "|", " =", "|", " ", "4~", "'~", "b~", "1~", "0~", "1~", "0", "|", ";", "|"
    ]


def test_identifier_split_across_bpe_tokens_is_never_cut(tokenizer) -> None:
    text = "always @(posedge clk) counter_reg <= counter_reg + 1;"
    assert _pieces(text, tokenizer) == [
        "always", " @", "|", "(", "|", "pos~", "edge", " cl~", "k", "|", ")", " counter~", "_~", "reg",
        " <=", " counter~", "_~", "reg", " +", " ", "1", "|", ";",
    ]


def test_without_insertion_ids_are_the_plain_tokenization(tokenizer) -> None:
    ids, flags = frag_annotate(ALU, tokenizer, insert_frag=False)
    assert ids == tokenizer(ALU, add_special_tokens=False)["input_ids"]
    assert len(flags) == len(ids)


@pytest.mark.parametrize("rule", [HIDDEN, EVERY])
def test_inserted_frags_sit_only_at_fragment_ends_and_leave_tokens_unchanged(tokenizer, rule: str) -> None:
    frag = tokenizer.convert_tokens_to_ids(FRAG_TOKEN)
    plain, ends = tokenize_with_ends(ALU, tokenizer)
    ids, flags = frag_annotate(ALU, tokenizer, rule=rule)
    assert [i for i in ids if i != frag] == plain
    fragment_ends = {f.end for f in fragments(ALU)}
    index = FragmentIndex(ALU)
    position = -1
    for token_id, flag in zip(ids, flags):
        if token_id == frag:
            assert flag and ends[position] in fragment_ends and not index.inside_fragment(ends[position])
        else:
            position += 1
            assert flag == (not index.inside_fragment(ends[position]))
    inserted = ids.count(frag)
    assert inserted == frag_counts(ALU, tokenizer)[1 if rule == HIDDEN else 2]
    assert inserted > 0


def test_hidden_rule_marks_fewer_boundaries_than_every(tokenizer) -> None:
    tokens, hidden, every = frag_counts(ALU, tokenizer)
    assert 0 < hidden < every < tokens


def test_text_ending_inside_an_identifier_gets_no_trailing_frag(tokenizer) -> None:
    assert _pieces("assign counter", tokenizer, rule=EVERY)[-1] == " counter~"


def test_a_tokenizer_without_frag_is_refused() -> None:
    plain = AutoTokenizer.from_pretrained(resolve_base(None), local_files_only=True)
    with pytest.raises(ValueError, match="add_frag_token"):
        frag_annotate("wire a;", plain)
    assert frag_annotate("wire a;", plain, insert_frag=False)[1] == [True, True, True]
