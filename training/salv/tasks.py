"""SALV training tasks: a specification and its reference module, read from the corpus JSONL.

SALV needs a reference to verify rollouts against, so its prompts come from the
corpus pipeline's `train.jsonl` (instruction + reference module), never from an
evaluation benchmark. References the verifier cannot drive (no outputs, inout
or unpacked ports, several top modules) are skipped here, once, instead of
failing every rollout later.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from verifrag.errors import UserError
from verifrag.simulation.interface import InterfaceError, read_interface
from verifrag.simulation.screening import screen


@dataclass(frozen=True)
class SalvTask:
    """One prompt: `spec` asks for module `module`; `reference` is the corpus module that answers it."""

    task_id: str
    spec: str
    module: str
    reference: str


def _spec(record: dict) -> str:
    """The specification text: the instruction, followed by the corpus `input` field when it has one."""
    parts = [str(record.get("instruction") or "").strip(), str(record.get("input") or "").strip()]
    return "\n\n".join(part for part in parts if part)


def _usable(reference: str, module: str) -> bool:
    """Whether `verify` can build a testbench for this reference (trusted code, but screened all the same)."""
    if screen(reference, "reference.sv"):
        return False
    try:
        interface = read_interface(reference, module)
    except (InterfaceError, ValueError):
        return False
    return bool(interface.outputs)


def read_tasks(path: str | Path, *, limit: int | None = None, max_reference_chars: int | None = None) -> tuple[list[SalvTask], int]:
    """Usable tasks from a corpus JSONL file, in file order, and how many records were skipped.

    `max_reference_chars` keeps only short references (a small model can only
    get small modules right); `limit` stops after that many usable tasks.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"corpus file not found: {path}")
    tasks: list[SalvTask] = []
    skipped = 0
    seen: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UserError(f"{path}:{number} is not JSON: {exc}") from exc
            reference, module, spec = str(record.get("output") or ""), str(record.get("module") or ""), _spec(record)
            if not (reference and module and spec):
                raise UserError(f"{path}:{number} lacks one of the fields instruction, module, output")
            if max_reference_chars is not None and len(reference) > max_reference_chars:
                skipped += 1
                continue
            if not _usable(reference, module):
                skipped += 1
                continue
            task_id = str(record.get("id") or f"{path.stem}:{number}")
            if task_id in seen:
                raise UserError(f"{path}:{number} repeats the id {task_id!r}; rollouts are keyed by id")
            seen.add(task_id)
            tasks.append(SalvTask(task_id, spec, module, reference))
            if limit is not None and len(tasks) >= limit:
                break
    return tasks, skipped
