"""models, cache, graph, gradcheck and the shared error handling, on offline workflows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_testkit import run, write_workflow

from textgrad_lab.cli.options import parse_split, resolve


def test_help_lists_every_command() -> None:
    res = run("--help")
    assert res.exit_code == 0
    for name in ("init", "optimize", "eval", "graph", "gradcheck", "report", "cache", "models"):
        assert name in res.stdout


def test_unknown_option_is_usage_error() -> None:
    res = run("models", "--bogus")
    assert res.exit_code == 2


def test_models_shows_keys_set_but_never_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-value-123")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    res = run("models")
    assert res.exit_code == 0
    assert "sk-test-secret-value-123" not in res.output
    line = next(x for x in res.stdout.splitlines() if "OPENAI_API_KEY" in x)
    assert "yes" in line
    line = next(x for x in res.stdout.splitlines() if "ANTHROPIC_API_KEY" in x)
    assert "no" in line
    assert "local/smollm2" in res.stdout


def test_cache_stats_and_clear(tmp_path: Path) -> None:
    from textgrad_lab.llm.cache import ResponseCache

    res = run("cache", "stats", "--dir", tmp_path)
    assert res.exit_code == 0 and "entries: 0" in res.stdout
    store = ResponseCache(tmp_path)
    store.set("k1", {"text": "a"})
    store.set("k2", {"text": "b"})
    store.close()
    res = run("cache", "stats", "--dir", tmp_path)
    assert "entries: 2" in res.stdout
    res = run("cache", "clear", "--dir", tmp_path, "--yes")
    assert res.exit_code == 0 and "cleared 2" in res.stdout
    store = ResponseCache(tmp_path)
    assert len(store) == 0
    store.close()


def test_graph_formats(tmp_path: Path) -> None:
    flow = write_workflow(tmp_path)
    res = run("graph", flow)
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("flowchart TD") and "system" in res.stdout
    res = run("graph", flow, "--format", "dot")
    assert res.stdout.startswith("digraph")
    out = tmp_path / "g.json"
    assert run("graph", flow, "--out", out).exit_code == 0
    record = json.loads(out.read_text())
    assert {n["name"] for n in record["nodes"]} >= {"system"}
    assert len(record["edges"]) == 1
    html = tmp_path / "g.html"
    assert run("graph", flow, "--out", html, "--index", "1").exit_code == 0
    page = html.read_text()
    assert "<svg" in page and "Answer. c" in page and "<script" not in page
    gml = tmp_path / "g.graphml"
    assert run("graph", flow, "-o", gml).exit_code == 0
    assert "graphml" in gml.read_text()


def test_graph_error_paths(tmp_path: Path) -> None:
    flow = write_workflow(tmp_path)
    res = run("graph", tmp_path / "missing.py")
    assert res.exit_code == 2 and "no workflow file" in res.stderr and "init" in res.stderr
    res = run("graph", flow, "--format", "svg")
    assert res.exit_code == 2 and "unknown graph format" in res.stderr
    res = run("graph", flow, "--index", "9")
    assert res.exit_code == 2 and "outside the dataset" in res.stderr
    assert "Traceback" not in res.output


def test_graph_bad_dataset_row(tmp_path: Path) -> None:
    flow = write_workflow(tmp_path, data="[{'input': 'a', 'target': 'b'}, {'question': 'c'}]")
    res = run("graph", flow)
    assert res.exit_code == 2
    assert "item 1" in res.stderr and "input" in res.stderr


def test_graph_bad_data_file(tmp_path: Path) -> None:
    flow = write_workflow(tmp_path)
    bad = tmp_path / "rows.jsonl"
    bad.write_text('{"input": "a", "target": "b"}\n{"input": oops}\n')
    res = run("graph", flow, "--data", bad)
    assert res.exit_code == 2 and "line 2" in res.stderr


def test_no_key_for_hosted_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    res = run("graph", write_workflow(tmp_path), "--model", "openai/gpt-4o-mini")
    assert res.exit_code == 1
    assert "OPENAI_API_KEY" in res.stderr and "local/smollm2" in res.stderr


def test_unreachable_api_base(tmp_path: Path) -> None:
    res = run(
        "graph",
        write_workflow(tmp_path),
        "--model",
        "openai/m",
        "--api-base",
        "http://127.0.0.1:9/v1",
    )
    assert res.exit_code == 1
    assert "cannot reach the LLM server at http://127.0.0.1:9/v1" in res.stderr


def test_workflow_file_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("def oops(:\n")
    res = run("graph", broken)
    assert res.exit_code == 2 and "syntax error" in res.stderr
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    res = run("graph", empty)
    assert res.exit_code == 2 and "no attribute 'workflow'" in res.stderr
    res = run("graph", f"{empty}:x")
    assert res.exit_code == 2 and "not a textgrad_lab Workflow" in res.stderr


def test_debug_prints_traceback(tmp_path: Path) -> None:
    flow = write_workflow(tmp_path, data="[{'input': 'a', 'target': 'b'}]")
    res = run("--debug", "graph", flow, "--index", "5")
    assert res.exit_code == 2 and "Traceback" in res.stderr


def test_gradcheck_against_torch() -> None:
    res = run("gradcheck", "--graphs", "3", "--seed", "1", "--backend", "torch")
    assert res.exit_code == 0, res.output
    assert "3 random graphs" in res.stdout and "torch" in res.stdout
    res = run("gradcheck", "--backend", "tensorflow")
    assert res.exit_code == 2 and "unknown backend" in res.stderr


def test_split_and_config_layers(tmp_path: Path) -> None:
    assert parse_split("10,5,0") == (10, 5, 0)
    assert parse_split("0.5,0.25,0.25") == (0.5, 0.25, 0.25)
    cfg = tmp_path / "run.toml"
    cfg.write_text('steps = 3\nbatch-size = 2\n[optimize]\nsteps = 5\nsplit = "4,2,2"\n')
    opts = resolve({"steps": None, "seed": 7}, cfg, workflow_defaults={"batch_size": 9, "seed": 1})
    assert (opts.steps, opts.batch_size, opts.seed, opts.split) == (5, 2, 7, (4, 2, 2))
    assert resolve({"steps": 1}, cfg).steps == 1  # the command line wins
    cfg.write_text("stepz = 3\n")
    with pytest.raises(Exception, match="unknown option"):
        resolve({}, cfg)


def test_init_writes_a_starter_that_loads_and_traces(tmp_path: Path) -> None:
    target = tmp_path / "my_flow"
    res = run("init", target)
    assert res.exit_code == 0, res.output
    path = tmp_path / "my_flow.py"
    text = path.read_text()
    assert "workflow = tl.train.Workflow(" in text and 'name="my_flow"' in text
    res = run("graph", path, "--model", "mock", "--format", "json")
    assert res.exit_code == 0, res.output
    assert '"system"' in res.stdout and "llm_call" in res.stdout
    res = run("init", target)
    assert res.exit_code == 2 and "already exists" in res.stderr
    assert run("init", target, "--force").exit_code == 0
    res = run("init", tmp_path / "bad-name")
    assert res.exit_code == 2 and "not a valid Python module name" in res.stderr


def test_api_base_reaches_an_openai_compatible_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli_testkit import FakeChatServer

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("TEXTGRAD_LAB_CACHE_DIR", str(tmp_path / "cache"))
    assert run("init", tmp_path / "flow").exit_code == 0
    with FakeChatServer("The answer is 5.") as server:
        res = run(
            "graph",
            tmp_path / "flow.py",
            "--model",
            "openai/served",
            "--api-base",
            server.base_url,
        )
    assert res.exit_code == 0, res.output
    assert "The answer is 5." in res.stdout
    assert server.requests and server.requests[0]["messages"][0]["content"] == (
        "Answer the question."
    )


def test_run_script_maps_errors_to_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    from textgrad_lab.cli.script import run_script
    from textgrad_lab.llm.errors import MissingAPIKey, ServerError
    from textgrad_lab.train.data import DatasetError

    async def ok() -> None:
        return None

    def failing(exc: BaseException) -> Any:
        async def main() -> None:
            raise exc

        return main

    assert run_script(ok) == 0
    assert run_script(failing(MissingAPIKey("openai/x", ["OPENAI_API_KEY"]))) == 2
    assert "OPENAI_API_KEY" in capsys.readouterr().err
    assert run_script(failing(DatasetError("rows.jsonl line 3: not valid JSON"))) == 2
    assert run_script(failing(ServerError("upstream down"))) == 1
    assert "the run failed: ServerError: upstream down" in capsys.readouterr().err
    assert run_script(failing(FileNotFoundError("net.json")), setup_errors=(OSError,)) == 2
    with pytest.raises(RuntimeError):  # a bug stays a traceback
        run_script(failing(RuntimeError("bug")))
