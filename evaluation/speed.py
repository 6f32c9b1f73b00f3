"""Decoding speed: the same prompts, model, hardware and run for every method.

Methods:
- `hf_greedy`: transformers `generate`, greedy: the next-token baseline every ratio is taken against.
- `ntp`: our next-token decoder (on the lean runtime where the engine has one).
- `ntp_transformers`: the same decoder on transformers' forward and `DynamicCache`: what the lean
  runtime gains.
- `medusa`: Medusa tree decoding, greedy acceptance, no fragment snapping.
- `medusa_frag`: the same with fragment snapping.
- `hybrid`: the Medusa tree plus a prompt-lookup chain in one pass, with fragment snapping.
- `prompt_lookup`: transformers prompt lookup decoding (`prompt_lookup_num_tokens`).
- `assisted`: transformers assisted generation with a smaller draft model, when one is given.
- `llama_cpp`, `llama_cpp_lookup`: llama.cpp (llama-cpp-python) greedy, and with its prompt-lookup
  draft, on the base's GGUF file (`llama_cpp_peer`).

Runs are interleaved (method A, B, C, then A, B, C again) so a machine whose speed drifts affects
every method alike; each figure is the median over repeats with its min and max.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch
import transformers

from verifrag.model.engine import Engine
from verifrag.model.medusa import MedusaDecoder
from verifrag.model.sampling import DecodeConfig
from verifrag.model.tree import CandidateTree, default_paths

METHODS = ("hf_greedy", "ntp", "ntp_transformers", "medusa", "medusa_frag", "hybrid", "prompt_lookup", "assisted",
           "llama_cpp", "llama_cpp_lookup")


@dataclass
class Run:
    tokens: int
    seconds: float
    steps: int = 0
    accepted_per_step: list[int] = field(default_factory=list)
    head_hits: list[int] = field(default_factory=list)
    frag_discarded: int = 0
    token_ids: list[int] = field(default_factory=list)
    branch_wins: dict[str, int] = field(default_factory=dict)


@dataclass
class MethodSummary:
    method: str
    tokens_per_s: list[float]  # one figure per repeat (all prompts together)
    tokens: int
    steps: int
    accepted_per_step: list[int]
    head_hits: list[int]
    frag_discarded: int
    branch_wins: dict[str, int] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.tokens_per_s)

    @property
    def mean_accepted(self) -> float:
        return self.tokens / self.steps if self.steps else 1.0

    @property
    def per_head_acceptance(self) -> list[float]:
        return [h / self.steps for h in self.head_hits] if self.steps else []


def _hf_runner(engine: Engine, max_new_tokens: int, **generate_kwargs) -> Callable[[str], Run]:
    lm = engine.lm
    suppress = list(lm.banned_ids) or None

    @torch.inference_mode()
    def run(prompt: str) -> Run:
        ids, _ = lm.encode_prompt(prompt, max_new_tokens)
        tensor = torch.tensor([ids], device=lm.device)
        started = time.perf_counter()
        output = lm.model.generate(
            tensor,
            attention_mask=torch.ones_like(tensor),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            suppress_tokens=suppress,
            pad_token_id=lm.tokenizer.pad_token_id or lm.tokenizer.eos_token_id,
            **generate_kwargs,
        )
        seconds = time.perf_counter() - started
        new = output[0, len(ids) :].tolist()
        while new and new[-1] in lm.eos_ids:  # our decoders do not return the EOS token either
            new.pop()
        return Run(len(new), seconds, steps=len(new), token_ids=new)

    return run


def _our_runner(engine: Engine, decoder: str, max_new_tokens: int, snap: bool, lean: bool = True) -> Callable[[str], Run]:
    config = DecodeConfig(max_new_tokens=max_new_tokens, snap_fragments=snap, stop_at_endmodule=False)

    def run(prompt: str) -> Run:
        engine.lm.prefix_cache.clear()  # every method starts from a cold prompt
        runtime = engine.lm.lean
        engine.lm.lean = runtime if lean else None
        try:
            result = engine.generate(prompt, decoder, config)
        finally:
            engine.lm.lean = runtime
            engine.lm.prefix_cache.clear()  # the other runtime's cache type must not be reused
        s = result.stats
        return Run(s.new_tokens, s.seconds, s.steps, list(s.accepted_per_step), list(s.head_hits), s.frag_discarded,
                   result.token_ids, dict(s.branch_wins))

    return run


def runners(
    engine: Engine, methods: Sequence[str], max_new_tokens: int, draft_model: torch.nn.Module | None = None
) -> dict[str, Callable[[str], Run]]:
    table: dict[str, Callable[[str], Run]] = {}
    for method in methods:
        if method == "hf_greedy":
            table[method] = _hf_runner(engine, max_new_tokens)
        elif method == "ntp":
            table[method] = _our_runner(engine, "ntp", max_new_tokens, snap=False)
        elif method == "ntp_transformers":
            if engine.lm.lean is None or engine.lm.lean.weight_format != "dense":
                continue  # the engine already runs transformers' forward, or its weights exist only here
            table[method] = _our_runner(engine, "ntp", max_new_tokens, snap=False, lean=False)
        elif method == "medusa":
            table[method] = _our_runner(engine, "medusa", max_new_tokens, snap=False)
        elif method == "medusa_frag":
            table[method] = _our_runner(engine, "medusa", max_new_tokens, snap=True)
        elif method == "hybrid":
            table[method] = _our_runner(engine, "hybrid", max_new_tokens, snap=True)
        elif method == "prompt_lookup":
            table[method] = _hf_runner(engine, max_new_tokens, prompt_lookup_num_tokens=10)
        elif method == "assisted":
            if draft_model is None:
                continue
            table[method] = _hf_runner(engine, max_new_tokens, assistant_model=draft_model)
        elif method in ("llama_cpp", "llama_cpp_lookup"):
            from verifrag.evaluation.llama_cpp_peer import gguf_of, llama_cpp_runner

            gguf = gguf_of(engine.checkpoint)
            if gguf is None:
                continue  # the base is a Hugging Face directory: there is no GGUF file to run
            table[method] = llama_cpp_runner(gguf, max_new_tokens, torch.get_num_threads(), method == "llama_cpp_lookup")
        else:
            raise ValueError(f"unknown method {method!r}")
    return table


def compare(
    engine: Engine,
    prompts: Sequence[str],
    methods: Sequence[str],
    max_new_tokens: int,
    repeats: int = 1,
    draft_model: torch.nn.Module | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[dict[str, MethodSummary], dict[str, int]]:
    """Run every method on every prompt `repeats` times, interleaved. Returns per-method summaries and,
    per method, on how many prompts its greedy tokens match `ntp`'s (the losslessness check)."""
    table = runners(engine, methods, max_new_tokens, draft_model)
    heads = engine.checkpoint.heads.num_heads
    summaries = {m: MethodSummary(m, [], 0, 0, [], [0] * heads, 0) for m in table}
    identical = {m: 0 for m in table}
    for repeat in range(repeats):
        totals = {m: [0, 0.0] for m in table}
        for index, prompt in enumerate(prompts):
            runs = {method: run_one(prompt) for method, run_one in table.items()}
            for method, run in runs.items():
                totals[method][0] += run.tokens
                totals[method][1] += run.seconds
                if repeat == 0:
                    _add(summaries[method], run)
                    if "ntp" in runs:
                        identical[method] += _matches(method, run.token_ids, runs["ntp"].token_ids)
            if progress:
                progress(f"repeat {repeat + 1}/{repeats}, prompt {index + 1}/{len(prompts)}")
        for method, (tokens, seconds) in totals.items():
            summaries[method].tokens_per_s.append(tokens / seconds if seconds else 0.0)
    return summaries, identical


