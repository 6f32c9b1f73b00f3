"""`verifrag eval`: pass@k on VerilogEval-layout problems, judged with iverilog in the sandbox; or, with
`--next-line`, next-line completion (RTL-Repo metric) and `--perplexity` on the user's own files."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from verifrag.model.options import DTYPE_HELP, DTYPES

RUNS = Path("runs")
"""Where results go when the user names no file: git-ignored in the checkout, never beside their data."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--problems", metavar="DIR", help="VerilogEval-v2-layout problem folder")
    parser.add_argument("--next-line", metavar="PATH",
                        help="instead of --problems: next-line completion on a directory of .v/.sv files or a corpus "
                             ".jsonl (id, text): exact match and edit similarity (model: --checkpoint, default the "
                             "bundled one; resumable with --output FILE.jsonl)")
    parser.add_argument("--perplexity", action="store_true", help="with --next-line: also the files' perplexity")
    parser.add_argument("--seed", type=int, default=0, help="with --next-line: seed of the cut lines (default 0)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--samples", metavar="FILE.jsonl", help='one {"task_id", "completion"} object a line')
    source.add_argument("--checkpoint", metavar="DIR", help="generate samples with this checkpoint")
    parser.add_argument("--n", type=int, default=1, help="samples per problem when generating (default 1)")
    parser.add_argument("--temperature", type=float, default=0.0, help="sampling temperature when generating")
    parser.add_argument("--decoder", choices=("ntp", "medusa", "hybrid"), default="medusa", help="decoder when generating")
    parser.add_argument("--max-new-tokens", type=int, default=1024, help="token budget per sample when generating")
    parser.add_argument("--dtype", default="auto", choices=DTYPES, help=DTYPE_HELP)
    parser.add_argument("--gen-workers", type=int, default=1, metavar="N",
                        help="processes generating samples, each with its own copy of the model (default 1; "
                             "on a GPU a few keep a small model busy)")
    parser.add_argument("--generate-only", action="store_true",
                        help="write FILE.samples.jsonl (see --output) and stop; judge later with --samples (e.g. on a "
                             "machine with iverilog)")
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N problems (sorted by id)")
    parser.add_argument("--k", default="1", metavar="1,5,10", help="comma-separated k values for pass@k")
    parser.add_argument("--workers", type=int, default=None, metavar="N", help="parallel judges (default: CPU count)")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="S",
                        help="simulation limit per sample in CPU seconds (a wall-clock backstop is 10x that)")
    parser.add_argument("--no-isolation", action="store_true",
                        help="UNSAFE: run iverilog/vvp without bubblewrap/unshare isolation "
                             "(screening and limits stay)")
    parser.add_argument("--output", metavar="FILE",
                        help="write the JSON report here; generated samples (FILE.samples.jsonl) and judgements "
                             "(FILE.results.jsonl) go beside it, and a rerun reuses both")
    parser.add_argument("--no-cache", action="store_true",
                        help="judge every sample afresh: neither read nor write the judgement cache. By default each "
                             "judgement is cached (keyed by task, sample position and a hash of the completion) in "
                             "FILE.results.jsonl with --output, else in runs/eval/ under the current directory, one "
                             "file per samples file and problems folder; a rerun judges only what changed")
    parser.add_argument("--json", action="store_true", help="print the JSON report")


def _ks(text: str) -> tuple[int, ...]:
    from verifrag.errors import UserError

    try:
        ks = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError:
        raise UserError(f"--k must be comma-separated integers, got {text!r}") from None
    if not ks or ks[0] < 1:
        raise UserError("--k values must be 1 or more")
    return ks


def _default_cache(samples: Path, problems: Path) -> Path:
    """The judgement cache for `samples` judged against `problems` when no --output is given: one file per
    pair under runs/eval/, so judgements against another problems folder are never reused."""
    key = hashlib.sha256(f"{samples.resolve()}\0{problems.resolve()}".encode()).hexdigest()[:12]
    return RUNS / "eval" / f"{samples.stem}-{key}.results.jsonl"


def _failure_summary(kinds: dict[str, int]) -> str:
    """`compile_error 120, mismatch 30` for the plain report; most frequent first."""
    return ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items(), key=lambda item: (-item[1], item[0])))


