#!/usr/bin/env bash
# The GPU figures in benchmarks/: the decoding speed table, and the default checkpoint's n=10,
# temperature-0.8 VerilogEval samples for next-token and Medusa + fragment decoding.
# Run from the repository root on a CUDA machine with verifrag and the default model installed:
#   bash benchmarks/gpu_figures.sh bench   OUT PROBLEMS          speed table and plots in OUT/bench
#   bash benchmarks/gpu_figures.sh sampled OUT PROBLEMS SECONDS  generate, or resume, the samples in OUT,
#                                                                stopping after SECONDS
# Judging needs iverilog, which a GPU machine may lack: judge each OUT/<decoder>_t0.8.samples.jsonl
# afterwards with `verifrag eval --problems PROBLEMS --samples FILE --k 1,5`.
set -euo pipefail
stage=$1 out=$2 problems=$3
mkdir -p "$out"

case $stage in
bench)
    verifrag bench --problems "$problems" --limit 10 --max-new-tokens 64 --repeats 2 --out "$out/bench"
    ;;
sampled)
    # Both decoders side by side with 7 worker processes each (16 cores), so that both cover the same
    # problems when time runs out; a rerun resumes from the saved samples.
    for decoder in ntp medusa; do
        timeout "$4" verifrag eval --problems "$problems" --checkpoint model/default_checkpoint \
            --decoder "$decoder" --n 10 --temperature 0.8 --max-new-tokens 256 --gen-workers 7 \
            --generate-only --output "$out/${decoder}_t0.8" \
            || echo "gpu_figures: $decoder stopped after $4 s (rerun to resume)" &
    done
    wait
    ;;
*)
    echo "usage: $0 bench|sampled OUT PROBLEMS [SECONDS]" >&2
    exit 2
    ;;
esac
