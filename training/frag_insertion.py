"""Tokenizing Verilog for training: token ids, optional `[FRAG]` tokens, and per-token boundary flags.

Where `[FRAG]` goes (DESIGN section 2 asks for a documented rule). A tokenizer token "ends a fragment"
when its end offset is exactly the end of a significant token. Two rules:

- `hidden` (default): insert `[FRAG]` after such a token only when the next fragment starts right
  there, with no whitespace or comment between (`clk)`, `q;`, `(pos`+`edge`, `4'b1010;`). Where
  whitespace follows, the boundary is already visible in the BPE stream: the next token starts with
  a space or newline, and the decoder's syntax check sees the boundary once that token is there. The
  hidden boundaries are the ones a model cannot read off the text, so those are what it must learn
  to mark; this adds far fewer tokens than marking every fragment.
- `every`: insert `[FRAG]` after every token that ends a fragment, so the model always states that a
  fragment is finished (at the price of roughly one extra token per fragment).

Either way `[FRAG]` never lands inside a fragment (not inside `4'b1010`, not between BPE pieces of one
identifier), never where the tokenizer merged two fragments into one token (`);`: there is no gap in
the token stream to put it in), and not after the text's last token unless the text is complete.

The text is lexed once (`verifrag.syntax.fragments` caches the analysis that `boundary_mask` and the
insertion rule share) and tokenized once.
"""

from __future__ import annotations

from typing import Sequence

from transformers import PreTrainedTokenizerBase

from verifrag.model.tokenizer import FRAG_TOKEN
from verifrag.syntax.fragments import boundary_mask, fragments

HIDDEN = "hidden"
EVERY = "every"
RULES = (HIDDEN, EVERY)


def frag_token_id(tokenizer: PreTrainedTokenizerBase) -> int:
    """The id of `[FRAG]`; the caller must have run `add_frag_token` (which may grow the vocabulary)."""
    token_id = tokenizer.convert_tokens_to_ids(FRAG_TOKEN)
    if token_id is None or tokenizer.convert_ids_to_tokens(token_id) != FRAG_TOKEN:
        raise ValueError("the tokenizer has no [FRAG] token: call verifrag.model.tokenizer.add_frag_token first")
    return token_id


def insertion_points(text: str, token_ends: Sequence[int], boundary: Sequence[bool], rule: str = HIDDEN) -> list[bool]:
    """For each token, whether `[FRAG]` follows it under `rule` (see the module docstring)."""
    if rule not in RULES:
        raise ValueError(f"unknown [FRAG] rule {rule!r}; choose from {', '.join(RULES)}")
    frags = fragments(text)
    # fragment end offset -> whether another fragment starts there with nothing between
    ends = {f.end: (not f.followed_by_trivia and i + 1 < len(frags)) for i, f in enumerate(frags)}
    if rule == EVERY:
        return [on and end in ends for end, on in zip(token_ends, boundary)]
    return [on and ends.get(end, False) for end, on in zip(token_ends, boundary)]


def tokenize_with_ends(text: str, tokenizer: PreTrainedTokenizerBase) -> tuple[list[int], list[int]]:
    """Token ids of `text` (no special tokens added) and each token's end offset in `text`."""
    encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    return list(encoding["input_ids"]), [end for _, end in encoding["offset_mapping"]]


def frag_annotate(
    text: str,
    tokenizer: PreTrainedTokenizerBase,
    *,
    insert_frag: bool = True,
    rule: str = HIDDEN,
) -> tuple[list[int], list[bool]]:
    """Token ids of `text` and, per token, whether the text up to that token's end is on a boundary.

    With `insert_frag`, `[FRAG]` ids are inserted after the tokens `rule` picks; each inserted id gets
    the flag True (it sits on a boundary). No BOS/EOS is added: the trainer frames samples itself.
    The flags are what syntax-enriched labels need: a target whose flag is False would leave a
    fragment half-written.
    """
    ids, ends = tokenize_with_ends(text, tokenizer)
    flags = boundary_mask(text, ends)
    if not insert_frag:
        return ids, flags
    frag_id = frag_token_id(tokenizer)
    out_ids: list[int] = []
    out_flags: list[bool] = []
    for token_id, flag, mark in zip(ids, flags, insertion_points(text, ends, flags, rule)):
        out_ids.append(token_id)
        out_flags.append(flag)
        if mark:
            out_ids.append(frag_id)
            out_flags.append(True)
    return out_ids, out_flags


def frag_counts(text: str, tokenizer: PreTrainedTokenizerBase) -> tuple[int, int, int]:
    """Tokens in `text` and how many `[FRAG]` tokens the `hidden` and `every` rules would add (one lex)."""
    _, ends = tokenize_with_ends(text, tokenizer)
    flags = boundary_mask(text, ends)
    return len(ends), sum(insertion_points(text, ends, flags, HIDDEN)), sum(insertion_points(text, ends, flags, EVERY))
