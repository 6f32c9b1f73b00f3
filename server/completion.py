"""What the model is asked at a cursor, and how its answer is made fit to show.

The prompt is the text before the cursor from a *stable* start: a line that is a multiple of
`ANCHOR_LINES` lines from the top, the earliest such line whose text fits the token budget. Typing moves
only the end of the prompt, so consecutive requests share a long token prefix and the engine's prefix
KV cache serves it; the start jumps forward in steps of `ANCHOR_LINES` lines only when the budget overflows,
and then the whole prompt is computed again (about 2 s for 800 tokens on one core).

The answer is cut at the end of the statement (automatic trigger) or of the block (invoked), trimmed of
text that merely repeats what already follows the cursor, and re-indented with the file's indentation.
The prompt pass also verifies a draft copied from the document after the cursor's last tokens' earlier
occurrence, and so does each next-token step that finds one: a statement the file already holds in some
form often comes out of that one pass.
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from verifrag.model.stopping import end_of_statement
from verifrag.server.config import ServerConfig
from verifrag.server.documents import Lines, indent_unit
from verifrag.server.model_worker import CancelToken
from verifrag.syntax.fragments import FragmentKind, fragments, is_complete

if TYPE_CHECKING:
    from verifrag.model.engine import Engine
    from verifrag.model.results import DecodeStats

# 64 lines of Verilog are roughly half the default 1,024-token budget, so a jump keeps about half of it:
# jumps come half as often as with 32 lines and the prompts recomputed hold fewer tokens. On the typing
# replay: 3 jumps instead of 6, 3,847 instead of 6,879 prompt tokens computed, p95 536 against 777 ms
# (a throwaway replay script, ninth session); the prompt then holds 64 lines less than the budget allows, at worst.
ANCHOR_LINES = 64
MAX_COUNTS = 6
# Tokens drafted from the document: by the prompt pass (`DecodeConfig.prefill_lookup`) and by each
# next-token step that finds a match (`step_lookup`). Side by side on the typing replay with next-token
# decoding (benchmarks/ghost_text_replay.py, docs/decoding.md): p50 280 ms without drafts, 210 with 8 in
# the prompt pass, 194 with 4 more a step (p95 615, 732, 540); 12 and 6 did no better in earlier runs.
PREFILL_LOOKUP_TOKENS = 8
STEP_LOOKUP_TOKENS = 4
_OPENERS = {"begin", "case", "casex", "casez", "fork", "function", "task", "generate"}
_CLOSERS = {"end", "endcase", "join", "join_any", "join_none", "endfunction", "endtask", "endgenerate"}


@dataclass(frozen=True)
class Context:
    prompt: str  # text before the cursor, from a stable line start
    after: str  # text after the cursor
    indent: str  # the file's indentation step


@dataclass(frozen=True)
class Suggestion:
    text: str
    stats: "DecodeStats"
    latency_ms: float


def cursor_context(text: str, offset: int, budget_tokens: int, count_tokens: Callable[[str], int],
                   anchor_lines: int = ANCHOR_LINES) -> Context:
    """The prompt for a cursor at str `offset`; `count_tokens` measures the budget in model tokens.

    The characters-per-token ratio of the text just before the cursor says roughly how far back the
    budget reaches; from the anchor line there, at most `MAX_COUNTS` anchors are measured, so a 10 MB
    file costs no more than a small one.
    """
    before = text[:offset]
    lines = Lines.of(before)
    cursor_line = len(lines.starts) - 1
    sample = before[-budget_tokens * 4 :]
    chars_per_token = len(sample) / max(1, count_tokens(sample))
    earliest = offset - int(budget_tokens * chars_per_token * 1.1)
    first = -(-bisect.bisect_left(lines.starts, earliest) // anchor_lines) * anchor_lines
    last = cursor_line // anchor_lines * anchor_lines
    anchors = [*range(first, last, anchor_lines)][:MAX_COUNTS - 1] + [last]
    start = lines.starts[cursor_line]
    for anchor in anchors:
        if count_tokens(before[lines.starts[anchor] :]) <= budget_tokens:
            start = lines.starts[anchor]
            break
    # A cursor line longer than the budget still works: the engine cuts the prompt from the left.
    return Context(before[start:], text[offset:], indent_unit(text))


def end_of_block(generated: str) -> int | None:
    """Fires after the statement or block that the generated text starts: a `;` outside brackets and
    blocks, or the keyword closing the block it opened (or the one around the cursor)."""
    depth = brackets = 0
    opened = False
    for fragment in fragments(generated):
        word = fragment.text
        if word in ("(", "[", "{"):
            brackets += 1
        elif word in (")", "]", "}"):
            brackets -= 1
        elif fragment.kind == FragmentKind.KEYWORD and word in _OPENERS:
            depth += 1
            opened = True
        elif fragment.kind == FragmentKind.KEYWORD and word in _CLOSERS:
            depth -= 1
            if depth <= 0 and fragment.end < len(generated):  # `end` may still grow into `endcase`
                return fragment.end
        elif word == ";" and depth <= 0 and brackets <= 0 and not opened:
            return fragment.end
    return None


def _drop_overlap(completion: str, after: str) -> str:
    """Remove the longest tail of `completion` that the rest of the cursor's line already starts with
    (`b);` typed before `);` becomes `b`)."""
    rest = after.split("\n", 1)[0].rstrip()
    for size in range(min(len(rest), len(completion)), 0, -1):
        if completion.endswith(rest[:size]):
            return completion[: len(completion) - size]
    return completion


def _reindent(completion: str, indent: str) -> str:
    """Lines after the first keep their depth but use the file's indentation step (tabs or n spaces)."""
    lines = completion.split("\n")
    model_step = indent_unit(completion) if len(lines) > 1 else indent
    if model_step == indent:
        return completion
    out = [lines[0]]
    for line in lines[1:]:
        stripped = line.lstrip(" \t")
        leading = line[: len(line) - len(stripped)].replace("\t", model_step)
        depth, extra = divmod(len(leading), len(model_step))
        out.append(indent * depth + " " * extra + stripped)
    return "\n".join(out)


