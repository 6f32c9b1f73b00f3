"""The lean forward computes what transformers computes (logits to 1e-4 in float32) on every family it
claims, in each way the decoders call it: prefill, prefill on a reused prefix, single-token steps, tree
verification passes, and steps after a compaction; and decoding never reallocates its cache."""

import random

import pytest
import torch
from transformers import DynamicCache, LlamaConfig, LlamaForCausalLM

from tests.tiny_models import tiny_lm
from verifrag.errors import UserError
from verifrag.model.kv_cache import compact
from verifrag.model.lean import LeanForward, unsupported_reason
from verifrag.model.medusa import MedusaDecoder
from verifrag.model.ntp import NextTokenDecoder
from verifrag.model import projections
from verifrag.model.projections import (HalfProjection, Int4Projection, Int8Projection, PackedHalfProjection,
                                         fbgemm_half_available, rows_product)
from verifrag.model.runtime import LanguageModel
from verifrag.model.sampling import DecodeConfig
from verifrag.model.tree import CandidateTree, default_paths

TOLERANCE = 1e-4


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _scaled_llama() -> LlamaForCausalLM:
    """Llama 3's RoPE scaling and theta, which change the frequencies the lean forward must reproduce."""
    config = LlamaConfig(vocab_size=300, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=1, max_position_embeddings=512,
                         rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
                                          "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                          "original_max_position_embeddings": 64})
    return LlamaForCausalLM(config)


def _pair(kind: str) -> tuple[LanguageModel, LanguageModel]:
    """The same random float32 model twice: run by transformers, and by the lean forward. Every weight
    (norms and Qwen2's q/k/v biases included) is perturbed so none sits at its neutral initial value."""
    if kind == "llama-rope-scaled":
        torch.manual_seed(0)
        hf = LanguageModel(_scaled_llama(), tokenizer=None)  # tokenizer unused by forward
    else:
        hf, _ = tiny_lm(kind)
    hf.model.float()
    with torch.no_grad():
        for parameter in hf.model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.05)
    lean = LanguageModel(hf.model, hf.tokenizer, banned_ids=hf.banned_ids)
    lean.lean = LeanForward(hf.model)
    return hf, lean


def _both(hf: LanguageModel, lean: LanguageModel, hf_cache, lean_cache, ids, positions=None, tree=None):
    a_logits, a_hidden = hf.forward(ids, hf_cache, positions, tree)
    b_logits, b_hidden = lean.forward(ids, lean_cache, positions, tree)
    assert torch.equal(torch.isinf(a_logits), torch.isinf(b_logits))  # banned ids are -inf in both
    finite = torch.isfinite(a_logits)
    assert (a_logits[finite] - b_logits[finite]).abs().max().item() < TOLERANCE
    assert (a_hidden - b_hidden).abs().max().item() < TOLERANCE
    assert hf_cache.get_seq_length() == lean_cache.get_seq_length()
    return a_logits


KINDS = ["llama", "qwen2", "mistral", "llama-rope-scaled"]


@pytest.mark.parametrize("kind", KINDS)
@torch.inference_mode()
def test_logits_equal_transformers_in_every_pass(kind):
    hf, lean = _pair(kind)
    vocab = hf.model.config.vocab_size
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(0, vocab, (1, 23), generator=generator)
    hf_cache, lean_cache = DynamicCache(config=hf.model.config), lean.lean.new_cache(8)  # too small: must grow
    _both(hf, lean, hf_cache, lean_cache, ids[:, :15])  # prefill
    _both(hf, lean, hf_cache, lean_cache, ids[:, 15:20])  # more prompt on a reused prefix
    for step in range(20, 23):  # single-token steps
        _both(hf, lean, hf_cache, lean_cache, ids[:, step : step + 1])
    rng = random.Random(kind)
    for _ in range(3):  # tree verification passes, each followed by a compaction and a plain step
        paths = sorted({tuple(rng.randrange(3) for _ in range(rng.randint(1, 3))) for _ in range(12)})
        closed = sorted({p[:cut] for p in paths for cut in range(1, len(p) + 1)}, key=lambda p: (len(p), p))
        tree = CandidateTree.from_paths(closed, 3)
        past = hf_cache.get_seq_length()
        tokens = torch.randint(0, vocab, (1, tree.num_nodes + 1), generator=generator)
        _both(hf, lean, hf_cache, lean_cache, tokens, past + tree.depths, tree.ancestor_mask)
        deepest = int(torch.argmax(tree.depths))
        path = torch.nonzero(tree.ancestor_mask[deepest])[:, 0]
        compact(hf_cache, past, path)
        compact(lean_cache, past, path)
        _both(hf, lean, hf_cache, lean_cache, torch.randint(0, vocab, (1, 1), generator=generator))