def _generated(args: argparse.Namespace, problems: dict, saved: Path | None) -> list[tuple[str, str]]:
    """`--n` samples per problem at `--temperature`, in problem order. With a `saved` file, samples it
    already holds are reused and each new one is appended as soon as it exists."""
    import sys

    from verifrag.evaluation.samples import GenerationLog
    from verifrag.model.generation import SampleRequest, SampleSettings, generate_samples

    order = [(task_id, index) for task_id in problems for index in range(args.n)]
    with GenerationLog(saved, order) as log:
        if log.reused:
            print(f"verifrag eval: reusing {log.reused} samples from {saved}", file=sys.stderr)
        requests = [SampleRequest(t, i, problems[t].prompt) for t, i in log.missing()]
        settings = SampleSettings(args.decoder, args.temperature, args.max_new_tokens)
        for request, completion in generate_samples(requests, settings, checkpoint=args.checkpoint,
                                                    dtype=args.dtype, workers=args.gen_workers):
            log.add(request.task_id, request.index, completion)
    return log.in_order()


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from verifrag.errors import UserError
    from verifrag.evaluation.problems import load_problems
    from verifrag.evaluation.samples import read_samples

    if args.next_line:
        return _run_next_line(args)
    if not args.problems or not (args.samples or args.checkpoint):
        raise UserError("give --problems DIR with --samples FILE or --checkpoint DIR (or --next-line PATH)")
    ks = _ks(args.k)
    directory = Path(args.problems)
    if not directory.is_dir():
        raise UserError(f"problems folder not found: {directory}")
    if args.workers is not None and args.workers < 1:
        raise UserError("--workers must be 1 or more")
    if args.n < 1 or args.gen_workers < 1:
        raise UserError("--n and --gen-workers must be 1 or more")
    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be 1 or more")
    if args.timeout <= 0:
        raise UserError("--timeout must be positive")
    output = Path(args.output) if args.output else None
    if args.generate_only and not (args.checkpoint and output):
        raise UserError("--generate-only needs --checkpoint and --output FILE (the samples go to FILE.samples.jsonl)")
    if args.checkpoint:
        from verifrag.model.checkpoint_config import check_checkpoint

        check_checkpoint(args.checkpoint)  # before torch loads
    problems = load_problems(directory)
    if args.limit is not None:
        problems = dict(list(problems.items())[: args.limit])
    if not problems:
        raise UserError(f"no ProbNNN_name_{{prompt.txt,ref.sv,test.sv}} problems in {directory}")
    if args.samples:
        samples_path = Path(args.samples)
        samples = list(read_samples(samples_path))
        if not samples:
            raise UserError(f"samples file {samples_path} holds no samples")
        if not any(task_id in problems for task_id, _ in samples):
            raise UserError(f"none of the {len(samples)} samples in {samples_path} names a problem of {directory} "
                            f"(first task_id: {samples[0][0]!r}; expected e.g. {next(iter(problems))!r})")
        cache = Path(f"{output}.results.jsonl") if output else _default_cache(samples_path, directory)
    else:
        saved = Path(f"{output}.samples.jsonl") if output else None
        samples = _generated(args, problems, saved)
        if args.generate_only:
            print(f"{len(samples)} samples for {len(problems)} problems in {saved}")
            return 0
        cache = Path(f"{output}.results.jsonl") if output else None
    if args.no_cache:
        cache = None
    elif cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)

    from verifrag.evaluation.runner import evaluate
    from verifrag.simulation.sandbox import Limits

    report = evaluate(problems, samples, ks=ks, workers=args.workers, cache_path=cache,
                      limits=Limits(run_seconds=args.timeout, isolate=not args.no_isolation),
                      progress=sys.stderr.isatty()).to_json()
    text = json.dumps(report, indent=2)
    if output:
        output.write_text(text + "\n")
    if args.json:
        print(text)
    else:
        for k, value in report["pass_at"].items():
            print(f"pass@{k}: {value:.4f}")
        print(f"syntax valid: {report['syntax_valid']:.4f} over {report['samples']} samples, {report['problems']} problems")
        if report["failure_kinds"]:
            print(f"failures: {_failure_summary(report['failure_kinds'])}")
        if report["simulator_limited"]:
            print(f"simulator-limited (iverilog 11 cannot run the reference): {', '.join(report['simulator_limited'])}")
        if report["unknown_tasks"]:
            print(f"ignored: {len(report['unknown_tasks'])} task_id values name no problem of {directory}")
    if cache is not None:
        print(f"verifrag eval: judgements cached in {cache} (--no-cache to judge afresh)", file=sys.stderr)
    return 0


def _run_next_line(args: argparse.Namespace) -> int:
    """Next-line exact match / edit similarity (and perplexity) over the files under --next-line."""
    import json

    from verifrag.errors import UserError
    from verifrag.evaluation.next_line import make_task, perplexity, read_sources, run_next_line, summarize
    from verifrag.model.engine import Engine

    if args.problems or args.samples:
        raise UserError("--next-line takes no --problems or --samples")
    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be 1 or more")
    sources = read_sources(args.next_line)[: args.limit]
    tasks = [task for task in (make_task(source, args.seed) for source in sources) if task is not None]
    if not tasks:
        raise UserError(f"no file with a code line to cut under {args.next_line}")
    engine = Engine.load(args.checkpoint, dtype=args.dtype)
    output = Path(args.output) if args.output else None
    results = list(run_next_line(engine, tasks, args.decoder, output))
    report = {"next_line": summarize(results), "seed": args.seed, "decoder": args.decoder}
    if args.perplexity:
        report["perplexity"] = perplexity(engine, sources)
    text = json.dumps(report, indent=None if args.json else 2)
    print(text)
    return 0
