"""SALV training tasks: a specification and its reference module, read from JSONL.

SALV needs a reference to verify rollouts against, so its prompts come from
training data with reference modules, never from an evaluation benchmark: the
corpus pipeline's `train.jsonl` (instruction + module + output), its pairs file
(prompt + answer) or AutoVCoder's problems (problem + reference), each read
as shipped. References the verifier cannot drive (no outputs, inout or
unpacked ports, several top modules) are skipped here, once, instead of
failing every rollout later.

With `interface_prompts` each prompt lists the reference's ports and asks for `TopModule`, exactly as
`verifrag train sft --interface-prompts` wrote the prompts the default model was tuned on. AutoVCoder's
specifications rarely name ports, so without the list the model invents its own names and the sample
cannot be wired to the reference's testbench (169 of 360 compile failures in the fourteenth session's
round on the default model).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from verifrag.errors import UserError
from verifrag.jsonl_input import read_objects
from verifrag.model.prompting import TOP_MODULE
from verifrag.simulation.interface import InterfaceError, read_interface
from verifrag.simulation.renaming import declared_modules
from verifrag.simulation.screening import screen
from verifrag.training.sft.examples import Pair
from verifrag.training.sft.interface import with_interface


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


def _fields(record: dict) -> tuple[str, str, str] | None:
    """(reference, module, spec) of a record in one of the accepted shapes, None for any other record.

    Pairs and AutoVCoder records name no module, so it is the first one the reference declares
    ("" when it declares none: skipped, not an error); they are read as shipped, not converted first.
    """
    if "instruction" in record or "output" in record:
        reference, module, spec = str(record.get("output") or ""), str(record.get("module") or ""), _spec(record)
        return (reference, module, spec) if reference and module and spec else None
    spec = str(record.get("problem") or record.get("prompt") or "").strip()
    reference = str(record.get("reference") or record.get("answer") or "")
    if not (spec and reference):
        return None
    names = declared_modules(reference)
    return reference, names[0] if names else "", spec


def _usable(reference: str, module: str) -> bool:
    """Whether `verify` can build a testbench for this reference (trusted code, but screened all the same)."""
    if screen(reference, "reference.sv"):
        return False
    try:
        interface = read_interface(reference, module)
    except (InterfaceError, ValueError):
        return False
    return bool(interface.outputs)


def read_tasks(path: str | Path, *, limit: int | None = None, skip: int = 0, max_reference_chars: int | None = None,
               interface_prompts: bool = False) -> tuple[list[SalvTask], int]:
    """Usable tasks from a JSONL file of corpus, pairs or AutoVCoder records, in file order, and how many
    records were skipped.

    `max_reference_chars` keeps only short references (a small model can only
    get small modules right); `skip` passes over the first that many usable tasks (a later round on
    tasks an earlier round has not seen) and `limit` stops after that many of the rest.
    `interface_prompts` lists the reference's ports in the prompt and renames its module `TopModule`
    (a reference whose ports cannot be listed is skipped).
    """
    path = Path(path)
    tasks: list[SalvTask] = []
    skipped = 0
    usable = 0
    seen: set[str] = set()
    for number, record in read_objects(path, "corpus file"):
        fields = _fields(record)
        if fields is None:
            raise UserError(f"{path}:{number} needs the fields instruction, module, output "
                            "(or prompt, answer; or problem, reference)")
        reference, module, spec = fields
        if max_reference_chars is not None and len(reference) > max_reference_chars:
            skipped += 1
            continue
        if not module or not _usable(reference, module):
            skipped += 1
            continue
        if interface_prompts:
            rewritten = with_interface(Pair(spec, reference, "", ""))
            if rewritten is None:
                skipped += 1
                continue
            spec, reference, module = rewritten.spec, rewritten.module, TOP_MODULE
        task_id = str(record.get("id") or f"{path.stem}:{number}")
        if task_id in seen:
            raise UserError(f"{path}:{number} repeats the id {task_id!r}; rollouts are keyed by id")
        seen.add(task_id)
        usable += 1
        if usable <= skip:
            continue
        tasks.append(SalvTask(task_id, spec, module, reference))
        if limit is not None and len(tasks) >= limit:
            break
    return tasks, skipped
