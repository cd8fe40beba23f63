"""Quality side by side: textgrad-lab's optimizers and TextGrad, Trace and DSPy on one
model endpoint, with the same data, the same starting prompt and the same budget.

    python bench/quality/run.py                                  # everything, embedded model
    python bench/quality/run.py --frameworks textgrad-lab/tgd,textgrad/tgd --tasks object_counting
    python bench/quality/run.py --model openai/gpt-4o-mini --budget 1336 --batch-size 3 \
        --val-size 100 --test-size 100 --tasks object_counting   # TextGrad's protocol, hosted

The endpoint: with ``--model local/smollm2`` (the default) llama.cpp's own server
(``python -m llama_cpp.server``) is started on 127.0.0.1 with the embedded GGUF and
stopped at the end; ``--model mock`` serves scripted replies; ``--model openai/<name>``
goes to the OpenAI API (key from OPENAI_API_KEY) or to ``--api-base``. Every framework
talks to it through one counting proxy (bench/quality/endpoint.py) and scores its
samples through the harness's metric (the project's own), so calls, tokens and metric
calls are counted by the same rule for all. Peers run from their own virtual
environments (bash bench/quality/envs.sh). One JSON line per framework and task goes to
``--out`` (default bench/quality/results/<time>.jsonl); a markdown table is printed.
Exit status 1 when any run crashed or ran past ``--timeout`` (its line is still written).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from endpoint import Proxy  # noqa: E402
from frameworks_registry import FRAMEWORKS, Framework  # noqa: E402
from protocol import RunOutput, RunSpec  # noqa: E402
from report import result_line, table  # noqa: E402
from tasks import TASKS, build  # noqa: E402

from textgrad_lab.llm.llama_server import LlamaServer  # noqa: E402
from textgrad_lab.train.metrics import get_metric  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--frameworks", default=",".join(FRAMEWORKS), help="comma-separated")
    p.add_argument("--tasks", default=",".join(TASKS), help="comma-separated")
    p.add_argument("--budget", type=int, default=24, help="metric calls while optimizing")
    p.add_argument("--batch-size", type=int, default=3)
    p.add_argument("--val-size", type=int, default=4, help="first N of the validation split")
    p.add_argument("--test-size", type=int, default=20, help="first N of the test split")
    p.add_argument("--model", default="local/smollm2", help="local/smollm2, mock, openai/<name>")
    p.add_argument("--api-base", default=None, help="an OpenAI-compatible base URL")
    p.add_argument("--max-tokens", type=int, default=256, help="cap on every completion")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=1, help="samples in flight per framework")
    p.add_argument("--n-threads", type=int, default=2, help="llama.cpp server threads")
    p.add_argument(
        "--timeout", type=float, default=3600, help="seconds per run before it is killed"
    )
    p.add_argument("--out", type=Path, default=None, help="the JSON lines file")
    args = p.parse_args(argv)
    for name in ("budget", "batch_size", "val_size", "test_size", "max_tokens", "workers"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def _listed(text: str, known: dict[str, Any], what: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise SystemExit(f"unknown {what} {unknown or text!r}; choose from {', '.join(known)}")
    return names


def run_one(
    fw: Framework,
    task: str,
    args: argparse.Namespace,
    proxy: Proxy,
    served: str,
    work: Path,
    json_schema: bool,
) -> dict[str, Any]:
    spec_task, examples = build(task, args.val_size, args.test_size)
    metric = get_metric(spec_task.metric)

    def scorer(item_id: str, prediction: str) -> tuple[float, str]:
        r = metric(prediction, examples[item_id])
        return float(r.score), r.feedback

    run_id = f"{fw.name.replace('/', '-')}-{task}"
    api_base, control = proxy.open_run(run_id, scorer)
    spec = RunSpec(
        framework=fw.name, task=spec_task, api_base=api_base, control=control, model=served,
        budget=args.budget, batch_size=args.batch_size, seed=args.seed,
        max_tokens=args.max_tokens, workers=args.workers, json_schema=json_schema,
    )  # fmt: skip
    spec_path, out_path = work / f"{run_id}.spec.json", work / f"{run_id}.out.json"
    spec_path.write_text(spec.model_dump_json())
    log = work / f"{run_id}.log"
    print(f"[{time.strftime('%H:%M:%S')}] {fw.name} on {task} (log {log})", flush=True)
    start = time.monotonic()
    with log.open("wb") as f:
        try:
            proc = subprocess.run(
                [*fw.command(), str(spec_path), str(out_path)],
                env=fw.env(api_base, work / "cache" / run_id),
                stdout=f, stderr=subprocess.STDOUT, timeout=args.timeout, cwd=ROOT,
            )  # fmt: skip
            rc: int | str = proc.returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
    wall = time.monotonic() - start
    stats = proxy.close_run(run_id)
    out = RunOutput.model_validate_json(out_path.read_text()) if out_path.exists() else RunOutput()
    if rc != 0 and out.error is None:
        tail = log.read_bytes()[-1500:].decode(errors="replace")
        out.error = f"runner exit {rc}: {tail}"

    def test_scores(preds: list[str] | None) -> list[float] | None:
        if preds is None:
            return None
        items = zip(preds, spec_task.test, strict=True)
        return [float(metric(p, examples[i.id]).score) for p, i in items]

    scored = {"before": test_scores(out.before), "after": test_scores(out.after)}
    line = result_line(fw, task, spec, out, stats, scored, wall, TASKS[task].split)
    line["failures"]["timed_out"] = rc == "timeout"
    line["failures"]["crash"] = out.error is not None and rc != "timeout"
    return line


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    frameworks = [FRAMEWORKS[n] for n in _listed(args.frameworks, FRAMEWORKS, "frameworks")]
    tasks = _listed(args.tasks, TASKS, "tasks")
    for fw in frameworks:
        fw.check()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out_file = args.out or HERE / "results" / f"{stamp}.jsonl"
    out_file.parent.mkdir(parents=True, exist_ok=True)
    lines: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="quality-") as tmp,
        Upstream(args, Path(tmp)) as (
            upstream,
            served,
            key,
        ),
    ):
        print(f"endpoint {upstream} serving {served!r}; results to {out_file}", flush=True)
        local = args.model.startswith("local/") and args.api_base is None
        with Proxy(upstream, served, args.max_tokens, key) as proxy:
            for task in tasks:
                for fw in frameworks:
                    line = run_one(fw, task, args, proxy, served, Path(tmp), not local)
                    line["model"] = args.model
                    lines.append(line)
                    with out_file.open("a") as f:
                        f.write(json.dumps(line) + "\n")
                    print(table([line], header=False), flush=True)
    print()
    print(table(lines))
    print(f"\n{len(lines)} runs; JSON lines in {out_file}")
    failed = any(x["failures"]["crash"] or x["failures"]["timed_out"] for x in lines)
    return 1 if failed else 0


class Upstream:
    """The upstream for the proxy: (base URL, served model name, key)."""

    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args, self.work = args, work
        self.inner: Any = None

    def __enter__(self) -> tuple[str, str, str]:
        a = self.args
        if a.model == "mock":
            sys.path.insert(0, str(HERE.parent / "peers_textual"))
            from mock_llm import MockLLMServer

            self.inner = MockLLMServer(latency=0.0).__enter__()
            return self.inner.url("quality"), "mock", ""
        if a.model.startswith("local/") and a.api_base is None:
            if a.model != "local/smollm2":
                raise SystemExit(
                    f"--model {a.model}: only local/smollm2 is served locally; use --api-base"
                )
            log = self.work / "llama_server.log"
            self.inner = LlamaServer(
                alias="smollm2", n_threads=a.n_threads, n_ctx=4096, log=log
            ).__enter__()
            return self.inner.url, "smollm2", ""
        name = a.model.split("/", 1)[1] if a.model.startswith("openai/") else a.model
        key = os.environ.get("OPENAI_API_KEY", "")
        if a.api_base is None:
            if not a.model.startswith("openai/"):
                raise SystemExit(f"--model {a.model}: give --api-base, or use openai/<name>")
            if not key:
                raise SystemExit(f"--model {a.model} needs OPENAI_API_KEY in the environment")
            return "https://api.openai.com/v1", name, key
        return a.api_base, name, key

    def __exit__(self, *exc: Any) -> None:
        if self.inner is not None:
            self.inner.__exit__(*exc)


if __name__ == "__main__":
    sys.exit(main())
