"""Sampling whole modules for evaluation and SALV rollouts: n completions per specification."""

from __future__ import annotations

from typing import Iterable, Iterator

from tqdm import tqdm

from verifrag.model.engine import Engine
from verifrag.model.prompting import module_prompt
from verifrag.model.sampling import DecodeConfig


def generate_samples(
    prompts: Iterable[tuple[str, str]],
    *,
    checkpoint: str | None,
    n: int,
    temperature: float,
    decoder: str,
    max_new_tokens: int,
    engine: Engine | None = None,
    progress: bool = True,
) -> Iterator[tuple[str, str]]:
    """Yield (task_id, completion) for each (task_id, spec), n times each; a completion is a whole
    module. Temperature 0 means greedy (one distinct sample, so n > 1 repeats it); sample i of a
    task is seeded with i so reruns reproduce."""
    engine = engine or Engine.load(checkpoint)
    items = list(prompts)
    for task_id, spec in tqdm(items, desc="generating", unit="task", disable=not progress):
        prompt, start = module_prompt(spec, engine.lm.tokenizer)
        for index in range(n):
            config = DecodeConfig(
                max_new_tokens=max_new_tokens,
                sampling=temperature > 0,
                temperature=temperature if temperature > 0 else 1.0,
                seed=index,
            )
            result = engine.generate(prompt, decoder, config)
            # Chat-tuned models close the fenced block they were started in; the fence is not Verilog.
            yield task_id, start + result.text.split("```", 1)[0]