@pytest.mark.parametrize("kind", ["llama", "qwen2", "mistral"])
@pytest.mark.parametrize("weights", ["dense", "float16", "float16 without fbgemm", "int8", "int4"])
def test_greedy_medusa_equals_next_token_under_the_lean_runtime(kind, weights, monkeypatch):
    if weights == "float16 without fbgemm":  # torch's own float16 kernel, as on ARM
        monkeypatch.setattr(projections, "fbgemm_half_available", lambda: False)
        weights = "float16"
    lm, heads = tiny_lm(kind, seed=4, runtime="lean", weights=weights)
    rng = random.Random(kind + weights)
    config = DecodeConfig(max_new_tokens=40, snap_fragments=False, stop_at_endmodule=False)
    for prompt in ["module counter(input clk, output reg [3:0] q);\n", "assign y = a & b", "x"]:
        expected = NextTokenDecoder(lm).generate(prompt, config).token_ids
        for _ in range(3):
            paths = sorted({tuple(rng.randrange(4) for _ in range(rng.randint(1, 3))) for _ in range(20)})
            closed = sorted({p[:c] for p in paths for c in range(1, len(p) + 1)})
            tree = CandidateTree.from_paths(closed, heads.num_heads)
            assert MedusaDecoder(lm, heads, tree).generate(prompt, config).token_ids == expected


def test_decoding_never_reallocates_the_cache():
    lm, heads = tiny_lm("llama", seed=2, runtime="lean")
    created = []
    make = lm.lean.new_cache
    lm.lean.new_cache = lambda capacity: created.append(make(capacity)) or created[-1]
    addresses = []
    original_prefill = lm.prefill

    def prefill(ids, reserve=0, draft=()):
        result = original_prefill(ids, reserve, draft)
        addresses.append((result.cache.keys.data_ptr(), result.cache.values.data_ptr()))
        return result

    lm.prefill = prefill
    tree = CandidateTree.from_paths(default_paths(heads.num_heads, 16), heads.num_heads)
    config = DecodeConfig(max_new_tokens=60, snap_fragments=False, stop_at_endmodule=False)
    MedusaDecoder(lm, heads, tree).generate("module m(input a, output y);\n", config)
    cache = lm.prefix_cache._cache
    assert len(created) == 1 and cache is created[0]
    assert addresses == [(cache.keys.data_ptr(), cache.values.data_ptr())]


def test_int8_projection_is_close_to_the_float_matmul():
    torch.manual_seed(0)
    linear = torch.nn.Linear(64, 40, bias=True)
    other = torch.nn.Linear(64, 24, bias=False)
    fused = Int8Projection([linear, other])
    weight = torch.cat([linear.weight, other.weight]).detach()
    step = weight.abs().amax(dim=1, keepdim=True) / 127
    assert ((fused.dequantised() - weight).abs() <= step / 2 + step * 127 / 256).all()  # rounding; bf16 scales
    x = torch.randn(5, 64)
    a, b = fused(x)
    assert a.shape == (5, 40) and b.shape == (5, 24)
    dense = torch.cat([linear(x), other(x)], dim=-1).detach()
    assert (torch.cat([a, b], dim=-1) - dense).abs().max() < 0.03 * dense.abs().max()
    assert torch.equal(fused(x[2:3])[0], a[2:3])  # a row does not depend on the other rows


