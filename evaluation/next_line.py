"""Next-line completion, measured the RTL-Repo way (Allam and Shalan, 2024), and held-out perplexity.

A file is cut before one line chosen at random (seeded by the file's id, so every run and every model
sees the same cut) among its non-empty, non-comment lines; the model continues the text before it, and
the prediction is the first non-empty, non-comment line of that continuation. Exact match compares the
whitespace-split tokens of prediction and truth; edit similarity is the Levenshtein ratio x 100 (insert
and delete cost 1, so a substitution costs 2, as in python-Levenshtein's `ratio` that RTL-Repo uses).

Files come from a directory of `.v`/`.sv` files or from a corpus JSONL (`verifrag train data`'s
`heldout.jsonl`: records with `id` and `text`). Results are appended one JSON line per file, so a
stopped run resumes where it stopped.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator, Sequence

import torch

from verifrag.errors import UserError
from verifrag.jsonl_input import read_objects
from verifrag.model.engine import Engine
from verifrag.model.sampling import DecodeConfig
from verifrag.syntax.source import decode_source

SUFFIXES = (".v", ".sv")
MAX_LINE_TOKENS = 96  # one Verilog line; a model that never ends its line stops here


@dataclass(frozen=True)
class Source:
    id: str
    text: str


@dataclass(frozen=True)
class Task:
    id: str
    prefix: str  # every line before the cut, newline included
    target: str  # the line the model must write


def read_sources(path: str | Path) -> list[Source]:
    """The files to cut, sorted by id: `.v`/`.sv` under a directory, or the records of a corpus JSONL."""
    where = Path(path)
    if where.is_dir():
        files = sorted(p for p in where.rglob("*") if p.suffix in SUFFIXES and p.is_file())
        return [Source(p.relative_to(where).as_posix(), decode_source(p.read_bytes())) for p in files]
    if where.is_file() and where.suffix == ".jsonl":
        sources = []
        for number, record in read_objects(where, "next-line file"):
            if "id" not in record or not isinstance(record.get("text"), str):
                raise UserError(f"{where}:{number}: needs `id` and `text`")
            sources.append(Source(str(record["id"]), record["text"]))
        return sorted(sources, key=lambda source: source.id)
    raise UserError(f"--next-line needs a directory of .v/.sv files or a corpus .jsonl: {path}")


def code_lines(lines: Sequence[str]) -> list[bool]:
    """For each line, whether it holds code: not blank, not only a `//` comment, not inside `/* */`."""
    flags = []
    in_block = False
    for line in lines:
        rest, code = line, False
        while rest.strip():
            if in_block:
                end = rest.find("*/")
                if end < 0:
                    break
                in_block, rest = False, rest[end + 2 :]
                continue
            stripped = rest.lstrip()
            if stripped.startswith("//"):
                break
            if stripped.startswith("/*"):
                in_block, rest = True, stripped[2:]
                continue
            code = True
            start = stripped.find("/*")
            if start < 0 or "//" in stripped[:start]:
                break
            in_block, rest = True, stripped[start + 2 :]
        flags.append(code)
    return flags


def make_task(source: Source, seed: int) -> Task | None:
    """Cut the file before a seeded random code line (never the first line: some context is needed)."""
    lines = source.text.splitlines(keepends=True)
    candidates = [i for i, code in enumerate(code_lines(lines)) if code and i > 0]
    if not candidates:
        return None
    cut = random.Random(f"{seed}\x1f{source.id}").choice(candidates)
    return Task(source.id, "".join(lines[:cut]), lines[cut].rstrip("\r\n"))


def first_code_line(text: str) -> str:
    """The first non-empty, non-comment line of a completion ("" when it has none)."""
    lines = text.splitlines()
    for line, code in zip(lines, code_lines(lines)):
        if code:
            return line
    return ""


def _stop_after_code_line(generated: str) -> int | None:
    """Stop decoding once a whole code line has been written."""
    lines = generated.split("\n")
    complete = lines[:-1]  # the last piece has no line break yet
    flags = code_lines(complete)
    for index, code in enumerate(flags):
        if code:
            return sum(len(line) + 1 for line in complete[: index + 1]) - 1
    return None


def exact_match(prediction: str, target: str) -> bool:
    return prediction.split() == target.split()


def edit_similarity(prediction: str, target: str) -> float:
    """Levenshtein ratio x 100 of the stripped lines, with insertions and deletions costing 1."""
    a, b = prediction.strip(), target.strip()
    if not a and not b:
        return 100.0
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, other in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (0 if char == other else 2))
        previous = current
    return 100.0 * (1 - previous[-1] / (len(a) + len(b)))


@dataclass(frozen=True)
class LineResult:
    id: str
    target: str
    prediction: str
    exact: bool
    similarity: float


def complete_line(engine: Engine, task: Task, decoder: str) -> str:
    config = DecodeConfig(max_new_tokens=MAX_LINE_TOKENS, stop_at_endmodule=False, stop_rule=_stop_after_code_line,
                          heal_prompt=True)
    return first_code_line(engine.generate(task.prefix, decoder, config).text)


def _done(output: Path) -> dict[str, dict]:
    if not output.is_file():
        return {}
    done = {}
    for line in output.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            done[record["id"]] = record
    return done


def run_next_line(engine: Engine, tasks: Sequence[Task], decoder: str, output: Path | None) -> Iterator[LineResult]:
    """Results in task order; with `output`, tasks already in it are read back, new ones appended."""
    done = _done(output) if output is not None else {}
    handle = output.open("a", encoding="utf-8") if output is not None else None
    try:
        for task in tasks:
            if task.id in done:
                yield LineResult(**done[task.id])
                continue
            prediction = complete_line(engine, task, decoder)
            result = LineResult(task.id, task.target, prediction, exact_match(prediction, task.target),
                                round(edit_similarity(prediction, task.target), 2))
            if handle is not None:
                handle.write(json.dumps(asdict(result)) + "\n")
                handle.flush()
            yield result
    finally:
        if handle is not None:
            handle.close()


def summarize(results: Sequence[LineResult]) -> dict[str, float | int]:
    if not results:
        return {"files": 0, "exact_match": 0.0, "edit_similarity": 0.0}
    return {
        "files": len(results),
        "exact_match": round(100.0 * sum(r.exact for r in results) / len(results), 2),
        "edit_similarity": round(sum(r.similarity for r in results) / len(results), 2),
    }


@torch.inference_mode()
def perplexity(engine: Engine, sources: Sequence[Source], window: int = 1024) -> dict[str, float | int]:
    """Token-level perplexity of the base (adapter merged) over the files, in windows of `window` tokens."""
    model, tokenizer = engine.lm.model, engine.lm.tokenizer
    device = engine.lm.device
    total_loss, total_tokens = 0.0, 0
    for source in sources:
        ids = tokenizer(source.text, add_special_tokens=False)["input_ids"]
        for start in range(0, max(len(ids) - 1, 0), window):
            chunk = torch.tensor([ids[start : start + window + 1]], device=device)
            if chunk.shape[1] < 2:
                continue
            logits = model(input_ids=chunk[:, :-1]).logits.float()
            loss = torch.nn.functional.cross_entropy(logits[0], chunk[0, 1:], reduction="sum")
            total_loss += float(loss)
            total_tokens += chunk.shape[1] - 1
    if total_tokens == 0:
        return {"tokens": 0, "perplexity": float("nan")}
    return {"tokens": total_tokens, "perplexity": round(math.exp(total_loss / total_tokens), 3)}
