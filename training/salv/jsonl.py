"""Append-only JSONL files: how SALV caches slow work (sampling, simulation) so a rerun resumes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from verifrag.errors import UserError


def read_jsonl(path: Path) -> Iterator[dict]:
    """Records of a JSONL file (none when it does not exist). A torn last line, left by an interrupted
    run, is ignored; a bad line elsewhere is an error."""
    if not path.is_file():
        return
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError as exc:
            if number == len(lines):
                return
            raise UserError(f"{path}:{number} is not JSON: {exc}") from exc


def append_jsonl(path: Path, record: dict) -> None:
    """Append one record and flush it, so an interrupted run loses at most the record in progress."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
        handle.flush()


def write_jsonl(path: Path, records: list[dict]) -> None:
    """Replace `path` with `records` (for derived files that are rebuilt whole, like pairs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(path.name + ".tmp")
    staging.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    staging.replace(path)
