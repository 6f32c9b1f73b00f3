"""One JSONL record per kept module, usable both as an Alpaca sample and as a plain completion sample.

`instruction`/`input`/`output` are the Alpaca triple (instruction from a spec file or the module's
header comment, input = the module's interface, output = the whole module); `text` is the module as
written, header comment included, for plain next-token and Medusa training.
"""

from __future__ import annotations

import re
from typing import Any

from verifrag.training.corpus.modules import ModuleUnit

DESCRIPTION_MAX_CHARS = 1500
# Lines that describe the file's legal status or authorship rather than what the module does.
_BOILERPLATE = re.compile(
    r"copyright|licen[sc]e|spdx|warrant|all rights reserved|redistribut|author|\$id|\(c\)", re.IGNORECASE
)
_DECORATION = re.compile(r"^[\s*/=#~+_-]*$")


def describe(header_comment: str) -> str:
    """The header comment as one plain sentence or paragraph: markers, rules and legal lines removed."""
    lines = []
    for line in header_comment.splitlines():
        line = re.sub(r"^\s*(//+|/\*+|\*+)", "", line)
        line = re.sub(r"\*+/\s*$", "", line).strip()
        if _DECORATION.match(line) or _BOILERPLATE.search(line):
            continue
        lines.append(line)
    return " ".join(" ".join(lines).split())[:DESCRIPTION_MAX_CHARS]


def instruction_for(unit: ModuleUnit) -> str:
    """A spec beside the file wins; else the header comment; else a bare request naming the module."""
    request = f"Write a Verilog module named `{unit.name}`."
    if unit.spec:
        return f"{unit.spec}\n\n{request}"
    description = describe(unit.header_comment)
    if description:
        return f"{request} {description}"
    return f"{request} Its interface is given in the input."


def to_record(unit: ModuleUnit, record_id: str) -> dict[str, Any]:
    """The JSONL record; keys `text` and `output` are what the Medusa trainer reads."""
    return {
        "id": record_id,
        "source": unit.source,
        "file": unit.file,
        "module": unit.name,
        "license": unit.license,
        "instruction": instruction_for(unit),
        "input": unit.interface,
        "output": unit.code,
        "text": unit.text,
        "context": {"includes": list(unit.includes), "defines": list(unit.defines), "macros": list(unit.macros)},
    }
