"""Which frameworks the quality bench knows, where each one's Python is, what it runs.

textgrad-lab runs in the project's own environment (this checkout on PYTHONPATH); each
peer runs in its own virtual environment under bench/.venvs/ (made by
bench/quality/envs.sh). A runner's environment is built from scratch: no key and no
variable of the caller reaches it, only the proxy's address and a placeholder key.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VENVS = HERE.parent / ".venvs"
PLACEHOLDER_KEY = "sk-bench-proxy"  # the proxy adds the real one, if any


@dataclass(frozen=True)
class Framework:
    name: str  # "<framework>/<optimizer>"
    script: str  # under bench/quality/frameworks/
    venv: str | None  # under bench/.venvs/, or None for the project's own python
    package: str  # whose version is reported

    @property
    def python(self) -> Path:
        return Path(sys.executable) if self.venv is None else VENVS / self.venv / "bin" / "python"

    def command(self) -> list[str]:
        return [str(self.python), str(HERE / "frameworks" / self.script)]

    def check(self) -> None:
        if not self.python.exists():
            raise SystemExit(
                f"{self.name} needs its virtual environment {self.python.parent.parent}: "
                "run bash bench/quality/envs.sh"
            )

    @cached_property
    def version(self) -> str:
        code = f"import importlib.metadata as m; print(m.version({self.package!r}))"
        done = subprocess.run(
            [str(self.python), "-c", code], capture_output=True, text=True, env=self.env("", None)
        )
        return done.stdout.strip() or "unknown"

    def env(self, api_base: str, cache: Path | None) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "OPENAI_API_KEY": PLACEHOLDER_KEY,
            "OPENAI_API_BASE": api_base,
            "OPENAI_BASE_URL": api_base,
            "TOKENIZERS_PARALLELISM": "false",
        }
        if self.venv is None:
            env["PYTHONPATH"] = str(ROOT)
        if cache is not None:
            # Each run gets empty caches: a framework's own response cache must not turn
            # one run's calls into another's free answers.
            cache.mkdir(parents=True, exist_ok=True)
            env["XDG_CACHE_HOME"] = str(cache)
            env["DSPY_CACHEDIR"] = str(cache / "dspy")
            env["TEXTGRAD_CACHE_DIR"] = str(cache / "textgrad")
            env["TEXTGRAD_LAB_CACHE_DIR"] = str(cache / "textgrad_lab")
            env["TEXTGRAD_LOG_DIR"] = str(cache / "textgrad_logs")  # textgrad logs at import
        return env


FRAMEWORKS: dict[str, Framework] = {
    f.name: f
    for f in (
        Framework("textgrad-lab/tgd", "lab.py", None, "textgrad-lab"),
        Framework("textgrad-lab/optoprime", "lab.py", None, "textgrad-lab"),
        Framework("textgrad-lab/opro", "lab.py", None, "textgrad-lab"),
        Framework("textgrad-lab/optoprime+pareto", "lab.py", None, "textgrad-lab"),
        Framework("textgrad-lab/tgd+beam", "lab.py", None, "textgrad-lab"),
        Framework("textgrad/tgd", "textgrad_tgd.py", "textgrad", "textgrad"),
        Framework("trace/optoprime", "trace_optoprime.py", "trace", "trace-opt"),
        Framework("dspy/miprov2", "dspy_run.py", "dspy", "dspy"),
        Framework("dspy/gepa", "dspy_run.py", "dspy", "dspy"),
    )
}
