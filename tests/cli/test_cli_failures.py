"""The command line against a server that fails in every way, through the real engines:
failed runs exit 1 with one line naming the cause; eval counts errors; --timeout and
--retries bound a hung server; --api-base is checked and keeps keys home."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_testkit import NUMERIC_WORKFLOW, run, write_workflow
from faultkit import FaultServer

LLM_WORKFLOW = """
import textgrad_lab as tl
from textgrad_lab.train.workflow import Workflow

system = tl.Parameter("Answer.", name="system", role="system prompt")


async def solve(example, engine):
    return await tl.llm_call(system, example.input, engine=engine, max_tokens=8)


workflow = Workflow(
    forward=solve,
    parameters=[system],
    metric="exact_match",
    data=DATA,
    split=SPLIT,
    model="mock",
    optimizer="tgd",
    defaults={"steps": 1, "batch_size": 2},
)
"""

ROWS = "[{'input': f'q{i}', 'target': 'yes'} for i in range(4)]"
FAST = ["--retries", "1", "--timeout", "5"]


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEXTGRAD_LAB_CACHE_DIR", str(tmp_path / "cache"))


def llm_flow(folder: Path, split: str = "(2, 2, 0)") -> Path:
    return write_workflow(folder, ROWS, LLM_WORKFLOW.replace("SPLIT", split))


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize("mode", ["500", "429", "garbage", "shape"])
@pytest.mark.parametrize("model", ["openai/served", "openai-compatible/served"])
def test_a_run_whose_every_call_fails_exits_1_naming_the_cause(
    tmp_path: Path, mode: str, model: str
) -> None:
    flow = llm_flow(tmp_path)
    with FaultServer(mode) as server:
        r = run(
            "optimize", flow, "--model", model, "--api-base", server.base_url,
            "--out", tmp_path / "run", *FAST,
        )  # fmt: skip
    assert r.exit_code == 1, r.output
    line = one_error_line(r.stderr)
    assert "all 2 val samples failed" in line and "after 2 attempts" in line
    cause = {"500": "ServerError", "429": "RateLimited", "garbage": "Server", "shape": "Server"}
    assert cause[mode] in line
    assert "completed" not in r.stdout


def test_a_run_without_validation_whose_every_step_failed_exits_1(tmp_path: Path) -> None:
    flow = llm_flow(tmp_path, "(2, 0, 0)")
    with FaultServer("500") as server:
        r = run(
            "optimize", flow, "--model", "openai/served", "--api-base", server.base_url,
            "--out", tmp_path / "run", "--steps", "2", *FAST,
        )  # fmt: skip
    assert r.exit_code == 1, r.output
    line = one_error_line(r.stderr)
    assert "all 2 steps failed" in line and "ServerError" in line
    assert r.stdout.count("no train score · failed: all 2 samples failed") == 2
    history = [json.loads(x) for x in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    assert [h["failed"] for h in history] == [True, True]
    assert 'class="failed"' in (tmp_path / "run" / "report.html").read_text()


def test_eval_exits_1_on_sample_errors_unless_max_errors_allows(tmp_path: Path) -> None:
    flow = llm_flow(tmp_path)
    with FaultServer("500") as server:
        args = ["eval", flow, "--split", "val", "--model", "openai/served"]
        args += ["--api-base", server.base_url, "--out", tmp_path / "e.json", *FAST]
        r = run(*args)
        assert r.exit_code == 1, r.output
        assert "2 of 2 val samples ended in an error" in one_error_line(r.stderr)
        assert "--max-errors 2" in r.stderr
        saved = json.loads((tmp_path / "e.json").read_text())
        assert saved["failed"] == 2
        assert all(s["output"] is None and s["feedback"] == "" for s in saved["samples"])
        r = run(*args, "--max-errors", "2")
    assert r.exit_code == 0, r.output
    assert "2 of 2 failed" in r.stdout


def test_a_hung_server_is_bounded_by_timeout_and_retries(tmp_path: Path) -> None:
    flow = llm_flow(tmp_path)
    with FaultServer("hang", hang_s=20) as server:
        r = run(
            "eval", flow, "--split", "val", "--model", "openai-compatible/served",
            "--api-base", server.base_url, "--timeout", "0.5", "--retries", "1",
        )  # fmt: skip
        posts = len(server.posts)
    assert r.exit_code == 1, r.output
    assert "LLMTimeout" in one_error_line(r.stderr)
    assert posts == 4  # two samples, two attempts each


def test_api_base_with_an_in_process_model_is_a_usage_error(tmp_path: Path) -> None:
    flow = llm_flow(tmp_path)
    for model in ("mock", "local/smollm2"):
        r = run("optimize", flow, "--model", model, "--api-base", "http://127.0.0.1:9/v1")
        assert r.exit_code == 2, r.output
        line = one_error_line(r.stderr)
        assert f"{model} runs in this process" in line and "drop --api-base" in line


def test_eval_and_resume_with_another_model_on_a_run_made_with_api_base(tmp_path: Path) -> None:
    flow = write_workflow(tmp_path, body=NUMERIC_WORKFLOW)
    out = tmp_path / "run"
    with FaultServer("ok") as server:
        r = run(
            "optimize", flow, "--model", "openai/served", "--api-base", server.base_url,
            "--out", out, "--steps", "1",
        )  # fmt: skip
    assert r.exit_code == 0, r.output
    r = run("eval", flow, "--params", out, "--model", "mock", "--split", "test")
    assert r.exit_code == 0, r.output
    r = run("optimize", flow, "--resume", out, "--model", "mock", "--steps", "2")
    assert r.exit_code == 0, r.output
    assert json.loads((out / "cli.json").read_text())["options"]["api_base"] is None


def test_api_base_gets_no_provider_key_unless_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-live-HOST-ONLY-0123456789abcdef"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.setenv("MY_SERVER_KEY", "server-key-42")
    flow = llm_flow(tmp_path)
    for i, model in enumerate(("openai/served", "openai-compatible/served")):
        with FaultServer("ok", reply="yes") as server:
            base = ["eval", flow, "--split", "val", "--model", model, "--api-base", server.base_url]
            # Each run with a cache of its own, so that each one asks the server.
            monkeypatch.setenv("TEXTGRAD_LAB_CACHE_DIR", str(tmp_path / f"cache-{i}-a"))
            assert run(*base).exit_code == 0
            monkeypatch.setenv("TEXTGRAD_LAB_CACHE_DIR", str(tmp_path / f"cache-{i}-b"))
            assert run(*base, "--api-key-env", "MY_SERVER_KEY").exit_code == 0
            auths = [p["auth"] or "" for p in server.posts]
        assert auths and not any(secret in a for a in auths)
        assert auths[-1] == "Bearer server-key-42"


@pytest.mark.parametrize("name", ["a[local].jsonl", "b[/x].jsonl"])
def test_errors_print_as_plain_text(tmp_path: Path, name: str) -> None:
    flow = llm_flow(tmp_path)
    r = run("optimize", flow, "--data", tmp_path / name)
    assert r.exit_code == 2, r.output
    assert name in one_error_line(r.stderr)


@pytest.mark.parametrize(
    ("flag", "sent"), [([], "json_schema"), (["--json-schema", "json_object"], "json_object")]
)
def test_json_schema_says_how_structured_replies_are_asked(
    tmp_path: Path, flag: list[str], sent: str
) -> None:
    flow = llm_flow(tmp_path)
    with FaultServer("ok", reply="pong") as server:  # "pong" is no JSON: every critique fails
        r = run(
            "optimize", flow, "--model", "openai-compatible/served", "--api-base", server.base_url,
            "--out", tmp_path / "run", *flag, *FAST,
        )  # fmt: skip
        formats = [p["body"].get("response_format") for p in server.posts]
    structured = [f for f in formats if f is not None]
    assert structured and {f["type"] for f in structured} == {sent}
    assert all("schema" in f or "json_schema" in f for f in structured)
    assert r.exit_code == 1 and "reply did not match EdgeFeedback" in one_error_line(r.stderr)


def test_json_object_is_only_for_openai_compatible_engines(tmp_path: Path) -> None:
    r = run(
        "optimize", llm_flow(tmp_path), "--model", "openai/served",
        "--api-base", "http://127.0.0.1:9/v1", "--json-schema", "json_object",
    )  # fmt: skip
    assert r.exit_code == 2
    assert "--model openai-compatible/served" in one_error_line(r.stderr)


def test_a_quoted_validation_error_still_ends_the_run_in_one_line(tmp_path: Path) -> None:
    # JSON of the wrong shape: pydantic's error spans lines, with a link after each.
    with FaultServer("ok", reply='{"x": 1}') as server:
        r = run(
            "optimize", llm_flow(tmp_path), "--model", "openai-compatible/served",
            "--api-base", server.base_url, "--out", tmp_path / "run", *FAST,
        )  # fmt: skip
    assert r.exit_code == 1
    line = one_error_line(r.stderr)
    assert "reply did not match EdgeFeedback" in line and "Field required" in line
    assert "errors.pydantic.dev" not in line
