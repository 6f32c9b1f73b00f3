"""Prompts that ask a model for one whole Verilog module from a specification.

Instruction-tuned bases (SmolLM2-Instruct, Qwen2-Instruct) answer better inside their chat template; a
plain causal LM gets the spec as a comment. Either way the answer is started with `module <Name>`, so
even a small model writes Verilog, and the decoder's `endmodule` rule ends it.
"""

from __future__ import annotations

from transformers import PreTrainedTokenizerBase

from verifrag.syntax.closing import close_module

SYSTEM = "You are an expert digital designer. Answer with synthesizable Verilog only."
# The module every generation asks for by default, and the name the tuning data gives its answers.
TOP_MODULE = "TopModule"


def module_prompt(spec: str, tokenizer: PreTrainedTokenizerBase, module_name: str = TOP_MODULE) -> tuple[str, str]:
    """(prompt text, the start of the answer already written into it). The completion a caller shows
    is that start followed by the generated text."""
    start = f"module {module_name}"
    if getattr(tokenizer, "chat_template", None):
        messages = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": spec.strip()},
        ]
        head = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return f"{head}```verilog\n{start}", start
    comment = "\n".join(f"// {line}".rstrip() for line in spec.strip().splitlines())
    return f"{comment}\n{start}", start


def module_text(start: str, generated: str) -> str:
    """The module a caller shows: the answer's start plus the generated text, up to the closing code
    fence that chat-tuned models write after `endmodule` (the fence is not Verilog). A module the model
    left open (token limit, repetition loop) is cut after its last whole statement and closed."""
    return close_module(start + generated.split("```", 1)[0])
