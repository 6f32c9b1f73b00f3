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

_COMMENT_LINE = re.compile(r"^\s*(//|/\*|\*)")
_BLOCK_END = re.compile(r"\*/\s*$")


@dataclass(frozen=True)
class CommentBlock:
    first_line: int
    last_line: int
    text: str  # the comment lines as written


@dataclass(frozen=True)
class ModulePrompt:
    text: str  # what the model reads
    start: str  # the start of the module, already written into `text`
    max_new_tokens: int
    note: str | None  # says so when the comment was cut to fit


@dataclass(frozen=True)
class Part:
    """One stretch of decoding; generation stops at an inline completion's request and continues after."""

    text: str
    stop_reason: str
    new_tokens: int
    preempted: bool


@dataclass(frozen=True)
class GeneratedModule:
    text: str
    parses: bool
    errors: list[str]
    stop_reason: str
    new_tokens: int


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


def build_prompt(engine: "Engine", block: CommentBlock, config: ServerConfig) -> ModulePrompt:
    """The prompt for one module, with the specification cut to `config.context_tokens` tokens: a 100 KB
    comment would otherwise make an 8,000-token prompt that takes minutes and gigabytes to run."""
    from verifrag.model.prompting import module_prompt

    tokenizer = engine.lm.tokenizer
    spec = specification(block)
    ids = tokenizer(spec, add_special_tokens=False)["input_ids"]
    note = None
    if len(ids) > config.context_tokens:
        spec = tokenizer.decode(ids[: config.context_tokens])
        note = f"the comment has {len(ids)} tokens; the prompt uses its first {config.context_tokens} (contextTokens)"
    text, start = module_prompt(spec, tokenizer, module_name(spec))
    # the setting may exceed what the model's context can hold; half the context is left for the prompt
    return ModulePrompt(text, start, min(config.module_max_new_tokens, engine.lm.context_length // 2), note)


def decode_part(
    engine: "Engine",
    prompt: str,
    max_new_tokens: int,
    config: ServerConfig,
    token: CancelToken,
    preempt: Callable[[], bool],
    on_text: Callable[[str], None],
) -> Part:
    """Decode until the module ends, the budget is spent, the token is cancelled, or `preempt()` says an
    inline completion is waiting (runs on the model thread); `on_text` hears the text so far."""
    preempted = [False]

    def watch(generated: str) -> int | None:
        on_text(generated)
        if preempt():
            preempted[0] = True
            return len(generated)
        return None

    result = engine.generate(prompt, config.decoder, config.decode_config(max_new_tokens, token.stop_rule(watch)))
    return Part(result.text, result.stop_reason, result.stats.new_tokens, preempted[0] and not token.cancelled)


def finish(prompt: ModulePrompt, generated: str, stop_reason: str, new_tokens: int) -> GeneratedModule:
    """The module as inserted, and whether pyslang parses it."""
    from verifrag.model.prompting import module_text

    module = module_text(prompt.start, generated).rstrip()
    problems = parse_diagnostics(module, "generated.v")
    errors = [f"{d.line + 1}:{d.column + 1}: {d.message}" for d in problems if d.severity == "error"]
    return GeneratedModule(module, not errors, errors, stop_reason, new_tokens)
