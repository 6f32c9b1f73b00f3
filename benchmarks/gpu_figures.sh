#!/usr/bin/env bash
# The GPU figures in benchmarks/: the decoding speed table and the VerilogEval samples of the default
# checkpoint (NTP and Medusa + fragments; greedy n=1, then n=10 at temperature 0.8).
# Run from the repository root on a CUDA machine with verifrag and the default model installed:
#   bash benchmarks/gpu_figures.sh bench   OUT PROBLEMS          speed table and plots in OUT/bench
#   bash benchmarks/gpu_figures.sh samples OUT PROBLEMS SECONDS  generate, or resume, the samples in OUT,
#                                                                stopping after SECONDS
# Judging needs iverilog, which a GPU machine may lack: judge each OUT/<run>.samples.jsonl afterwards
# with `verifrag eval --problems PROBLEMS --samples OUT/<run>.samples.jsonl --k 1,5`.
set -euo pipefail
stage=$1 out=$2 problems=$3
mkdir -p "$out"

samples() {  # samples RUN SECONDS WORKERS DECODER N TEMPERATURE
    timeout "$2" verifrag eval --problems "$problems" --checkpoint model/default_checkpoint \
        --decoder "$4" --n "$5" --temperature "$6" --max-new-tokens 256 --gen-workers "$3" \
        --generate-only --output "$out/$1" || echo "gpu_figures: $1 stopped after $2 s (rerun to resume)"
}

case $stage in
bench)
    verifrag bench --problems "$problems" --limit 10 --max-new-tokens 64 --repeats 2 --out "$out/bench"
    ;;
samples)
    budget=$4 started=$SECONDS
    left() { echo $((budget - (SECONDS - started))); }
    samples ntp_greedy "$(($(left) / 4))" 12 ntp 1 0
    samples medusa_greedy "$(($(left) / 3))" 12 medusa 1 0
    # The two sampled runs side by side, so both cover the same problems if time runs out.
    seconds=$(left)
    samples ntp_t0.8 "$seconds" 7 ntp 10 0.8 &
    samples medusa_t0.8 "$seconds" 7 medusa 10 0.8 &
    wait
    ;;
*)
    echo "usage: $0 bench|samples OUT PROBLEMS [SECONDS]" >&2
    exit 2
    ;;
esac
