"""A checkpoint made ready to decode: base model, tokenizer with `[FRAG]`, heads, candidate tree.

This is the one entry point the CLI, the server, evaluation and benchmarks use to get a model.
"""

from __future__ import annotations

import ctypes
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from transformers import AutoTokenizer

from verifrag.errors import UserError
from verifrag.model.base import load_base, pick_device, pick_dtype
from verifrag.model.checkpoint import DEFAULT_CHECKPOINT, Checkpoint, load_checkpoint
from verifrag.model.hybrid import HybridDecoder
from verifrag.model.kv_cache import truncate
from verifrag.model.lean import LeanForward, unsupported_reason
from verifrag.model.medusa import MedusaDecoder
from verifrag.model.ntp import NextTokenDecoder
from verifrag.model.options import DECODERS
from verifrag.model.projections import LowRank
from verifrag.model.results import DecodeResult
from verifrag.model.runtime import LanguageModel
from verifrag.model.sampling import DecodeConfig
from verifrag.model.threads import pick_threads, thread_candidates
from verifrag.model.tokenizer import FRAG_TOKEN, add_frag_token, fit_embeddings
from verifrag.model.tree import CandidateTree, default_paths

RUNTIMES = ("auto", "lean", "transformers")


# Candidate tree size on a CPU. With fbgemm's float16 kernel a pass over 4 nodes cost about 1.8x a
# one-token step and over 16 nodes 4x; with the sixth session's heads Medusa ran at 1.1-1.2x next-token
# with 4 nodes and 0.7x with 16 (benchmarks/decode_speed.md). A GPU keeps the checkpoint's tree.
CPU_TREE_NODES = 4


