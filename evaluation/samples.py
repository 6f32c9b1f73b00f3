"""Samples in, judgements out: the JSONL formats and the resumable result cache.

A samples file has one `{"task_id": ..., "completion": ...}` object a line
(DESIGN section 4).  Generated samples also carry their `index` (the sampling
seed), so an interrupted generation resumes where it stopped.  Judgements are
appended, one JSON object a line, to a cache file as they finish, keyed by task
id, the sample's position among that task's samples and a digest of its text,
so an interrupted or repeated run judges only what is new.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from verifrag.errors import UserError


def read_samples(path: Path) -> Iterator[tuple[str, str]]:
    """Yield (task_id, completion) from a samples JSONL file."""
    if not path.is_file():
        raise UserError(f"samples file not found: {path}")
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                yield str(record["task_id"]), str(record["completion"])
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise UserError(f"{path}:{number}: expected a JSON object with task_id and completion ({exc})") from None


GeneratedSamples = dict[tuple[str, int], str]  # (task_id, index) -> completion


def read_generated(path: Path) -> GeneratedSamples:
    """Samples an earlier generation saved in `path` (missing file: none); a torn last line is ignored."""
    return {
        (str(record["task_id"]), int(record["index"])): str(record["completion"])
        for record in _appended_records(path)
        if {"task_id", "index", "completion"} <= record.keys()
    }


def sample_line(task_id: str, index: int, completion: str) -> str:
    return json.dumps({"task_id": task_id, "index": index, "completion": completion}) + "\n"


def write_generated(path: Path, generated: GeneratedSamples, order: Iterable[tuple[str, int]]) -> None:
    """Rewrite `path` atomically with every sample of `generated`: those of `order` first, in that order,
    then any others (samples of a wider earlier run are kept, never dropped)."""
    ordered = [key for key in order if key in generated]
    rest = sorted(generated.keys() - set(ordered))
    staging = path.with_name(path.name + ".partial")
    with open(staging, "w", encoding="utf-8") as handle:
        for key in ordered + rest:
            handle.write(sample_line(*key, generated[key]))
    staging.replace(path)


def digest(completion: str) -> str:
    """A short content hash identifying a completion in the cache."""
    return hashlib.sha256(completion.encode("utf-8")).hexdigest()[:16]


def cache_key(task_id: str, index: int, text_digest: str) -> str:
    return f"{task_id}#{index}#{text_digest}"


def read_cache(path: Path | None) -> dict[str, dict]:
    """Judgements already recorded in `path` (missing file: none); a torn last line is ignored."""
    return {cache_key(r["task_id"], r["index"], r["digest"]): r for r in _appended_records(path)}


def _appended_records(path: Path | None) -> Iterator[dict]:
    """The JSON objects of a file written one line at a time; a line cut short by a killed run is skipped."""
    if path is None or not path.exists():
        return
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                yield record
