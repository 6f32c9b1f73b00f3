"""Module generation from a comment block: find the comment, prompt, decode to `endmodule`, check.

The model is tiny, so the prompt does not only ask for a module, it starts one: the comment's text as
the specification (inside the chat template when the model has one, `model.prompting`), then
`module <name>`. A bare comment followed by `module ` made SmolLM2-135M write one long identifier;
the chat-template prompt does better. The name is the one the comment gives (`module foo`, or a word in
backquotes) or `top`. The decoder's `endmodule` rule ends the answer, and pyslang says whether the
result parses; the caller inserts it either way and says which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from verifrag.server.config import ServerConfig
from verifrag.server.documents import Lines
from verifrag.server.model_worker import CancelToken
from verifrag.syntax.diagnostics import parse_diagnostics

if TYPE_CHECKING:
    from verifrag.model.engine import Engine
    from verifrag.model.results import DecodeStats

_COMMENT_LINE = re.compile(r"^\s*(//|/\*|\*)")
_BLOCK_END = re.compile(r"\*/\s*$")


@dataclass(frozen=True)
class CommentBlock:
    first_line: int
    last_line: int
    text: str  # the comment lines as written


@dataclass(frozen=True)
class GeneratedModule:
    text: str
    parses: bool
    errors: list[str]
    stop_reason: str
    stats: "DecodeStats"


def _is_comment(line: str) -> bool:
    return bool(_COMMENT_LINE.match(line) or _BLOCK_END.search(line))


def comment_block(text: str, line: int) -> CommentBlock | None:
    """The block of comment lines containing `line`, or ending just above it (the cursor may sit on
    the empty line below the comment); None when there is none."""
    lines = Lines.of(text)
    count = len(lines.starts)
    if not 0 <= line < count:
        return None
    if not _is_comment(lines.line_text(line)):
        if line == 0 or not _is_comment(lines.line_text(line - 1)):
            return None
        line -= 1
    first = last = line
    while first > 0 and _is_comment(lines.line_text(first - 1)):
        first -= 1
    while last + 1 < count and _is_comment(lines.line_text(last + 1)):
        last += 1
    block = "\n".join(lines.line_text(n) for n in range(first, last + 1))
    return CommentBlock(first, last, block)


_COMMENT_MARK = re.compile(r"^\s*(//+|/\*+|\*+/?)\s?")
_NAMED = re.compile(r"\bmodule\s+`?([A-Za-z_][A-Za-z0-9_$]*)|`([A-Za-z_][A-Za-z0-9_$]*)`")


def specification(block: CommentBlock) -> str:
    """The comment's words without comment markers."""
    lines = [_COMMENT_MARK.sub("", line).replace("*/", "").rstrip() for line in block.text.splitlines()]
    return "\n".join(lines).strip()


def module_name(spec: str) -> str:
    match = _NAMED.search(spec)
    return next(group for group in match.groups() if group) if match else "top"


def generate_module(
    engine: "Engine",
    block: CommentBlock,
    config: ServerConfig,
    token: CancelToken,
    on_text: Callable[[int], None],
) -> GeneratedModule:
    """Decode one module (runs on the model thread); `on_text` hears the length so far, for progress."""
    from verifrag.model.prompting import module_prompt

    def watch(generated: str) -> int | None:
        on_text(len(generated))
        return None

    # the setting may exceed what the model's context can hold; half the context is left for the prompt
    decode = config.decode_config(min(config.module_max_new_tokens, engine.lm.context_length // 2), token.stop_rule(watch))
    spec = specification(block)
    prompt, start = module_prompt(spec, engine.lm.tokenizer, module_name(spec))
    result = engine.generate(prompt, config.decoder, decode)
    module = (start + result.text).rstrip().removesuffix("```").rstrip()
    problems = parse_diagnostics(module, "generated.v")
    errors = [f"{d.line + 1}:{d.column + 1}: {d.message}" for d in problems if d.severity == "error"]
    return GeneratedModule(module, not errors, errors, result.stop_reason, result.stats)
