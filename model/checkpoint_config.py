"""`verifrag.json`, the checkpoint's description, read and checked against a schema with bounds.

This module imports neither torch nor safetensors: the CLI checks a `--checkpoint` here before it loads
anything heavy, and the loader checks the file here before it allocates heads whose shape comes from it
(a `hidden_size` of a million would ask for terabytes). Every problem is one `UserError` line that
names the file and the field.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from verifrag.errors import UserError

FORMAT_VERSION = 1
CONFIG_FILE = "verifrag.json"
DEFAULT_CHECKPOINT = Path(__file__).resolve().parent / "default_checkpoint"

# Bounds generous for any model a 2-core CPU or one GPU can serve, tight enough to refuse absurd sizes
# before allocation: a 65536-wide hidden state is beyond the largest open models (Llama 3 405B: 16384).
MAX_HIDDEN_SIZE = 65_536
MAX_HEADS = 64
MAX_HEAD_LAYERS = 16
MAX_TREE_NODES = 4_096
MAX_RANK = 4_096
MAX_TOKEN_ID = 10_000_000


@dataclass
class CheckpointConfig:
    base_model: str
    hidden_size: int
    num_heads: int
    head_layers: int = 1
    shared_lm_head: bool = True
    frag_token_id: int | None = None
    frag_trained: bool = False  # False: the base never learnt to emit [FRAG], so decoders ban it
    tree: list[list[int]] = field(default_factory=list)
    head_acceptance: list[list[float]] = field(default_factory=list)  # [head][rank] measured top-k hit rates
    provenance: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    @classmethod
    def from_json(cls, data: Any, source: str = CONFIG_FILE) -> "CheckpointConfig":
        """The config in `data` (parsed JSON) once every field passes the schema; `source` names the
        file in error messages."""
        if not isinstance(data, dict):
            raise UserError(f"{source} must hold a JSON object, not {_kind(data)}")
        if data.get("format_version") != FORMAT_VERSION:
            raise UserError(f"{source}: format_version {data.get('format_version')!r} is not {FORMAT_VERSION}")
        missing = [name for name in ("base_model", "hidden_size", "num_heads") if name not in data]
        if missing:
            raise UserError(f"{source} is incomplete: missing {', '.join(missing)}")
        check = _Checker(source, data)
        return cls(
            base_model=check.text("base_model"),
            hidden_size=check.integer("hidden_size", 1, MAX_HIDDEN_SIZE),
            num_heads=check.integer("num_heads", 1, MAX_HEADS),
            head_layers=check.integer("head_layers", 0, MAX_HEAD_LAYERS, default=1),
            shared_lm_head=check.boolean("shared_lm_head", default=True),
            frag_token_id=check.integer("frag_token_id", 0, MAX_TOKEN_ID, default=None),
            frag_trained=check.boolean("frag_trained", default=False),
            tree=check.tree("tree", int(data["num_heads"])),
            head_acceptance=check.acceptance("head_acceptance"),
            provenance=check.mapping("provenance"),
        )


class _Checker:
    """Field-by-field type and bound checks over one parsed `verifrag.json`."""

    def __init__(self, source: str, data: dict[str, Any]) -> None:
        self.source = source
        self.data = data

    def fail(self, name: str, expected: str) -> UserError:
        value = json.dumps(self.data[name])
        shown = value if len(value) <= 40 else value[:37] + "..."
        return UserError(f"{self.source}: {name} must be {expected}, got {shown}")

    def text(self, name: str) -> str:
        value = self.data[name]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(name, "a non-empty string")
        return value

    def integer(self, name: str, low: int, high: int, default: Any = ...) -> Any:
        if name not in self.data or (self.data[name] is None and default is None):
            if default is ...:
                raise UserError(f"{self.source} is incomplete: missing {name}")
            return default
        value = self.data[name]
        if not _is_int(value) or not low <= value <= high:
            raise self.fail(name, f"an integer from {low} to {high}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            raise self.fail(name, "true or false")
        return value

    def tree(self, name: str, depth_limit: int) -> list[list[int]]:
        value = self.data.get(name, [])
        expected = (f"a list of at most {MAX_TREE_NODES} paths, each a non-empty list of at most "
                    f"num_heads ({depth_limit}) ranks from 0 to {MAX_RANK}")
        if not isinstance(value, list) or len(value) > MAX_TREE_NODES:
            raise self.fail(name, expected)
        for path in value:
            if (not isinstance(path, list) or not 1 <= len(path) <= depth_limit
                    or not all(_is_int(rank) and 0 <= rank <= MAX_RANK for rank in path)):
                raise self.fail(name, expected)
        return value

    def acceptance(self, name: str) -> list[list[float]]:
        value = self.data.get(name, [])
        expected = "a list (one per head) of lists of hit rates from 0 to 1"
        if not isinstance(value, list) or len(value) > MAX_HEADS:
            raise self.fail(name, expected)
        for rates in value:
            if not isinstance(rates, list) or len(rates) > MAX_RANK or not all(_is_rate(r) for r in rates):
                raise self.fail(name, expected)
        return value

    def mapping(self, name: str) -> dict[str, Any]:
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(name, "a JSON object")
        return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_rate(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value) and 0 <= value <= 1


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", type(None): "null", bool: "a boolean"}.get(type(value), "a number")


def read_config(directory: str | Path) -> CheckpointConfig:
    """The checked config of the checkpoint in `directory`."""
    path = Path(directory) / CONFIG_FILE
    if not path.is_file():
        raise UserError(f"{directory} is not a VeriFrag checkpoint (no {CONFIG_FILE})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} is not valid JSON: {exc}") from exc
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from exc
    return CheckpointConfig.from_json(data, str(path))


def checkpoint_directory(directory: str | Path) -> Path:
    """`directory` (with `~` expanded) once it is a directory, with a message that says what it is
    otherwise: a file given by mistake is not reported as missing."""
    path = Path(directory).expanduser()
    if path.is_file():
        raise UserError(f"checkpoint {path} is a file; give the checkpoint directory (the one holding {CONFIG_FILE})")
    if not path.is_dir():
        raise UserError(f"checkpoint directory {path} does not exist")
    return path


def check_checkpoint(directory: str | Path) -> CheckpointConfig:
    """Everything about a checkpoint that can be checked without torch: it is a directory, and its
    `verifrag.json` passes the schema. The CLI calls this before importing the model code."""
    return read_config(checkpoint_directory(directory))
