#!/usr/bin/env bash
# Build bench/.venvs/peers: a separate virtual environment holding the peer libraries
# that bench/bench_core.py compares against (textgrad, trace-opt, micrograd).
# Our own package is not installed there: textgrad_lab is measured in the main python.
# Usage: bash bench/peers_env.sh        (re-running it is cheap: pip skips what is there)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venvs/peers"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
# Pinned to the versions the figures in bench/RESULTS.md were measured with.
"$venv/bin/python" -m pip install --quiet \
    "textgrad==0.1.8" \
    "trace-opt==0.1.3.8" \
    "micrograd==0.1.0"
# litellm (pulled in by textgrad) fetches a price map at import unless told not to;
# bench_core.py sets LITELLM_LOCAL_MODEL_COST_MAP=True when it runs this venv.
"$venv/bin/python" - <<'PY'
import importlib.metadata as md
for name in ("textgrad", "trace-opt", "micrograd"):
    print(f"{name}=={md.version(name)}")
PY
echo "peers venv ready: $venv"
