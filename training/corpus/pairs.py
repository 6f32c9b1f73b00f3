"""Instruction pairs: a specification and the module that answers it.

Two sources feed them. Mined pairs come from the raw corpus: a module's leading comment block becomes
the specification, kept only when it says what the module does (most header comments are titles,
file names, revision logs or authorship, which would teach the model to answer "Module: foo" with a
whole core). AutoVCoder's problems come with a written specification and a reference module.

A pair is `{"prompt": spec, "answer": module, "source", "path", "license"}`: the spec is the user
message of `model.prompting.module_prompt`, the same prompt `verifrag generate`, `eval` and the
server's generate-module command send, and the answer starts with `module <Name>` as the generator's
answer does, so training matches use.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from verifrag.errors import UserError
from verifrag.training.corpus.modules import ModuleUnit
from verifrag.training.corpus.records import describe

MIN_WORDS = 6
AUTOVCODER_LICENSE = "MIT"
# Template fields that label a header rather than describe behaviour; a "Description:" field's text is
# what the header says about the module, the rest is dropped.
_FIELD = re.compile(
    r"\b(module name|design name|module|file ?name|file|project|target devices?|tool versions?|engineer|"
    r"company|create date|date|revision|dependencies|additional comments|version|maintainer|email)\s*:",
    re.IGNORECASE,
)
_DESCRIPTION_FIELD = re.compile(r"\b(description|function|purpose|overview)\s*:\s*", re.IGNORECASE)
# Words that say what a circuit does: an action, a condition or a behavioural noun.
_BEHAVIOUR = re.compile(
    r"\b(implement|comput|calculat|generat|convert|count|select|decod|encod|shift|stor|hold|regist|latch|"
    r"synchroni[sz]|detect|compar|arbitrat|multipl|divid|add|subtract|output|drive|assert|when|if|each|whether|"
    r"control|handl|perform|provid|produc|send|receiv|forward|buffer|fifo|queue|mux|multiplex|translat|filter|"
    r"check|updat|track|read|writ|sampl|delay|pipelin|round|saturat|accumulat|debounc|toggl|edge|wait|"
    r"valid|ready|request|grant|match|return|pass|map|split|merg|pack|extend|invert|negat|rotat)\w*",
    re.IGNORECASE,
)


class MineVerdict(str, enum.Enum):
    KEPT = "kept"
    NO_COMMENT = "no_comment"
    TOO_SHORT = "too_short"
    NOT_BEHAVIOURAL = "not_behavioural"


def behaviour_spec(header_comment: str) -> tuple[str | None, MineVerdict]:
    """The comment as a specification when it describes behaviour; else None and why not."""
    text = describe(header_comment)
    if not text:
        return None, MineVerdict.NO_COMMENT
    described = _DESCRIPTION_FIELD.search(text)
    if described:
        text = text[described.end():]
    labelled = _FIELD.search(text)
    if labelled:  # cut the template's other fields, which follow or precede the description
        text = text[: labelled.start()] if labelled.start() > 0 else _FIELD.sub(" ", text)
    text = " ".join(text.split()).strip(" -:")
    if len(text.split()) < MIN_WORDS:
        return None, MineVerdict.TOO_SHORT
    if not _BEHAVIOUR.search(text):
        return None, MineVerdict.NOT_BEHAVIOURAL
    return text, MineVerdict.KEPT


def pair(prompt: str, answer: str, source: str, path: str, license: str) -> dict[str, Any]:
    return {"prompt": prompt, "answer": answer, "source": source, "path": path, "license": license}


def mined_pair(unit: ModuleUnit) -> tuple[dict[str, Any] | None, MineVerdict]:
    """A module's pair when its header comment describes it."""
    spec, verdict = behaviour_spec(unit.header_comment)
    if spec is None:
        return None, verdict
    return pair(spec, unit.code, unit.source, unit.file, unit.license), verdict


@dataclass(frozen=True)
class AutoVCoderProblem:
    id: str
    problem: str
    reference: str
    compiles: bool


def read_autovcoder(path: str | Path) -> Iterator[AutoVCoderProblem]:
    """AutoVCoder's problems.jsonl (see its README: `compiles` is our own iverilog check of `reference`;
    `syntax_result`/`functionality_result` describe another field and are ignored)."""
    source = Path(path)
    if not source.is_file():
        raise UserError(f"AutoVCoder problems not found: {path}")
    with source.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                yield AutoVCoderProblem(str(record["id"]), str(record["problem"]), str(record["reference"]),
                                        bool(record.get("compiles", True)))
            except (ValueError, KeyError) as error:
                raise UserError(f"{path}:{number}: not an AutoVCoder record ({error})") from None


def module_start(code: str) -> str | None:
    """The code from its first `module` keyword on (answers start with `module <Name>`), or None."""
    found = re.search(r"^\s*module\s+\w+", code, re.MULTILINE)
    return code[found.start():].strip() if found else None
