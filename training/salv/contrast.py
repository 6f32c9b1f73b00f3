"""Reset-timing contrast pairs: a synthetic design against its twin with the other kind of reset.

The default model does worse than a coin at reset timing: on VerilogEval v2's spec-to-rtl problems whose
text names one (fifteenth session's default, greedy; `benchmarks/reset_timing.py`), it left the reset out
of the event control in 8 of 38 synchronous ones, listed it in 2 of 16 asynchronous ones, and solved
none of them. A SALV pair contrasts whole output signals, so it rewards the reset timing only together
with everything else that drives the same output. These pairs isolate it: the chosen side is a
correct-by-construction design from the synthetic families (`training.corpus.synthetic`), the rejected
side the same module with only its event control changed to the other timing (and, for an active-low
asynchronous reset, also to the wrong edge), and the DPO span is that `always @(...)` alone in both.
Each twin is simulated against its design, and kept only when the verifier tells them apart.

The prompts are the rollouts' own (the chat prompt with the interface listed, `tasks.read_tasks` with
`interface_prompts`), so the pairs sit beside SALV's in one DPO run.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from transformers import PreTrainedTokenizerBase

from verifrag.model.prompting import module_prompt
from verifrag.simulation.sandbox import Limits
from verifrag.simulation.verification import verify
from verifrag.training.corpus.synthetic import FAMILIES, LICENSE, SOURCE, Design, Reset
from verifrag.training.sft.examples import Pair
from verifrag.training.sft.interface import with_interface

CONTRAST_FILE = "reset_contrast.jsonl"
_SENSITIVITY = re.compile(r"always @\(([^)]*)\)")  # the families write exactly this spacing


@dataclass(frozen=True)
class Twin:
    kind: str  # "timing" (the other timing) or "edge" (asynchronous, the wrong edge)
    module: str


def _twins(design: Design) -> list[Twin]:
    """The design's module with its reset timing swapped, plus the wrong-edge variant of an active-low
    asynchronous reset; none for a design without exactly one clocked `always` with a reset."""
    if design.reset is None or design.clock is None:
        return []
    controls = _SENSITIVITY.findall(design.module)
    if len(controls) != 1:
        return []
    name, asserted = design.reset
    clocked, asynchronous = (Reset(name, asserted == 0, timing).sensitivity(design.clock) for timing in (False, True))
    current = controls[0]
    if current == clocked:
        return [Twin("timing", design.module.replace(f"@({clocked})", f"@({asynchronous})", 1))]
    if current != asynchronous:
        return []
    twins = [Twin("timing", design.module.replace(f"@({asynchronous})", f"@({clocked})", 1))]
    if asserted == 0:  # the rising edge of an active-low reset, the default's own habit
        wrong = asynchronous.replace(f"negedge {name}", f"posedge {name}")
        twins.append(Twin("edge", design.module.replace(f"@({asynchronous})", f"@({wrong})", 1)))
    return twins


def _event_control_span(module: str) -> list[list[int]]:
    """The character span of the module's one `always @(...)`: the only text a twin changes."""
    match = _SENSITIVITY.search(module)
    assert match is not None
    return [[match.start(), match.end()]]


def reset_contrast_pairs(count: int, seed: int, tokenizer: PreTrainedTokenizerBase, *,
                         limits: Limits = Limits()) -> tuple[list[dict], dict]:
    """Up to `count` pairs in the rollouts' pairs layout, and how many twins the verifier could not tell
    apart from their design (dropped). Designs are drawn from the families with a reset, in turn."""
    rng = random.Random(seed)
    families = [name for name, make in FAMILIES.items() if make(random.Random(0)).reset is not None]
    pairs: list[dict] = []
    seen: set[str] = set()
    stats = {"designs": 0, "twins": 0, "indistinguishable": 0}
    attempts = 0
    while len(pairs) < count and attempts < 50 * count:
        design = FAMILIES[families[attempts % len(families)]](rng)
        attempts += 1
        if design.spec in seen:
            continue
        seen.add(design.spec)
        listed = with_interface(Pair(design.spec, design.module, SOURCE, LICENSE))
        if listed is None:
            continue
        stats["designs"] += 1
        prompt, start = module_prompt(listed.spec, tokenizer)
        for twin in _twins(design):
            if len(pairs) >= count:
                break
            stats["twins"] += 1
            if verify(design.module, twin.module, seed=attempts, limits=limits).all_correct:
                stats["indistinguishable"] += 1
                continue
            pairs.append({
                "pair_id": f"reset-{len(pairs)}:{twin.kind}", "task_id": f"reset-{attempts}",
                "prompt": prompt[: len(prompt) - len(start)], "chosen": design.module, "rejected": twin.module,
                "signals": [port.name for port in design.outputs], "kind": f"reset-{twin.kind}",
                "chosen_spans": _event_control_span(design.module), "rejected_spans": _event_control_span(twin.module),
                "source": SOURCE, "license": LICENSE,
            })
    return pairs, stats
