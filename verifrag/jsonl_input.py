"""Reading a JSONL file the user names (pairs, corpus records, SALV tasks, next-line sources).

Every reader wants the same things of such a file: it exists, it is UTF-8, and each non-blank line is a
JSON object; anything else is a one-line error naming the file and line, not a traceback. What the
objects must hold is each reader's own business.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from verifrag.errors import UserError


def read_objects(path: str | Path, what: str) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line of `path`; `what` names the file in errors
    ("pairs file", "raw corpus file")."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise UserError(f"{what} {file} does not exist")
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise UserError(f"{file} is not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError(f"{file}:{number}: not JSON ({exc.msg})") from exc
        if not isinstance(record, dict):
            raise UserError(f"{file}:{number}: not a JSON object")
        yield number, record
