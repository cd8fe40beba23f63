#!/usr/bin/env bash
# Build the peers' virtual environments for bench/quality/run.py, one per framework:
#   bench/.venvs/textgrad   textgrad (TGD)
#   bench/.venvs/trace      trace-opt (OptoPrime)
#   bench/.venvs/dspy       dspy (MIPROv2, GEPA)
# and add llama.cpp's server extras to the current python (the bench starts
# `python -m llama_cpp.server` from it). Our own package is not installed in the venvs.
# Usage: bash bench/quality/envs.sh            (re-running it is cheap: pip skips what is there)
#        bash bench/quality/envs.sh dspy       (only the named venvs)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"

# Pinned to the versions the figures in bench/RESULTS.md were measured with.
declare -A PINS=(
    [textgrad]="textgrad==0.1.8"
    [trace]="trace-opt==0.1.3.8"
    [dspy]="dspy[optuna]==3.4.1"
)
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(textgrad trace dspy)

for name in "${names[@]}"; do
    pin="${PINS[$name]:?unknown venv $name (textgrad, trace or dspy)}"
    venv="$here/.venvs/$name"
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    # pydantic: the harness's protocol (bench/quality/protocol.py) is read with it.
    "$venv/bin/python" -m pip install --quiet "$pin" "pydantic>=2"
    echo "$name venv ready: $venv ($pin)"
done

if [ ${#@} -eq 0 ]; then
    # The server's extras only (fastapi, uvicorn, ...); llama-cpp-python itself is not rebuilt.
    "$python" -m pip install --quiet 'llama-cpp-python[server]'
fi
