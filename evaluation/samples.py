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
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from verifrag.errors import UserError


def read_samples(path: Path) -> Iterator[tuple[str, str]]:
    """Yield (task_id, completion) from a samples JSONL file.

    Text that cannot be written back out as UTF-8 is refused with its line number: bytes that are not
    UTF-8, and lone surrogates (`"\\ud800"` is valid JSON but names no character), which would
    otherwise crash the cache's digest or the simulator's source file much later.
    """
    if not path.is_file():
        raise UserError(f"samples file not found: {path}")
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            where = f"{path}:{number}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise UserError(f"{where}: not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})") from None
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                task_id, completion = str(record["task_id"]), str(record["completion"])
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise UserError(f"{where}: expected a JSON object with task_id and completion ({exc})") from None
            for name, text in (("task_id", task_id), ("completion", completion)):
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError as exc:
                    raise UserError(f"{where}: {name} holds a lone surrogate ({text[exc.start]!r} at character "
                                    f"{exc.start + 1}), which is not text; fix the file's \\u escapes") from None
            yield task_id, completion


GeneratedSamples = dict[tuple[str, int], str]  # (task_id, index) -> completion


class GenerationLog:
    """The samples of one generation, kept in `path` (or only in memory when `path` is None).

    Opening reads what an earlier run saved and rewrites the file without a torn last line; each new
    sample is appended as soon as it exists, so a killed run loses at most the samples in flight;
    closing rewrites the file in `order` (samples outside `order`, from a wider earlier run, are kept).
    """

    def __init__(self, path: Path | None, order: Sequence[tuple[str, int]]) -> None:
        self.path = path
        self.order = order
        self.samples: GeneratedSamples = _read_generated(path) if path is not None else {}
        self.reused = sum(key in self.samples for key in order)
        self._handle: TextIO | None = None
        if path is not None:
            self._rewrite()
            self._handle = open(path, "a", encoding="utf-8")

    def __enter__(self) -> "GenerationLog":
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            self._handle.close()
            self._rewrite()

    def missing(self) -> list[tuple[str, int]]:
        return [key for key in self.order if key not in self.samples]

    def add(self, task_id: str, index: int, completion: str) -> None:
        self.samples[(task_id, index)] = completion
        if self._handle is not None:
            self._handle.write(_sample_line(task_id, index, completion))
            self._handle.flush()

    def in_order(self) -> list[tuple[str, str]]:
        """(task_id, completion) for every key of `order`; all must have been generated."""
        return [(task_id, self.samples[(task_id, index)]) for task_id, index in self.order]

    def _rewrite(self) -> None:
        assert self.path is not None
        ordered = [key for key in self.order if key in self.samples]
        rest = sorted(self.samples.keys() - set(ordered))
        staging = self.path.with_name(self.path.name + ".partial")
        with open(staging, "w", encoding="utf-8") as handle:
            for key in ordered + rest:
                handle.write(_sample_line(*key, self.samples[key]))
        staging.replace(self.path)


def _read_generated(path: Path) -> GeneratedSamples:
    """Samples an earlier generation saved in `path` (missing file: none); a torn last line is ignored."""
    return {
        (str(record["task_id"]), record["index"]): str(record["completion"])
        for record in _appended_records(path)
        if {"task_id", "index", "completion"} <= record.keys() and isinstance(record["index"], int)
    }


def _sample_line(task_id: str, index: int, completion: str) -> str:
    return json.dumps({"task_id": task_id, "index": index, "completion": completion}) + "\n"


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
