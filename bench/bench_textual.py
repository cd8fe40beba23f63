"""Textual backward and optimizers against textgrad and trace-opt, on one mock LLM.

    python bench/bench_textual.py                 # all runs (peers need bench/.venvs/peers)
    python bench/bench_textual.py --only lab      # textgrad-lab only
    python bench/bench_textual.py --latency 0.1   # a faster mock

The same 3-stage chain (bench/peers_textual/chain_spec.py), minibatches of 4, 3 steps,
in: textgrad-lab with TGD (textual propagator) and with OptoPrime (trace propagator),
both through the Trainer; textgrad (TGD) as its documentation trains a minibatch, and
the same with one thread per sample; trace-opt with OptoPrime. Every framework talks to
one mock OpenAI-compatible server in this process that sleeps ``--latency`` seconds per
call and answers in the format each one expects (bench/peers_textual/mock_llm.py); the
server counts calls and tokens by the same rule for all. Prints per-step figures and
the ratios the targets are about.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers_textual"
PEER_PYTHON = HERE / ".venvs" / "peers" / "bin" / "python"
sys.path.insert(0, str(PEERS))

import chain_spec as spec  # noqa: E402
from mock_llm import MockLLMServer  # noqa: E402


def run_lab(url: str, optimizer: str) -> dict[str, Any]:
    """The chain in textgrad-lab, trained by the Trainer; per-step wall time from its history."""
    import openai  # noqa: F401 - imported before the clock starts, as the peers' scripts do

    import textgrad_lab as tl
    from textgrad_lab.llm import get_engine
    from textgrad_lab.optimizers import TGD, OptoPrime
    from textgrad_lab.text import format_prompt
    from textgrad_lab.train.trainer import Trainer

    engine = get_engine("openai-compatible/mock", api_base=url, cache=False, max_concurrency=64)
    prompts = [
        tl.Parameter(p, name=f"prompt{k + 1}", role=r)
        for k, (p, r) in enumerate(zip(spec.PROMPTS, spec.ROLES, strict=True))
    ]

    async def workflow(example: Any) -> Any:
        r1 = await tl.llm_call(prompts[0], example.input, engine=engine, name="restate")
        user2 = format_prompt(spec.TEMPLATES[1], text=r1)
        r2 = await tl.llm_call(prompts[1], user2, engine=engine, name="solve")
        user3 = format_prompt(spec.TEMPLATES[2], text=r2)
        return await tl.llm_call(prompts[2], user3, engine=engine, name="answer")

    def metric(output: str, example: Any) -> tuple[float, str]:
        return spec.feedback(int(example.target), output)

    make = {"tgd": TGD, "optoprime": OptoPrime}[optimizer]
    train = [{"input": q, "target": i} for i, q in enumerate(spec.QUESTIONS)]
    trainer = Trainer(
        workflow,
        optimizer=make(prompts, engine=engine),
        metric=metric,
        train=train,
        batch_size=spec.BATCH,
        max_steps=spec.STEPS,
        shuffle=False,
    )
    asyncio.run(trainer.afit())
    steps = [{"wall_s": r.wall_s} for r in trainer.state.history]
    return {"steps": steps, "final": [p.value for p in prompts]}


def run_peer(script: str, url: str, *extra: str) -> dict[str, Any]:
    if not PEER_PYTHON.exists():
        raise SystemExit(f"no peers venv at {PEER_PYTHON}: run `bash bench/peers_env.sh` first")
    with tempfile.TemporaryDirectory() as tmp:
        # Peers write logs and caches into the working directory and the user cache:
        # keep both in a throwaway place, so no run is served from an earlier one.
        env = {
            **os.environ,
            "XDG_CACHE_HOME": tmp,
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "PYTHONPATH": "",
        }
        done = subprocess.run(
            [str(PEER_PYTHON), str(PEERS / script), url, *extra],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
    if done.returncode != 0:
        raise RuntimeError(f"{script} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


RUNS = {
    "lab-tgd": lambda url: run_lab(url, "tgd"),
    "lab-optoprime": lambda url: run_lab(url, "optoprime"),
    "textgrad": lambda url: run_peer("run_textgrad.py", url),
    "textgrad-threads": lambda url: run_peer("run_textgrad.py", url, "--threads"),
    "trace-opt": lambda url: run_peer("run_traceopt.py", url),
}


def summarise(
    name: str, result: dict[str, Any], stats: dict[str, dict[str, int]]
) -> dict[str, Any]:
    n = len(result["steps"])
    walls = [s["wall_s"] for s in result["steps"]]
    row: dict[str, Any] = {"run": name}
    for kind in ("all", "forward", "backward", "update"):
        s = stats.get(kind, {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0})
        prefix = "" if kind == "all" else f"{kind}_"
        row[f"{prefix}calls_per_step"] = s["calls"] / n
        row[f"{prefix}tokens_per_step"] = (s["prompt_tokens"] + s["completion_tokens"]) / n
        if kind == "all":
            row["prompt_tokens_per_step"] = s["prompt_tokens"] / n
            row["completion_tokens_per_step"] = s["completion_tokens"] / n
    row["wall_s_per_step"] = statistics.mean(walls)
    row["wall_s_steps"] = [round(w, 3) for w in walls]
    row["prompts_changed"] = result["final"] != spec.PROMPTS
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=spec.LATENCY_S)
    parser.add_argument("--only", choices=["lab", "peers"], default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args()
    names = [n for n in RUNS if args.only is None or (args.only == "lab") == n.startswith("lab-")]
    rows = []
    with MockLLMServer(args.latency) as server:
        for name in names:
            t0 = time.perf_counter()
            result = RUNS[name](server.url(name))
            rows.append(summarise(name, result, server.stats[name]))
            print(f"# {name} done in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    print(
        f"{'run':<18}{'calls/step':>11}{'prompt tok':>12}{'compl tok':>11}{'wall s/step':>13}"
        f"  calls f/b/u  tokens f/b/u       steps (s)"
    )
    for r in rows:
        calls = "/".join(f"{r[f'{k}_calls_per_step']:g}" for k in ("forward", "backward", "update"))
        toks = "/".join(
            f"{r[f'{k}_tokens_per_step']:.0f}" for k in ("forward", "backward", "update")
        )
        print(
            f"{r['run']:<18}{r['calls_per_step']:>11.1f}{r['prompt_tokens_per_step']:>12.0f}"
            f"{r['completion_tokens_per_step']:>11.0f}{r['wall_s_per_step']:>13.2f}"
            f"  {calls:<12} {toks:<18} {r['wall_s_steps']}"
        )
    by = {r["run"]: r for r in rows}

    def ratio(a: str, b: str, key: str) -> str:
        if a in by and b in by and by[a][key]:
            return f"{by[b][key] / by[a][key]:.2f}x"
        return "n/a"

    print()
    for peer in ("textgrad", "textgrad-threads"):
        print(
            f"lab-tgd vs {peer}: wall time {ratio('lab-tgd', peer, 'wall_s_per_step')} less, "
            f"calls {by.get('lab-tgd', {}).get('calls_per_step', 'n/a')} vs "
            f"{by.get(peer, {}).get('calls_per_step', 'n/a')} per step"
        )
    tokens = {
        k: r["prompt_tokens_per_step"] + r["completion_tokens_per_step"] for k, r in by.items()
    }
    if "lab-optoprime" in tokens and "trace-opt" in tokens:
        print(
            f"lab-optoprime vs trace-opt: tokens per step {tokens['lab-optoprime']:.0f} vs "
            f"{tokens['trace-opt']:.0f} ({tokens['trace-opt'] / tokens['lab-optoprime']:.2f}x "
            f"fewer), wall time {ratio('lab-optoprime', 'trace-opt', 'wall_s_per_step')} less"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