@pytest.mark.parametrize("kind", ["float16", "int4"])
def test_low_precision_rows_agree_with_one_row_steps_and_with_the_float_weights(kind):
    """Both paths of a float16/int4 projection multiply by the same weights, which replace the model's
    own: a row of a many-row pass equals a one-row step up to float32 summation order, and both stay
    close to the original float32 matmul."""
    torch.manual_seed(0)
    linear = torch.nn.Linear(64, 40, bias=True)
    other = torch.nn.Linear(64, 24, bias=False)
    original = torch.cat([linear.weight, other.weight]).detach().clone()
    fused = (HalfProjection if kind == "float16" else Int4Projection)([linear, other])
    rounded = torch.cat([linear.weight, other.weight]).detach()
    assert not torch.equal(rounded, original)  # the model's own weights now hold the rounded values
    if kind == "float16":
        assert torch.equal(rounded, original.half().float())
    else:  # 16 levels per group of 32 inputs: at most half a step (plus bfloat16 scale rounding) away
        steps = (original.view(64, 2, 32).amax(-1) - original.view(64, 2, 32).amin(-1)) / 15
        assert ((rounded - original).abs().view(64, 2, 32) <= steps[..., None] * 0.51 + 1e-6).all()
    x = torch.randn(5, 64)
    rows = torch.cat(fused(x), dim=-1)
    singles = torch.cat([torch.cat(fused(x[i : i + 1]), dim=-1) for i in range(5)])
    unit = 2 ** -10 if kind == "float16" else 2 ** -7  # a unit in the last place of the rounded outputs
    assert ((rows - singles).abs() <= 2 * unit * rows.abs() + 1e-6).all()  # rounding on either side of a tie
    dense = torch.cat([linear(x), other(x)], dim=-1).detach()
    exact = x @ original.T + torch.cat([linear.bias.detach(), torch.zeros(24)])
    assert (rows - dense).abs().max() < 0.01 * dense.abs().max()
    assert (rows - exact).abs().max() < (0.01 if kind == "float16" else 0.1) * exact.abs().max()


@pytest.mark.skipif(not fbgemm_half_available(), reason="fbgemm's float16 kernel needs x86 with AVX2")
def test_packed_float16_rows_are_one_row_steps_and_multiply_by_the_float16_weights():
    """fbgemm's kernel computes a pass's rows as one-token steps would (on AVX-512 bit for bit, so a tree
    pass verifies exactly what a step produces; on AVX2 its kernels for a block's last one or two rows
    sum in another order, measured about 1e-7 of the output's size), in float32 on the float16 values
    of the weights, and leaves the model's own weights alone."""
    torch.manual_seed(0)
    linear = torch.nn.Linear(96, 40, bias=True)
    other = torch.nn.Linear(96, 24, bias=False)
    original = torch.cat([linear.weight, other.weight]).detach().clone()
    fused = PackedHalfProjection([linear, other])
    assert torch.equal(torch.cat([linear.weight, other.weight]), original)
    x = torch.randn(17, 96)
    rows = torch.cat(fused(x), dim=-1)
    assert rows.dtype == torch.float32 and rows.shape == (17, 64)
    singles = torch.cat([torch.cat(fused(x[i : i + 1]), dim=-1) for i in range(17)])
    if torch.backends.cpu.get_cpu_capability() == "AVX512":
        assert torch.equal(rows, singles)
    else:
        assert (rows - singles).abs().max() <= 1e-6 * rows.abs().max()  # float16 rounding would be ~1e-3
    exact = x @ original.half().float().T + torch.cat([linear.bias.detach(), torch.zeros(24)])
    assert (rows - exact).abs().max() < 1e-5 * exact.abs().max()
    assert (rows - exact).abs().max() < (x @ original.T - exact).abs().max() + 1e-5  # rounding, not noise