def _matches(method: str, tokens: list[int], reference: list[int]) -> bool:
    """Greedy output must equal next-token output; with fragment snapping, up to the stop point (the
    final text is trimmed back to a complete fragment, so it is a prefix)."""
    if method in ("medusa_frag", "hybrid"):
        return tokens == reference[: len(tokens)]
    return tokens == reference


def _add(summary: MethodSummary, run: Run) -> None:
    summary.tokens += run.tokens
    summary.steps += run.steps
    summary.accepted_per_step.extend(run.accepted_per_step)
    summary.frag_discarded += run.frag_discarded
    for k, hits in enumerate(run.head_hits):
        summary.head_hits[k] += hits
    for branch, wins in run.branch_wins.items():
        summary.branch_wins[branch] = summary.branch_wins.get(branch, 0) + wins


def tree_step_cost(engine: Engine, prompt: str, sizes: Sequence[int], repeats: int = 10) -> dict[int, float]:
    """Median seconds of one verification pass over a tree of each size, with the greedy acceptance
    walk's LM-head rows (size 0 is a plain single-token step), on top of the same prompt's KV cache."""
    lm = engine.lm
    heads = engine.checkpoint.heads
    ids, _ = lm.encode_prompt(prompt, 128)
    costs: dict[int, float] = {}
    for size in sizes:
        decoder = None
        if size:
            paths = default_paths(heads.num_heads, size, engine.checkpoint.config.head_acceptance)
            decoder = MedusaDecoder(lm, heads, CandidateTree.from_paths(paths, heads.num_heads))
        times = []
        for _ in range(repeats):
            prefill = lm.prefill(ids, reserve=max(sizes) + 1)
            started = time.perf_counter()
            with torch.inference_mode():
                if decoder is None:
                    lm.forward(torch.tensor([[ids[-1]]], device=lm.device), prefill.cache, last_only=True)
                else:
                    tokens, hidden = decoder.verify(ids[-1], decoder.draft(prefill.hidden), prefill.cache, len(ids))
                    decoder.best_path(tokens, hidden, DecodeConfig())
            times.append(time.perf_counter() - started)
            lm.prefix_cache.clear()
        costs[size] = statistics.median(times)
    return costs


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            names = [line.split(":", 1)[1].strip() for line in info if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    # the vector units decide which kernels run (fbgemm's float16 needs AVX2, oneDNN's bfloat16 AVX-512)
    isa = torch.backends.cpu.get_cpu_capability()
    return (f"{cpu} ({isa}), {os.cpu_count()} cores, {device}; torch {torch.__version__} with {torch.get_num_threads()} "
            f"threads, transformers {transformers.__version__}; Python {platform.python_version()}; "
            f"load average at start {load:.1f}")
