"""Prompts that ask a model for one whole Verilog module from a specification.

Instruction-tuned bases (SmolLM2-Instruct, Qwen2-Instruct) answer better inside their chat template; a
plain causal LM gets the spec as a comment. Either way the answer is started with `module <Name>`, so
even a small model writes Verilog, and the decoder's `endmodule` rule ends it.
"""

from __future__ import annotations

import re

from transformers import PreTrainedTokenizerBase

SYSTEM = "You are an expert digital designer. Answer with synthesizable Verilog only."


# A port line of a specification: " - input  clk", " - output q (8 bits)", as VerilogEval and
# `train sft --interface-prompts` list them.
_PORT_LINE = re.compile(r"^\s*-\s*(input|output|inout)\s+([A-Za-z_]\w*)\s*(?:\((\d+)\s*bits?\))?\s*$")


def spec_header(spec: str, module_name: str = "TopModule") -> str | None:
    """The module header a specification's port list asks for ("- input d (8 bits)" lines), ending
    after `);`; None when the spec lists no ports. Outputs are declared `reg`, which under
    SystemVerilog rules (iverilog -g2012) an `assign` may drive as well as an `always` block."""
    ports = []
    for line in spec.splitlines():
        found = _PORT_LINE.match(line)
        if found:
            direction, name, width = found.group(1), found.group(2), int(found.group(3) or 1)
            kind = " reg" if direction == "output" else ""
            vector = f" [{width - 1}:0]" if width > 1 else ""
            ports.append(f"    {direction}{kind}{vector} {name}")
    if not ports:
        return None
    return f"module {module_name} (\n" + ",\n".join(ports) + "\n);\n"


def module_prompt(
    spec: str, tokenizer: PreTrainedTokenizerBase, module_name: str = "TopModule", header_from_spec: bool = False
) -> tuple[str, str]:
    """(prompt text, the start of the answer already written into it). The completion a caller shows
    is that start followed by the generated text. With `header_from_spec`, a spec that lists its ports
    gets the whole header written from them, so the model writes only the body."""
    start = (spec_header(spec, module_name) if header_from_spec else None) or f"module {module_name}"
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
    fence that chat-tuned models write after `endmodule` (the fence is not Verilog)."""
    return start + generated.split("```", 1)[0]
