"""`verifrag generate`: one prompt in, generated Verilog out (or one JSON object with `--json`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from verifrag.errors import UserError
from verifrag.model.options import DTYPE_HELP, DTYPES

JSON_KEYS = ("text", "new_tokens", "steps", "mean_accepted", "frag_discarded", "seconds", "tokens_per_s", "decoder")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--prompt", help=r"prompt text to continue; the escapes \n and \t are expanded (see "
                                         "--literal); its last token is handed back to the model (token healing), "
                                         "so a prompt may end anywhere, even inside a word")
    source.add_argument("--prompt-file", type=Path, help="read the prompt from this file, verbatim (healed as --prompt)")
    source.add_argument("--spec", help="describe the module in words: the model is asked for a whole module "
                                       "`TopModule` the way eval and the editor's generate-module command ask; "
                                       "a module left open (token limit, repetition loop) is cut after its last "
                                       "whole statement and closed")
    source.add_argument("--spec-file", type=Path, help="read the module description from this file")
    parser.add_argument("--literal", action="store_true", help=r"do not expand \n and \t in --prompt or --spec")
    parser.add_argument("--decoder", choices=("ntp", "medusa", "hybrid"), default="medusa", help="default: medusa")
    parser.add_argument("--max-new-tokens", type=int, default=256, metavar="N", help="default: 256")
    parser.add_argument("--checkpoint", type=Path, help="checkpoint directory (default: the bundled one)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, mps (default: auto)")
    parser.add_argument("--dtype", default="auto", choices=DTYPES, help=DTYPE_HELP)
    parser.add_argument("--temperature", type=float, default=0.0,
                        help="0 (default) decodes greedily; above 0 samples (typical acceptance for medusa)")
    parser.add_argument("--top-p", type=float, default=0.95, help="nucleus sampling bound (default: 0.95)")
    parser.add_argument("--seed", type=int, help="random seed for sampling")
    parser.add_argument("--tree-nodes", type=int, metavar="N",
                        help="rebuild the candidate tree with N nodes from the checkpoint's head statistics")
    parser.add_argument("--no-snap", action="store_true", help="do not cut steps back to fragment boundaries")
    parser.add_argument("--stop", choices=("line", "statement"), help="also stop at the end of a line or statement")
    parser.add_argument("--no-endmodule-stop", action="store_true", help="do not stop at the closing endmodule or in a repetition loop")
    parser.add_argument("--json", action="store_true", help="print one JSON object with text and statistics")


def _prompt(args: argparse.Namespace) -> str:
    """The prompt text, or with --spec/--spec-file the module description."""
    path = args.prompt_file if args.prompt_file is not None else args.spec_file
    if path is not None:
        try:
            return path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise UserError(f"cannot read prompt file {path}: {exc.strerror}") from exc
    text = args.prompt if args.prompt is not None else args.spec
    return text if args.literal else text.replace("\\n", "\n").replace("\\t", "\t")


def run(args: argparse.Namespace) -> int:
    prompt = _prompt(args)
    if not prompt.strip():
        raise UserError("the prompt is empty")
    if args.max_new_tokens < 1:
        raise UserError("--max-new-tokens must be at least 1")
    if args.temperature < 0:
        raise UserError("--temperature must not be negative")
    if args.tree_nodes is not None and args.tree_nodes < 0:
        raise UserError("--tree-nodes must not be negative")
    if args.checkpoint is not None:
        from verifrag.model.checkpoint_config import check_checkpoint

        check_checkpoint(args.checkpoint)  # before torch loads: a bad checkpoint is a one-line error at once

    from verifrag.model.engine import Engine
    from verifrag.model.prompting import module_prompt, module_text
    from verifrag.model.sampling import DecodeConfig
    from verifrag.model.stopping import NAMED_RULES

    engine = Engine.load(args.checkpoint, device=args.device, dtype=args.dtype, tree_nodes=args.tree_nodes,
                         decode_only=True)
    spec = args.spec is not None or args.spec_file is not None
    config = DecodeConfig(
        max_new_tokens=args.max_new_tokens,
        sampling=args.temperature > 0,
        temperature=args.temperature or 1.0,
        top_p=args.top_p,
        snap_fragments=not args.no_snap,
        stop_at_endmodule=not args.no_endmodule_stop,
        stop_rule=NAMED_RULES[args.stop] if args.stop else None,
        heal_prompt=not spec,  # a prompt to continue may end anywhere; a spec's prompt ends where we end it
        seed=args.seed,
    )
    start = ""
    if spec:
        prompt, start = module_prompt(prompt, engine.lm.tokenizer)
    result = engine.generate(prompt, args.decoder, config)
    text = module_text(start, result.text) if spec else result.text
    stats = result.stats
    if stats.truncated_prompt_tokens:
        print(f"verifrag generate: note: prompt cut by {stats.truncated_prompt_tokens} tokens from the left "
              f"to fit the {engine.lm.context_length}-token context", file=sys.stderr)
    if args.json:
        payload = {"text": text, **{k: v for k, v in stats.as_dict().items() if k in JSON_KEYS}}
        payload.update(stop_reason=result.stop_reason, per_head_acceptance=stats.per_head_acceptance,
                       prompt_tokens=stats.prompt_tokens, truncated_prompt_tokens=stats.truncated_prompt_tokens)
        print(json.dumps(payload))
    else:
        sys.stdout.write(text + "\n")
        print(f"[{stats.decoder}] {stats.new_tokens} tokens in {stats.seconds:.2f} s "
              f"({stats.tokens_per_s:.1f} tokens/s), {stats.mean_accepted:.2f} per step, "
              f"{stats.frag_discarded} fragment discards, stop: {result.stop_reason}", file=sys.stderr)
    return 0