def test_rows_product_multiplies_by_the_float16_rows_where_fbgemm_runs():
    torch.manual_seed(2)
    weight, x = torch.randn(300, 48), torch.randn(4, 48)
    product = rows_product(weight)(x)
    rounded = weight.half().float() if fbgemm_half_available() else weight
    assert (product - x @ rounded.T).abs().max() < 1e-5 * (x @ rounded.T).abs().max()
    assert torch.equal(rows_product(weight.double())(x.double()), x.double() @ weight.double().T)


def test_int4_keeps_a_lora_adapter_apart_and_finds_a_4_bit_base_grid_again():
    """A base already on a 4-bit grid (as weights from a Q4_1 file are) is recovered exactly, and the
    adapter's delta is kept in float32 beside it, not requantised away."""
    torch.manual_seed(1)
    levels = torch.randint(0, 16, (48, 64)).float()
    levels[:, ::32], levels[:, 1::32] = 0, 15  # every group spans the whole range, as Q4_1 groups do
    scale = (torch.rand(48, 2) * 0.01 + 2 ** -9).bfloat16().float()[..., None]  # exact in bfloat16
    base = ((levels.view(48, 2, 32) - 8) * scale + 2 ** -10).view(48, 64)  # offsets exact in bfloat16
    down, up = torch.randn(4, 64) * 0.1, torch.randn(48, 4) * 0.1
    merged = base + up @ down
    linear = torch.nn.Linear(64, 48, bias=False)
    with torch.no_grad():
        linear.weight.copy_(merged)
    fused = Int4Projection([linear], {linear: (down, up)})
    assert (linear.weight - merged).abs().max() < 1e-5  # the same weights, adapter included
    x = torch.randn(1, 64)
    assert (fused(x)[0] - x @ merged.T).abs().max() < 0.01 * (x @ merged.T).abs().max()
    plain = torch.nn.Linear(64, 48, bias=False)
    with torch.no_grad():
        plain.weight.copy_(merged)
    Int4Projection([plain])  # requantising the merged weights instead moves them
    assert (plain.weight - merged).abs().max() > 10 * (linear.weight - merged).abs().max()


def test_unsupported_families_fall_back_with_a_reason():
    from transformers import GPT2Config, GPT2LMHeadModel

    gpt2 = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=50))
    assert "gpt2" in unsupported_reason(gpt2, 512)
    lm, _ = tiny_lm("mistral")
    lm.model.config.sliding_window = 64
    assert "sliding window" in unsupported_reason(lm.model, 512)


def test_engine_uses_the_lean_runtime_with_a_merged_adapter(tmp_path):
    from peft import LoraConfig, get_peft_model

    from tests.test_server_support import build_tiny_checkpoint
    from verifrag.model.engine import Engine

    checkpoint = build_tiny_checkpoint(tmp_path)
    plain = Engine.load(checkpoint, device="cpu", dtype="float32")
    assert plain.lm.lean is not None
    assert Engine.load(checkpoint, device="cpu", dtype="float32", runtime="transformers").lm.lean is None
    ids = torch.tensor([[5, 17, 300, 9]])
    untuned = plain.lm.model(ids).logits[0, -1].detach()
    base = plain.lm.model
    torch.manual_seed(3)
    tuned = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj", "down_proj"], init_lora_weights=False))
    tuned.save_pretrained(tmp_path / "checkpoint" / "adapter")
    engine = Engine.load(checkpoint, device="cpu", dtype="float32")
    reference = engine.lm.model(ids).logits[0, -1]
    logits, _ = engine.lm.forward(ids, engine.lm.lean.new_cache(4), last_only=True)
    allowed = torch.isfinite(logits[-1])
    assert (logits[-1][allowed] - reference[allowed]).abs().max() < TOLERANCE
    assert not torch.allclose(untuned, reference)  # the adapter is really in the lean weights
    with pytest.raises(UserError, match="lean runtime"):
        Engine.load(checkpoint, device="cpu", dtype="int8", runtime="transformers")
    int4 = Engine.load(checkpoint, device="cpu", dtype="int4")  # the adapter reaches int4 as factors
    layer = int4.lm.lean.layers[0]
    assert layer.qkv._down.shape[0] == 8 and layer.down._down.shape[0] == 4  # q and v adapted; down_proj
    assert layer.out._down is None  # o_proj has no adapter


