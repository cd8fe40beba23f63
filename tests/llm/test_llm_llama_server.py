"""Against llama.cpp's own OpenAI-compatible server (``python -m llama_cpp.server``) on the
embedded SmolLM2-135M: the openai-compatible engine, structured replies in the form that
server takes, capture of the real unmodified ``openai`` client, and one short run of the
command line. One server for the module; temperature 0 and small ``max_tokens`` keep it
short and its replies the same from run to run. Skipped, saying why, without the 'local'
extra (tests/conftest.py) or the 'serve' extra (below)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from pydantic import BaseModel, Field
from typer.testing import Result

import textgrad_lab as tl
from textgrad_lab.llm import Engine, SchemaModeUnsupported, get_engine
from textgrad_lab.llm.capture import CAPTURED_OP
from textgrad_lab.llm.llama_server import SERVE_HINT, LlamaServer, serve_missing

pytestmark = pytest.mark.local_model

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "unmodified_client.py"
MODEL = "smollm2"  # the alias the server serves the file as


class Sum(BaseModel):
    answer: int


class Capital(BaseModel):
    capital: str = Field(max_length=30)
    country: str = Field(max_length=30)


@pytest.fixture(scope="module")
def server() -> Iterator[LlamaServer]:
    missing = serve_missing()
    if missing:
        pytest.skip(f"llama.cpp's server needs {', '.join(missing)}: {SERVE_HINT}")
    llama = LlamaServer(alias=MODEL, n_ctx=2048, n_threads=1, ready_timeout=120)
    with llama:
        yield llama
    assert llama.proc is None and llama.pid is not None
    with pytest.raises(ProcessLookupError):  # the server and all it started are gone
        os.killpg(llama.pid, 0)


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TEXTGRAD_LAB_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


def engine_for(server: LlamaServer, **options: object) -> Engine:
    options = {"cache": False, "json_schema": "json_object", **options}
    return get_engine(f"openai-compatible/{MODEL}", api_base=server.url, **options)


def test_a_free_form_reply_with_its_tokens_accounted(server: LlamaServer) -> None:
    engine = engine_for(server)
    msgs = [{"role": "user", "content": "What is the capital of France?"}]
    first = engine.complete(msgs, max_tokens=8)
    again = engine.complete(msgs, max_tokens=8)
    assert first.ok and first.text.strip() and not first.cached
    assert again.text == first.text  # temperature 0: the same reply
    assert first.usage.prompt_tokens > 10 and 0 < first.usage.completion_tokens <= 8
    total = engine.usage.snapshot().total
    assert (total.calls, total.requests, total.failures) == (2, 2, 0)
    assert total.prompt_tokens == 2 * first.usage.prompt_tokens
    assert total.completion_tokens == 2 * first.usage.completion_tokens


def test_a_structured_reply_decoded_as_json_object_parses_into_the_model(
    server: LlamaServer,
) -> None:
    engine = engine_for(server, max_reasks=0)
    c = engine.complete([{"role": "user", "content": "What is 2 + 3?"}], response_model=Sum)
    assert c.ok and isinstance(c.parsed, Sum), c.error
    assert Sum.model_validate(json.loads(c.text)) == c.parsed  # the reply itself is the JSON


def test_a_cut_structured_reply_is_the_parse_error_never_a_value(server: LlamaServer) -> None:
    engine = engine_for(server, max_reasks=1)
    msgs = [{"role": "user", "content": "What is the capital of France?"}]
    c = engine.complete(msgs, response_model=Capital, max_tokens=3)
    assert not c.ok and c.parsed is None
    assert c.error is not None and c.error.startswith("reply did not match Capital after 2")
    assert engine.usage.snapshot().total.requests == 2  # asked again once with the error


def test_the_json_schema_format_is_refused_with_the_fix_in_one_line(server: LlamaServer) -> None:
    engine = engine_for(server, json_schema=True)
    with pytest.raises(SchemaModeUnsupported) as info:
        engine.complete([{"role": "user", "content": "What is 2 + 3?"}], response_model=Sum)
    message = str(info.value)
    assert "\n" not in message and "app.py" not in message and server.url in message
    assert "'json_schema'" in message and 'json_schema="json_object"' in message
    assert engine.usage.snapshot().total.requests == 1  # not retried


def ask(base_url: str, system: str, question: str) -> str:
    """Plain application code: the openai client, nothing of textgrad-lab."""
    client = openai.OpenAI(base_url=base_url, api_key="not-needed", max_retries=0)
    reply = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "system", "content": system}, {"role": "user", "content": question}],
        temperature=0,
        max_tokens=8,
    )
    return reply.choices[0].message.content or ""


def test_a_captured_client_call_is_routed_recorded_and_linked(server: LlamaServer) -> None:
    system = tl.Parameter("Reply in one word.", name="system", role="system prompt")
    question = "Name a colour."
    direct = ask(server.url, system.value, question)  # not captured: the server itself
    # No engine given: the capture builds one for the client's own base_url.
    with tl.trace(capture=["openai"], params=[system]) as g:
        routed = ask(server.url, system.value, question)
    assert routed == direct
    node = g.node_for(routed)
    assert node.op is not None and node.op.name == CAPTURED_OP
    assert [n.param for n, _ in g.inputs_of(node)] == [system]
    assert f"[system]\n{system.value}" in node.inputs["messages"]
    assert question in node.inputs["messages"]

    engine = engine_for(server)  # an engine given: the calls are accounted on it
    with tl.capture("openai", engine=engine):
        assert ask(server.url, system.value, question) == direct
    assert engine.usage.snapshot().total.calls == 1


def optimize_example(server: LlamaServer, out: Path, *options: str) -> Result:
    """``textgrad-lab optimize examples/unmodified_client.py`` on the server, one step of
    one example (OptoPrime: a single structured call a step, the shortest run)."""
    from typer.testing import CliRunner

    from textgrad_lab.cli import app

    args = [
        "optimize", str(EXAMPLE),
        "--model", f"openai-compatible/{MODEL}", "--api-base", server.url, *options,
        "--optimizer", "optoprime",
        "--steps", "1", "--batch-size", "1", "--split", "1,1,0", "--out", str(out),
    ]  # fmt: skip
    return CliRunner().invoke(app, args, catch_exceptions=False)


def test_optimize_the_unedited_client_example_on_the_server(
    server: LlamaServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    res = optimize_example(server, out, "--json-schema", "json_object")
    assert res.exit_code == 0, res.output
    history = [json.loads(x) for x in (out / "history.jsonl").read_text().splitlines()]
    assert [h["step"] for h in history] == [1] and len(history[0]["example_ids"]) == 1
    assert not history[0]["failed"] and (out / "steps" / "step-000001.json").is_file()
    assert history[0]["usage"]["calls"] >= 1
    assert json.loads((out / "cli.json").read_text())["options"]["json_schema"] == "json_object"
    with capsys.disabled():  # the real score, whatever it is (the 135M model shows no gain)
        print(f"\n[llama.cpp server, 1 step] {history[0]['decision']}; "
              f"validation {history[0]['val_score']}")  # fmt: skip


def test_optimize_without_json_object_stops_in_one_line_naming_the_flag(
    server: LlamaServer, tmp_path: Path
) -> None:
    res = optimize_example(server, tmp_path / "run")
    assert res.exit_code == 1
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "SchemaModeUnsupported" in lines[0]
    assert "--json-schema json_object" in lines[0]
