"""Run files: a damaged one is one line naming it and what to do; the terminal and the
report show the same whole-run call count (the run's usage journal)."""

from __future__ import annotations

import re
from pathlib import Path

from cli_testkit import run, write_workflow
from test_cli_failures import LLM_WORKFLOW, ROWS, one_error_line

from textgrad_lab.llm.usage import UsageTotals
from textgrad_lab.train.journal import JOURNAL_FILE, UsageJournal, journal_total


def made_run(tmp_path: Path) -> tuple[Path, Path, str]:
    flow = write_workflow(tmp_path, ROWS, LLM_WORKFLOW.replace("SPLIT", "(2, 1, 1)"))
    out = tmp_path / "run"
    r = run("optimize", flow, "--out", out, "--steps", "2")
    assert r.exit_code == 0, r.output
    return flow, out, r.stdout


def test_terminal_and_report_show_one_call_count(tmp_path: Path) -> None:
    _, out, stdout = made_run(tmp_path)
    terminal = int(re.search(r"whole run: (\d+) LLM calls", stdout).group(1))  # type: ignore[union-attr]
    page = (out / "report.html").read_text()
    row = re.search(r"<td>whole run \(every call\)</td><td>(\d+)</td>", page)
    assert row is not None and int(row.group(1)) == terminal == journal_total(out).calls
    assert terminal > 0


def test_a_truncated_checkpoint_is_one_line_naming_it(tmp_path: Path) -> None:
    flow, out, _ = made_run(tmp_path)
    ckpt = out / "checkpoint.json"
    ckpt.write_text(ckpt.read_text()[:200])
    r = run("optimize", flow, "--resume", out, "--steps", "3")
    assert r.exit_code == 2, r.output
    line = one_error_line(r.stderr)
    assert str(ckpt) in line and "not valid JSON" in line and "restore it" in line
    assert "resume with" not in line


def test_a_checkpoint_missing_fields_is_one_line(tmp_path: Path) -> None:
    flow, out, _ = made_run(tmp_path)
    (out / "checkpoint.json").write_text('{"format": "textgrad-lab/checkpoint", "version": 1}')
    r = run("eval", flow, "--params", out)
    assert r.exit_code == 2, r.output
    assert "is not a complete checkpoint (config: Field required)" in one_error_line(r.stderr)


def test_report_on_a_truncated_cli_json_is_one_line(tmp_path: Path) -> None:
    _, out, _ = made_run(tmp_path)
    (out / "cli.json").write_text('{"workflow": ')
    r = run("report", out)
    assert r.exit_code == 2, r.output
    line = one_error_line(r.stderr)
    assert "cli.json is not valid JSON" in line and "JSONDecodeError" not in line


def test_the_journal_skips_a_line_cut_short(tmp_path: Path) -> None:
    journal = UsageJournal(tmp_path)
    journal("m", UsageTotals(calls=1, prompt_tokens=5))
    journal("m", UsageTotals(calls=1, failures=1))
    with open(tmp_path / JOURNAL_FILE, "a") as fh:
        fh.write('{"model": "m", "calls"')  # a killed process stopped mid-line
    total = journal_total(tmp_path)
    assert (total.calls, total.failures, total.prompt_tokens) == (2, 1, 5)


KILLED_JOB = """
import os, signal, sys
import textgrad_lab as tl
from textgrad_lab.llm import MockEngine, UsageTracker
from textgrad_lab.optimizers import SGD
from textgrad_lab.train import LocalExecutor, Trainer

tracker = UsageTracker()
engine = MockEngine("1", usage=tracker)
w = tl.Parameter(0.0, name="w")
calls = [0]


async def forward(example):
    await engine.acomplete([{"role": "user", "content": str(example.input)}])
    calls[0] += 1
    if calls[0] == 3:  # the first sample of step 2 has made its call
        os.kill(os.getpid(), signal.SIGKILL)
    return tl.numeric.mul(w, float(example.input))


trainer = Trainer(
    forward, optimizer=SGD([w], lr=0.01), metric=lambda out, ex: (0.5, "ok"),
    train=[{"input": str(i), "target": "0"} for i in range(4)],
    batch_size=2, max_steps=3, run_dir=sys.argv[1], usage=tracker,
    executor=LocalExecutor(1),
)
trainer.fit()
"""


def test_calls_of_a_step_killed_by_sigkill_are_counted(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    from textgrad_lab.train import load_checkpoint

    run_dir = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-c", KILLED_JOB, str(run_dir)], capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    state = load_checkpoint(run_dir).state
    assert state.step == 1 and state.usage.calls == 2
    assert journal_total(run_dir).calls == 3  # the killed step's call is not lost