def test_auto_dtype_picks_float16_weights_on_a_cpu_and_falls_back_to_float32(tmp_path):
    from tests.test_server_support import build_tiny_checkpoint
    from verifrag.model.engine import Engine

    checkpoint = build_tiny_checkpoint(tmp_path)
    auto = Engine.load(checkpoint, device="cpu")
    assert auto.lm.lean is not None and auto.lm.lean.weight_format == "float16" and auto.lm.dtype == torch.float32
    mlp = auto.lm.model.model.layers[0].mlp
    x = torch.randn(3, mlp.down_proj.in_features)
    rounded = x @ mlp.down_proj.weight.detach().half().float().T  # every path multiplies by the float16 values
    assert (auto.lm.lean.layers[0].down(x)[0] - rounded).abs().max() < 1e-4 * rounded.abs().max()
    plain = Engine.load(checkpoint, device="cpu", runtime="transformers")  # auto: no lean, so dense float32
    assert plain.lm.lean is None and plain.lm.dtype == torch.float32
    # decoder "auto": Medusa unless tree passes run a slower path than one-token steps
    assert auto.decoder("auto").name == ("medusa" if fbgemm_half_available() else "ntp")
    assert Engine.load(checkpoint, device="cpu", dtype="int8").decoder("auto").name == "ntp"
    assert plain.decoder("auto").name == "medusa"
    assert plain.decoder("auto") is plain.decoder("medusa")  # built once: Medusa packs its draft rows
    assert auto.tree.num_nodes == 4 and Engine.load(checkpoint, device="cpu", tree_nodes=9).tree.num_nodes == 9
    with pytest.raises(UserError, match="lean runtime"):
        Engine.load(checkpoint, device="cpu", dtype="float16", runtime="transformers")


@pytest.mark.skipif(not fbgemm_half_available(), reason="only fbgemm's float16 kernel keeps its own weight copy")
def test_a_decode_only_engine_frees_the_layer_weights_and_decodes_the_same(tmp_path):
    from tests.test_server_support import build_tiny_checkpoint
    from verifrag.model.engine import Engine

    checkpoint = build_tiny_checkpoint(tmp_path)
    config = DecodeConfig(max_new_tokens=24, snap_fragments=False, stop_at_endmodule=False)
    full = Engine.load(checkpoint, device="cpu")
    lean = Engine.load(checkpoint, device="cpu", decode_only=True)
    assert full.lm.model.model.layers[0].mlp.down_proj.weight.numel() > 0
    assert all(m.weight.numel() == 0 for m in lean.lm.model.model.layers.modules() if isinstance(m, torch.nn.Linear))
    assert lean.lm.model.get_input_embeddings().weight.numel() > 0  # the lean forward reads the embedding
    for decoder in ("ntp", "medusa"):
        prompt = "module m(input a);"
        assert lean.generate(prompt, decoder, config).token_ids == full.generate(prompt, decoder, config).token_ids
    float32 = Engine.load(checkpoint, device="cpu", dtype="float32", decode_only=True)  # reads the model's own
    assert float32.lm.model.model.layers[0].mlp.down_proj.weight.numel() > 0


@pytest.mark.slow
def test_the_default_model_matches_transformers():
    from verifrag.model.engine import Engine

    engine = Engine.load(device="cpu", dtype="float32")
    lm = engine.lm
    assert lm.lean is not None
    hf = LanguageModel(lm.model, lm.tokenizer, banned_ids=lm.banned_ids)
    ids = torch.tensor([lm.tokenizer("module counter(input clk, input rst, output reg [3:0] q);\n")["input_ids"]])
    hf_cache = DynamicCache(config=lm.model.config)
    _both(hf, lm, hf_cache, lm.lean.new_cache(64), ids)
