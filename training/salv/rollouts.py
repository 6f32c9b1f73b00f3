"""SALV rollouts: K sampled completions per training prompt, cached to JSONL.

Sampling a 135M model on a 2-core CPU takes seconds per module, so each
rollout is appended to `rollouts.jsonl` as soon as it exists and a rerun
samples only the missing (task, index) pairs. Each record carries everything
later stages need (prompt text, completion, reference), so the pairs stage can
also be fed hand-written candidates.

Record: {"task_id", "index", "module", "prompt", "completion", "reference",
"new_tokens", "seconds", "stop_reason", "settings"}. `prompt` is the prompt
without the forced answer start; `completion` is that start (`module <name>`)
and what the model wrote, up to the closing code fence a chat-tuned model
writes after `endmodule` (the fence is not Verilog: the screen would refuse it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

from verifrag.errors import UserError
from verifrag.model.engine import Engine
from verifrag.model.prompting import module_prompt, module_text
from verifrag.model.sampling import DecodeConfig
from verifrag.training.salv.jsonl import append_jsonl, read_jsonl
from verifrag.training.salv.tasks import SalvTask

ROLLOUTS_FILE = "rollouts.jsonl"


@dataclass(frozen=True)
class RolloutSettings:
    """What makes two rollouts comparable; a cache made under other settings is refused, not mixed in."""

    checkpoint: str
    samples: int = 5
    temperature: float = 1.0
    top_p: float = 0.95
    max_new_tokens: int = 384
    decoder: str = "ntp"
    seed: int = 0
    interface_prompts: bool = False  # the tasks' prompts list their ports (`tasks.read_tasks`)

    def decode_config(self, index: int) -> DecodeConfig:
        """Sample `index` of a task is seeded with seed + index, so reruns reproduce it."""
        return DecodeConfig(
            max_new_tokens=self.max_new_tokens,
            sampling=self.temperature > 0,
            temperature=self.temperature if self.temperature > 0 else 1.0,
            top_p=self.top_p,
            seed=self.seed + index,
        )


def split_prompt(spec: str, engine: Engine, module: str) -> tuple[str, str]:
    """(prompt without the answer start, answer start): the decoder gets both joined."""
    prompt, start = module_prompt(spec, engine.lm.tokenizer, module)
    return prompt[: len(prompt) - len(start)], start


def run_rollouts(tasks: list[SalvTask], work: Path, settings: RolloutSettings, *, engine: Engine | None = None,
                 progress: bool = True) -> Path:
    """Sample the missing rollouts of `tasks` into `work/rollouts.jsonl`; returns that path."""
    path = work / ROLLOUTS_FILE
    wanted = asdict(settings)
    done: set[tuple[str, int]] = set()
    for record in read_jsonl(path):
        if record.get("settings") != wanted:
            raise UserError(f"{path} holds rollouts sampled with other settings ({record.get('settings')}); "
                            "use another --work folder")
        done.add((record["task_id"], record["index"]))
    todo = [(task, i) for task in tasks for i in range(settings.samples) if (task.task_id, i) not in done]
    if not todo:
        return path
    engine = engine or Engine.load(settings.checkpoint)
    for task, index in tqdm(todo, desc="rollouts", unit="sample", disable=not progress):
        prompt, start = split_prompt(task.spec, engine, task.module)
        result = engine.generate(prompt + start, settings.decoder, settings.decode_config(index))
        append_jsonl(path, {
            "task_id": task.task_id, "index": index, "module": task.module, "prompt": prompt,
            "completion": module_text(start, result.text), "reference": task.reference,
            "new_tokens": result.stats.new_tokens, "seconds": round(result.stats.seconds, 3),
            "stop_reason": result.stop_reason, "settings": wanted,
        })
    return path
