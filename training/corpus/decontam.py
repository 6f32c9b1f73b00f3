"""Decontamination: nothing the model trains on may overlap an evaluation problem.

The index holds two kinds of n-grams of every problem in VerilogEval-v2-layout directories
(`ProbNNN_name_prompt.txt` and `ProbNNN_name_ref.sv`, both sets: spec-to-rtl and code-complete):

- code: runs of `CODE_N` significant tokens of the reference (DESIGN section 2: comments and layout
  do not count; identifiers lower-cased), so a copied solution matches however it is formatted;
- text: runs of `TEXT_N` lower-cased words of the problem description, so a copied specification
  matches whatever code answers it.

A candidate overlaps a problem when they share at least `min_shared` n-grams and those cover at least
`fraction` of either side's n-grams: the candidate's side catches a copied problem inside a short
record, the problem's side a copied problem inside a long module. N-grams that occur in more than
`max_problems` problems (the set's boilerplate: "I would like you to implement a module named
TopModule ...", `input clk, input reset`) are not evidence of copying and are left out of the index.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from verifrag.errors import UserError
from verifrag.syntax.fragments import fragments
from verifrag.syntax.source import decode_source

CODE_N = 10
TEXT_N = 8
PROMPT_SUFFIX = "_prompt.txt"
REFERENCE_SUFFIX = "_ref.sv"
_WORD = re.compile(r"[a-z0-9_]+")


def code_tokens(code: str) -> list[str]:
    """Significant tokens, lower-cased: what the code n-grams are made of."""
    return [fragment.text.lower() for fragment in fragments(code)]


def text_words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def ngrams(items: Sequence[str], n: int) -> set[str]:
    """Distinct runs of n items; a sequence shorter than n gives none (too short to be evidence)."""
    return {"\x1f".join(items[i : i + n]) for i in range(len(items) - n + 1)}


@dataclass(frozen=True)
class OverlapRule:
    fraction: float
    min_shared: int


CODE_RULE = OverlapRule(fraction=0.3, min_shared=3)
TEXT_RULE = OverlapRule(fraction=0.4, min_shared=2)


class _GramIndex:
    """N-gram -> problems, with each problem's n-gram count, boilerplate n-grams removed."""

    def __init__(self, grams_by_problem: dict[str, set[str]], max_problems: int) -> None:
        frequency = Counter(gram for grams in grams_by_problem.values() for gram in grams)
        self._problems: dict[str, set[str]] = defaultdict(set)
        self._sizes: dict[str, int] = {}
        for problem, grams in grams_by_problem.items():
            kept = {gram for gram in grams if frequency[gram] <= max_problems}
            self._sizes[problem] = len(kept)
            for gram in kept:
                self._problems[gram].add(problem)

    def overlap(self, grams: set[str], rule: OverlapRule) -> str | None:
        """The first problem (by name) the grams overlap under the rule, or None."""
        shared: Counter[str] = Counter()
        for gram in grams:
            for problem in self._problems.get(gram, ()):
                shared[problem] += 1
        for problem in sorted(shared):
            count = shared[problem]
            if count < rule.min_shared:
                continue
            if count >= rule.fraction * len(grams) or count >= rule.fraction * self._sizes[problem]:
                return problem
        return None


class BenchmarkIndex:
    """Code and text n-grams of evaluation problems; answers whether a record overlaps any of them."""

    def __init__(self, references: dict[str, str], prompts: dict[str, str], max_problems: int = 5) -> None:
        self.problems = sorted(set(references) | set(prompts))
        self._code = _GramIndex({name: ngrams(code_tokens(code), CODE_N) for name, code in references.items()},
                                max_problems)
        self._text = _GramIndex({name: ngrams(text_words(text), TEXT_N) for name, text in prompts.items()},
                                max_problems)

    @classmethod
    def from_dirs(cls, directories: Iterable[str | Path]) -> "BenchmarkIndex":
        """Every problem under the directories (searched recursively), keyed by its file prefix.

        The same problem in two sets (spec-to-rtl and code-complete share names and references) is one
        problem, so its n-grams are not mistaken for boilerplate; its prompts are joined.
        """
        references: dict[str, str] = {}
        prompts: dict[str, list[str]] = defaultdict(list)
        for directory in directories:
            root = Path(directory)
            if not root.is_dir():
                raise UserError(f"benchmark directory not found: {directory}")
            files = sorted(root.rglob("*"))
            for path in files:
                if path.name.endswith(REFERENCE_SUFFIX):
                    references[path.name[: -len(REFERENCE_SUFFIX)]] = decode_source(path.read_bytes())
                elif path.name.endswith(PROMPT_SUFFIX):
                    prompts[path.name[: -len(PROMPT_SUFFIX)]].append(decode_source(path.read_bytes()))
        if not references and not prompts:
            raise UserError(f"no *{PROMPT_SUFFIX} or *{REFERENCE_SUFFIX} files under {', '.join(map(str, directories))}")
        return cls(references, {name: "\n".join(texts) for name, texts in prompts.items()})

    def code_overlap(self, code: str) -> str | None:
        """The problem whose reference this code copies, or None."""
        return self._code.overlap(ngrams(code_tokens(code), CODE_N), CODE_RULE)

    def text_overlap(self, text: str) -> str | None:
        """The problem whose description this text copies, or None."""
        return self._text.overlap(ngrams(text_words(text), TEXT_N), TEXT_RULE)

    def contamination(self, code: str, text: str) -> str | None:
        """Why a record overlaps an evaluation problem (`benchmark_code`, else `benchmark_text`), or None."""
        if self.code_overlap(code):
            return "benchmark_code"
        if text and self.text_overlap(text):
            return "benchmark_text"
        return None