@dataclass
class Engine:
    lm: LanguageModel
    checkpoint: Checkpoint
    tree: CandidateTree
    # One decoder per name, built on first use: the Medusa decoder packs its draft rows of the LM head for
    # fbgemm (62 ms for the default's 10,859 rows), which every request paid when built per request.
    _decoders: dict[str, NextTokenDecoder | MedusaDecoder | HybridDecoder] = field(default_factory=dict, init=False,
                                                                                  repr=False)

    @classmethod
    def load(
        cls,
        checkpoint: str | Path | None = None,
        device: str = "auto",
        dtype: str = "auto",
        tree_nodes: int | None = None,
        runtime: str = "auto",
        decode_only: bool = False,
    ) -> "Engine":
        """Load `checkpoint` (default: the bundled one). `tree_nodes` rebuilds the candidate tree with
        that many nodes from the checkpoint's measured head acceptance. `runtime` "auto" runs the lean
        forward on a CPU where the family is supported, transformers' forward elsewhere; `dtype` "auto"
        is float16 weights on a CPU (see `_weight_format`), and int8 and int4 exist only in the lean
        runtime. On a CPU the decode thread count is then chosen by timing (`model/threads.py`).
        On a CPU the candidate tree has `CPU_TREE_NODES` nodes unless `tree_nodes` says otherwise.
        `decode_only`: the caller decodes through the engine's decoders and never runs `lm.model`
        itself (the language server, `verifrag generate`); where the lean runtime holds its own copy of
        every layer weight, the transformers model's copies are freed (425 MB for SmolLM2-135M)."""
        if runtime not in RUNTIMES:
            raise UserError(f"unknown runtime {runtime!r}; choose from {', '.join(RUNTIMES)}")
        ckpt = load_checkpoint(checkpoint if checkpoint is not None else DEFAULT_CHECKPOINT)
        torch_device = pick_device(device)
        threads = thread_candidates() if torch_device.type == "cpu" else []
        if threads:  # load on one thread: on a busy machine a second one slowed loading 5x
            torch.set_num_threads(1)
        weight_format, model_dtype = _weight_format(dtype, torch_device)
        model, _ = load_base(_base_reference(ckpt), torch_device, model_dtype)
        try:
            tokenizer = AutoTokenizer.from_pretrained(ckpt.directory, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise UserError(f"cannot load the tokenizer saved in {ckpt.directory}: {exc}") from exc
        frag_id = add_frag_token(tokenizer)
        if ckpt.config.frag_token_id not in (None, frag_id):
            raise UserError(f"{FRAG_TOKEN} has id {frag_id} in the tokenizer but {ckpt.config.frag_token_id} in verifrag.json")
        hidden = int(model.config.hidden_size)
        if ckpt.config.hidden_size != hidden:
            raise UserError(f"the checkpoint's heads expect hidden size {ckpt.config.hidden_size}, the base model has {hidden}")
        fit_embeddings(model, tokenizer)
        _apply_rows(model, ckpt)
        low_rank: LowRank = {}
        if ckpt.adapter_dir is not None:
            model, low_rank = _merge_adapter(model, ckpt.adapter_dir)
        parameters = next(model.parameters())
        heads = ckpt.heads.to(parameters.device, parameters.dtype)  # in place: ckpt.heads is moved too
        if tree_nodes is None and torch_device.type == "cpu":
            tree_nodes = CPU_TREE_NODES
        paths = (
            default_paths(heads.num_heads, tree_nodes, ckpt.config.head_acceptance)
            if tree_nodes is not None
            else (ckpt.config.tree or default_paths(heads.num_heads, 16, ckpt.config.head_acceptance))
        )
        tree = CandidateTree.from_paths(paths, heads.num_heads)  # refuses paths deeper than the heads
        banned = [] if ckpt.config.frag_trained else [frag_id]
        lm = LanguageModel(model.eval(), tokenizer, banned_ids=banned, frag_token_id=frag_id)
        lm.lean = _lean_forward(lm, runtime, weight_format, low_rank, chosen=dtype != "auto",
                                free_model_weights=decode_only)
        _return_freed_heap()
        if threads:
            pick_threads(_one_token_step(lm), threads)
        return cls(lm, ckpt, tree)

    def decoder(self, name: str, short_output: bool = False) -> NextTokenDecoder | MedusaDecoder | HybridDecoder:
        """`name` "auto" is Medusa, except next-token where one-token steps run a compact weight copy
        whose passes over several rows are slow (int8, int4, and float16 without fbgemm: a tree pass
        there cost 3-5x a step and Medusa ran at 0.60x next-token, benchmarks/decode_speed.md), and
        next-token on a CPU for a `short_output` (automatic ghost text, one statement): there a 5-row
        tree pass costs about 1.8x a step and the heads kept 1.45 tokens a step, so next-token with the
        prefill's prompt-lookup draft answered sooner (p50 210 against 225 ms, docs/decoding.md)."""
        if name == "auto":
            lean = self.lm.lean
            slow_trees = lean is not None and lean.weight_format != "dense" and not lean.cheap_tree_passes
            name = "ntp" if slow_trees or (short_output and self.lm.device.type == "cpu") else "medusa"
        if name not in self._decoders:
            self._decoders[name] = self._build_decoder(name)
        return self._decoders[name]

    def _build_decoder(self, name: str) -> NextTokenDecoder | MedusaDecoder | HybridDecoder:
        if name == "ntp":
            return NextTokenDecoder(self.lm)
        if name == "medusa":
            return MedusaDecoder(self.lm, self.checkpoint.heads, self.tree)
        if name == "hybrid":
            return HybridDecoder(self.lm, self.checkpoint.heads, self.tree)
        raise UserError(f"unknown decoder {name!r}; choose from {', '.join(DECODERS)}")

    def generate(self, prompt: str, decoder: str = "medusa", config: DecodeConfig | None = None,
                 short_output: bool = False) -> DecodeResult:
        return self.decoder(decoder, short_output).generate(prompt, config or DecodeConfig())


def _return_freed_heap() -> None:
    """Hand back to the system the heap that loading used and freed (GGUF dequantisation, the adapter
    merge, weight copies): glibc keeps it otherwise, 85 MB of the server's resident memory (1,400 ->
    1,315 MB measured with the default checkpoint). Nothing to do where libc has no `malloc_trim`."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _one_token_step(lm: LanguageModel) -> Callable[[], None]:
    """A decode step on a 64-token context, as ghost text runs them, repeatable (for timing thread
    counts): the step's cache entry is dropped after each run."""
    ids = list(range(10, 74))
    cache = lm.prefill(ids, reserve=2).cache
    token = torch.tensor([[ids[-1]]], device=lm.device)

    def step() -> None:
        lm.forward(token, cache, last_only=True)
        truncate(cache, len(ids))

    return step


def _weight_format(dtype: str, device: torch.device) -> tuple[str, torch.dtype]:
    """The lean runtime's weight format and the dtype the model loads in, for a `--dtype` choice.
    On a CPU, float16 means float16 weights over a float32 model (activations and sums stay float32:
    the CPU has no float16 arithmetic), and it is what "auto" picks there: 2-2.5x float32's next-token
    speed with the same greedy output on 10 of 10 prompts (benchmarks/weight_formats.md). int8 runs
    on bfloat16 activations, int4 on bfloat16 activations over a float32 model."""
    if dtype == "int8":
        return "int8", torch.bfloat16
    if dtype == "int4":
        return "int4", torch.float32
    if dtype in ("float16", "auto") and device.type == "cpu":
        return "float16", torch.float32
    return "dense", pick_dtype(dtype, device)


def _lean_forward(lm: LanguageModel, runtime: str, weight_format: str, low_rank: LowRank, chosen: bool,
                  free_model_weights: bool) -> LeanForward | None:
    """The lean forward for `lm` when `runtime` asks for it (or "auto" on a CPU finds it supported).
    `chosen`: the weight format was asked for, not picked by dtype "auto", which falls back to
    transformers' forward over dense float32 where the lean runtime cannot run."""
    reason = unsupported_reason(lm.model, lm.context_length)
    if not chosen and weight_format != "dense" and (runtime == "transformers" or reason is not None):
        weight_format = "dense"
    if weight_format in ("int8", "int4") and lm.device.type != "cpu":
        raise UserError(f"{weight_format} weights run on the CPU only; use --dtype bfloat16 on a GPU")
    if runtime == "transformers" and weight_format != "dense":
        raise UserError(f"{weight_format} weights need the lean runtime, not transformers'")
    wanted = runtime == "lean" or weight_format != "dense" or (runtime == "auto" and lm.device.type == "cpu")
    if not wanted or (reason is not None and runtime == "auto" and weight_format == "dense"):
        return None
    if reason is not None:
        raise UserError(f"the lean runtime cannot run this model: {reason}")
    try:
        return LeanForward(lm.model, weight_format, low_rank, free_model_weights)
    except ValueError as exc:  # a shape the format cannot pack (int4 groups of 32 inputs, say)
        raise UserError(f"{weight_format} weights cannot hold this model: {exc}") from exc


def _base_reference(ckpt: Checkpoint) -> str:
    """The base model reference; a relative path is taken relative to the checkpoint directory."""
    reference = ckpt.config.base_model
    candidate = ckpt.directory / reference
    return str(candidate) if not Path(reference).is_absolute() and candidate.exists() else reference


def _apply_rows(model: torch.nn.Module, ckpt: Checkpoint) -> None:
    """Overwrite embedding rows the checkpoint trained (e.g. `[FRAG]`); a tied LM head follows."""
    if not ckpt.embedding_rows:
        return
    embedding = model.get_input_embeddings().weight
    with torch.no_grad():
        for index, row in ckpt.embedding_rows.items():
            if row.shape != embedding[index].shape:
                raise UserError(f"embedding row {index} has shape {tuple(row.shape)}, the model {tuple(embedding[index].shape)}")
            embedding[index] = row.to(embedding.dtype)


def _merge_adapter(model: torch.nn.Module, adapter_dir: Path) -> tuple[torch.nn.Module, LowRank]:
    """Fold a LoRA adapter into the base weights (same outputs, no adapter cost per step), and keep
    its factors per linear layer, already scaled, for weight formats that hold them apart (int4)."""
    from peft import PeftModel
    from peft.tuners.lora import LoraLayer

    try:
        with warnings.catch_warnings():  # peft asks a transformers 5 deprecated property on every load
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
            tuned = PeftModel.from_pretrained(model, str(adapter_dir))
    except (ValueError, OSError, KeyError) as exc:
        raise UserError(f"cannot load the adapter in {adapter_dir}: {exc}") from exc
    low_rank = {}
    for module in tuned.modules():
        if isinstance(module, LoraLayer) and "default" in getattr(module, "lora_A", {}):
            down = module.lora_A["default"].weight.detach().float().clone()
            up = module.lora_B["default"].weight.detach().float() * module.scaling["default"]
            low_rank[module.get_base_layer()] = (down, up.clone())
    return tuned.merge_and_unload(), low_rank
