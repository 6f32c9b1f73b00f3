"""llama.cpp as a speed peer, through llama-cpp-python (the optional `llama` extra, built from source).

It runs the GGUF file the checkpoint's base comes from, as shipped (the default: SmolLM2-135M-Instruct in
Q4_1), with the same prompts, token budget and thread count as our decoders. It runs neither our LoRA
adapter nor our float formats, so its tokens are not compared with ours: the row is a speed figure for
the same architecture and size. Its own prompt cache is reset before every prompt, as ours is.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from verifrag.errors import UserError
from verifrag.evaluation.speed import Run
from verifrag.model.base import DEFAULT_BASE, default_gguf_path
from verifrag.model.checkpoint import Checkpoint

LOOKUP_TOKENS = 10  # draft length of llama-cpp-python's prompt lookup, as for transformers' peer


def gguf_of(checkpoint: Checkpoint) -> Path | None:
    """The GGUF file `checkpoint` is built on, or None when its base is a Hugging Face directory."""
    reference = checkpoint.config.base_model
    if reference in (None, "", DEFAULT_BASE):
        return default_gguf_path()
    path = Path(reference)
    if not path.is_absolute():
        path = checkpoint.directory / path
    return path if path.is_file() and path.suffix == ".gguf" else None


def llama_cpp_runner(gguf: Path, max_new_tokens: int, threads: int, lookup: bool,
                     context: int = 2048) -> Callable[[str], Run]:
    """A bench runner (prompt -> Run) of llama.cpp greedy decoding, or with its prompt-lookup draft."""
    try:
        from llama_cpp import Llama
        from llama_cpp.llama_speculative import LlamaPromptLookupDecoding
    except ImportError as exc:
        raise UserError("the llama.cpp peer needs llama-cpp-python: bash scripts/install.sh --llama "
                        "(builds it from source, about 30 minutes on 2 cores)") from exc
    draft = LlamaPromptLookupDecoding(num_pred_tokens=LOOKUP_TOKENS) if lookup else None
    model = Llama(model_path=str(gguf), n_ctx=context, n_threads=threads, n_threads_batch=threads,
                  draft_model=draft, verbose=False)

    def run(prompt: str) -> Run:
        model.reset()  # a cold prompt, like every other method
        started = time.perf_counter()
        output = model.create_completion(prompt, max_tokens=max_new_tokens, temperature=0.0, top_k=1)
        seconds = time.perf_counter() - started
        tokens = int(output["usage"]["completion_tokens"])
        return Run(tokens, seconds, steps=tokens)

    return run
