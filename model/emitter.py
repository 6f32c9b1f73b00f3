"""Turning accepted tokens into output text: fragment snapping, stop rules, final trimming.

Both decoders hand every accepted token to an `Emitter`, which checks the stop rules after each one, so
the next-token and the Medusa decoder stop at the same token. Snapping decides how many of a Medusa
step's verified tokens to commit: the longest run that ends on a fragment boundary (a `[FRAG]` token
or a syntax-layer boundary seen with the following token known), so a step never leaves half an
identifier, keyword, number or operator.
"""

from __future__ import annotations

from verifrag.model.results import DecodeStats
from verifrag.model.runtime import LanguageModel
from verifrag.model.sampling import DecodeConfig
from verifrag.model.stopping import StopRule, endmodule_rule, repetition
from verifrag.syntax.fragments import FragmentIndex, is_complete


class Emitter:
    def __init__(self, lm: LanguageModel, prompt_text: str, config: DecodeConfig, stats: DecodeStats,
                 healed: str = "") -> None:
        """`healed`: the prompt's last token's text when it was handed back to the model (token healing);
        `prompt_text` ends with it and the output's first token starts with it, so the generated text
        is the decoded tokens without it."""
        self._lm = lm
        self._prompt_text = prompt_text
        # Snapping lexes the prompt's last line and the output, not the whole prompt: with a 1,000-token
        # ghost-text prompt that was 7 ms a step. Where a step is cut never changes greedy output (the cut
        # tokens are verified again next step), only how far a step goes, so a rare comment or string
        # opened on an earlier line costs nothing but that.
        self._snap_context = prompt_text[prompt_text.rfind("\n") + 1 :]
        self._healed_chars = len(healed)
        self._config = config
        self._stats = stats
        self._eos = lm.eos_ids
        self._rules: list[tuple[str, StopRule]] = []
        if config.stop_at_endmodule:
            self._rules.append(("endmodule", endmodule_rule(prompt_text)))
            self._rules.append(("repetition", repetition))
        if config.stop_rule is not None:
            self._rules.append(("rule", config.stop_rule))
        self.ids: list[int] = []
        self.stop_reason: str | None = None
        self._cut: int | None = None

    def _text(self, ids: list[int]) -> str:
        return self._lm.decode(ids)[self._healed_chars :]

    def snap(self, tokens: list[int], lookahead: int) -> int:
        """How many of `tokens` to commit so the committed text ends on a fragment boundary.

        `lookahead` is the token that will follow, so "does a fragment continue here?" has an answer.
        Keeps all tokens when none ends on a boundary: the fragment simply goes on next step.
        """
        index = FragmentIndex(self._snap_context + self._text(self.ids + tokens + [lookahead]))
        for count in range(len(tokens), 0, -1):
            if tokens[count - 1] == self._lm.frag_token_id:
                return count
            end = len(self._snap_context) + len(self._text(self.ids + tokens[:count]))
            if not index.inside_fragment(end):
                return count
        return len(tokens)

    def accept(self, tokens: list[int]) -> bool:
        """Commit tokens one at a time; True once a stop rule fired (later tokens are dropped)."""
        for token in tokens:
            if token in self._eos:
                self.stop_reason = "eos"
                return True
            self.ids.append(token)
            text = self._text(self.ids)
            for name, rule in self._rules:
                cut = rule(text)
                if cut is not None:
                    self.stop_reason, self._cut = name, cut
                    return True
            if len(self.ids) >= self._config.max_new_tokens:
                self.stop_reason = "max_new_tokens"
                return True
        return False

    def finish(self) -> tuple[str, list[int]]:
        """The output text and tokens; at the token limit, trimmed back to the last complete fragment."""
        if self.stop_reason == "max_new_tokens" and self._config.snap_fragments:
            keep = len(self.ids)
            while keep > 0 and not is_complete(self._prompt_text + self._text(self.ids[:keep])):
                keep -= 1
            self._stats.frag_discarded += len(self.ids) - keep
            self.ids = self.ids[:keep]
        text = self._text(self.ids)
        if self._cut is not None:
            text = text[: self._cut]
        return text, self.ids
