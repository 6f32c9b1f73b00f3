r"""Token healing: give the prompt's last token back to the model to write.

A prompt cut at an arbitrary point ends on a token boundary that training text rarely has there. A BPE
tokenizer writes a line break and the next line's indentation as one token (`"\n   "`), so a prompt
that ends right after a line break ends on a bare `"\n"`, which in training is followed by a line that
starts in column 0: the model then writes `#define`, `}` or `endmodule` instead of the indented
statement the file needs. The same happens at a cursor inside a word (`assi|`). Healing drops the last
token and lets the first generated token be any token whose text starts with the dropped text, so the
model chooses the boundary itself (`"\n"` may become `"\n   "`); the dropped text is then taken off
the front of the output, and callers see a continuation of the prompt they gave.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch
from transformers import PreTrainedTokenizerBase


@dataclass(frozen=True)
class Healing:
    ids: list[int]  # the prompt without its last token
    tail: str  # that token's text, which the output's first token must start with
    allowed: torch.Tensor  # (k,) ids whose text starts with `tail`

    def restrict(self, logits: torch.Tensor) -> torch.Tensor:
        """Next-token logits with every id outside `allowed` ruled out."""
        allowed = self.allowed.to(logits.device)
        kept = torch.full_like(logits, float("-inf"))
        kept[..., allowed] = logits[..., allowed]
        return kept


class TokenHealer:
    """Healings for one tokenizer. Prefixes are compared on the tokenizer's own token strings (byte-level
    BPE's `Ċ` for a line break, SentencePiece's `▁` for a space), so no id is decoded one by one."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase) -> None:
        self._tokenizer = tokenizer
        self._pieces: list[str] = [piece or "" for piece in tokenizer.convert_ids_to_tokens(range(len(tokenizer)))]
        self._special = set(tokenizer.all_special_ids)

    def heal(self, ids: list[int]) -> Healing | None:
        """The healing for prompt `ids`, or None where there is nothing to heal: a one-token prompt, a
        special last token (a chat template's), or a token whose text is not a clean suffix of the
        decoded prompt (a SentencePiece word start, a partial UTF-8 character)."""
        if len(ids) < 2 or ids[-1] in self._special:
            return None
        decode = self._decode
        head, whole, tail = decode(ids[:-1]), decode(ids), decode(ids[-1:])
        if not tail or whole != head + tail:
            return None
        return Healing(ids[:-1], tail, self._allowed(ids[-1]))

    @lru_cache(maxsize=256)
    def _allowed(self, token: int) -> torch.Tensor:
        piece = self._pieces[token]
        return torch.tensor([i for i, other in enumerate(self._pieces) if other.startswith(piece) and i not in self._special])

    def _decode(self, ids: list[int]) -> str:
        return self._tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)
