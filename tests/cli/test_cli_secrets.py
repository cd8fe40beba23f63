"""A key that comes back inside a model reply reaches no artifact: run files, report,
graph exports, eval output, the response cache."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from cli_testkit import run, write_workflow
from faultkit import FaultServer
from test_cli_failures import LLM_WORKFLOW, ROWS

from textgrad_lab.scrub import MASK, get_logger, scrub, scrub_text

SECRET = "sk-echoed-0123456789abcdefXYZ"
PLAIN_SECRET = "hunter2-plain-secret-value"  # no key shape: known only from the environment


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_a_key_echoed_by_the_model_reaches_no_artifact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("MY_DB_PASSWORD", PLAIN_SECRET)
    cache = tmp_path / "cache"
    monkeypatch.setenv("TEXTGRAD_LAB_CACHE_DIR", str(cache))
    flow = write_workflow(tmp_path, ROWS, LLM_WORKFLOW.replace("SPLIT", "(2, 2, 0)"))
    out = tmp_path / "run"
    reply = f"The key is {SECRET} and {PLAIN_SECRET}."
    with FaultServer("ok", reply=reply) as server:
        common = ["--model", "openai/served", "--api-base", server.base_url]
        run("optimize", flow, *common, "--out", out, "--retries", "0")
        assert (out / "report.html").exists() and (out / "steps").is_dir()
        r = run("eval", flow, "--split", "val", *common, "--out", tmp_path / "e.json")
        assert r.exit_code == 0, r.output
        for fmt in ("json", "html", "dot", "mermaid", "graphml"):
            r = run("graph", flow, *common, "--out", tmp_path / f"g.{fmt}", "--format", fmt)
            assert r.exit_code == 0, r.output
        r = run("graph", flow, *common, "--format", "json")
        assert SECRET not in r.stdout and PLAIN_SECRET not in r.stdout and MASK in r.stdout
    written = files_under(out) + files_under(cache) + list(tmp_path.glob("[eg].*"))
    assert len(written) > 10
    for path in written:
        data = path.read_bytes()
        assert SECRET.encode() not in data, path
        assert PLAIN_SECRET.encode() not in data, path
    assert MASK in (tmp_path / "e.json").read_text()


def test_scrub_masks_secret_names_values_and_key_shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICE_TOKEN", PLAIN_SECRET)
    data = {"api_key": "anything", "note": [f"x {PLAIN_SECRET} y", ("sk-abcdefghijkl",)]}
    assert scrub(data) == {"api_key": MASK, "note": [f"x {MASK} y", (MASK,)]}
    assert scrub_text('{"v": "AIza' + "b" * 24 + '"}') == '{"v": "***"}'


def test_log_records_are_scrubbed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SERVICE_TOKEN", PLAIN_SECRET)
    log = get_logger("textgrad_lab.test_scrub")
    with caplog.at_level(logging.WARNING, logger="textgrad_lab.test_scrub"):
        log.warning("reply was %s", f"<{PLAIN_SECRET}>")
    assert caplog.records and caplog.records[0].getMessage() == f"reply was <{MASK}>"
