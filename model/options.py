"""The `--dtype` and decoder choices every model-loading command and the server settings share, in a
module light enough for `--help` to import without torch."""

from __future__ import annotations

DECODERS = ("auto", "ntp", "medusa", "hybrid")
DTYPES = ("auto", "float32", "bfloat16", "float16", "int8", "int4")

DTYPE_HELP = (
    "auto (the default: float16 weights on a CPU for Llama/Qwen2/Mistral models, else float32; bfloat16 on "
    "CUDA), float32, bfloat16, float16 (on a CPU: float16 weights, float32 activations, over a float32 model), "
    "int8 (int8 weights, bfloat16 activations; CPU), int4 (4-bit weights in groups of 32, bfloat16 "
    "activations; CPU). benchmarks/weight_formats.md has each one's speed and agreement with float32"
)