def _trim_end(completion: str, prompt: str) -> str:
    """Drop trailing whitespace unless it is what ends the last fragment (`late ` is complete, `late`
    could still grow into `latest`): then keep one whitespace character."""
    stripped = completion.rstrip()
    if stripped == completion or is_complete(prompt + stripped):
        return stripped
    return completion[: len(stripped) + 1]


def finish(completion: str, context: Context) -> str:
    """The text to show, or '' when nothing is left that the file does not already contain."""
    completion = _reindent(_trim_end(completion, context.prompt), context.indent)
    completion = _drop_overlap(completion, context.after)
    if not completion.strip():
        return ""
    if context.after.lstrip().startswith(completion.strip()):
        return ""  # the suggestion only repeats what follows the cursor
    return completion


def suggest(engine: "Engine", context: Context, config: ServerConfig, invoked: bool, token: CancelToken) -> Suggestion:
    """Decode one suggestion (runs on the model thread)."""
    started = time.perf_counter()
    if not context.prompt.strip():
        return Suggestion("", _empty_stats(config.decoder), 0.0)
    decode = config.decode_config(
        config.max_new_tokens * (4 if invoked else 1), token.stop_rule(end_of_block if invoked else end_of_statement),
        heal_prompt=True, prefill_lookup=PREFILL_LOOKUP_TOKENS, step_lookup=STEP_LOOKUP_TOKENS,
    )
    result = engine.generate(context.prompt, config.decoder, decode, short_output=not invoked)
    text = "" if token.cancelled else finish(result.text, context)
    return Suggestion(text, result.stats, (time.perf_counter() - started) * 1000)


def _empty_stats(decoder: str) -> "DecodeStats":
    from verifrag.model.results import DecodeStats

    return DecodeStats(decoder=decoder)
