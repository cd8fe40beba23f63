"""OpenTelemetry traces of a run, with the real SDK: the span tree of mock steps and of
a search's iterations, the GenAI attributes of LLM calls, no secret anywhere, an OTLP
export to a loopback collector, and nothing imported when tracing is off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip(
    "opentelemetry.sdk", reason="the 'otel' extra is not installed (pip install -e '.[otel]')"
)

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import StatusCode
from tracking_testkit import Collector, attr_value, prompt_task, search_for, trainer_for

from textgrad_lab.llm import MockEngine
from textgrad_lab.llm.tracing import trace_engine
from textgrad_lab.train.tracking import OTelCallback

SECRET = "sk-test-tracing-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[2]


def memory_provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def children(spans: list[ReadableSpan]) -> dict[int | None, list[ReadableSpan]]:
    out: dict[int | None, list[ReadableSpan]] = {}
    for s in spans:
        out.setdefault(s.parent.span_id if s.parent else None, []).append(s)
    return out


def names(spans: list[ReadableSpan]) -> Counter[str]:
    return Counter(s.name for s in spans)


def traced_run(steps: int = 1, **task_kw: Any) -> tuple[list[ReadableSpan], Any, Any]:
    provider, exporter = memory_provider()
    task = prompt_task(**task_kw)
    otel = OTelCallback(provider, engines=[task.student, task.critic])
    result = trainer_for(task, steps=steps, callbacks=[otel]).fit()
    otel.close()
    return list(exporter.get_finished_spans()), result, task


def test_span_tree_of_a_search_run_and_its_iterations() -> None:
    provider, exporter = memory_provider()
    task = prompt_task()
    otel = OTelCallback(provider, engines=[task.student, task.critic])
    search = search_for(task, iterations=3, callbacks=[otel])
    state = search.fit()
    otel.close()
    spans = list(exporter.get_finished_spans())
    assert len({s.context.trace_id for s in spans}) == 1
    tree = children(spans)
    (run,) = tree[None]
    assert run.name == "run"
    assert run.attributes["textgrad_lab.strategy"] == "beam"
    assert run.attributes["textgrad_lab.status"] == "completed"
    assert run.attributes["textgrad_lab.iterations"] == 3
    assert run.attributes["textgrad_lab.pool_size"] == len(state.pool)
    assert run.attributes["textgrad_lab.best_score"] == search.best.val_mean
    top = sorted(tree[run.context.span_id], key=lambda s: s.start_time)
    assert [s.name for s in top] == ["eval", "iteration", "iteration", "iteration"]
    assert names(tree[top[0].context.span_id]) == {"sample": 4}  # the starting program
    for span, record in zip(top[1:], state.history, strict=True):
        a = span.attributes
        assert a["textgrad_lab.iteration"] == record.iteration
        assert a["textgrad_lab.kind"] == record.kind
        assert a["textgrad_lab.decision"] == record.decision
        assert a["textgrad_lab.metric_calls"] == record.metric_calls
        assert a["textgrad_lab.calls"] == record.usage.calls
        inside = names(tree[span.context.span_id])
        assert inside["update"] == 1 and inside["sample"] >= 2
        # the calls made inside an iteration are what its record counts
        below = [s for s in spans if s.name.startswith("chat ") and _under(s, span, spans)]
        assert len(below) == record.usage.calls
    added = [s for s, r in zip(top[1:], state.history, strict=True) if r.child is not None]
    assert added and all("eval" in names(tree[s.context.span_id]) for s in added)
    (update,) = [s for s in tree[top[1].context.span_id] if s.name == "update"]
    assert names(tree[update.context.span_id]) == {"chat critic-1": 1}
    calls = [s for s in spans if s.name.startswith("chat ")]
    assert len(calls) == state.usage.calls


def _under(span: ReadableSpan, root: ReadableSpan, spans: list[ReadableSpan]) -> bool:
    by_id = {s.context.span_id: s for s in spans}
    while span.parent is not None:
        if span.parent.span_id == root.context.span_id:
            return True
        span = by_id[span.parent.span_id]
    return False


def test_span_tree_of_a_mock_step() -> None:
    spans, result, _ = traced_run(steps=1)
    assert result.status == "completed"
    assert len({s.context.trace_id for s in spans}) == 1  # one trace for the run
    tree = children(spans)
    (run,) = tree[None]
    assert run.name == "run"
    assert run.attributes["textgrad_lab.status"] == "completed"
    assert run.attributes["textgrad_lab.steps"] == 1
    top = tree[run.context.span_id]
    assert [s.name for s in sorted(top, key=lambda s: s.start_time)] == ["eval", "step"]
    initial, step = sorted(top, key=lambda s: s.start_time)
    assert initial.attributes["textgrad_lab.split"] == "val"
    assert initial.attributes["textgrad_lab.examples"] == 4
    assert names(tree[initial.context.span_id]) == {"sample": 4}

    assert step.attributes["textgrad_lab.step"] == 1
    record = result.history[0]
    assert step.attributes["textgrad_lab.train_score"] == record.train_score
    assert step.attributes["textgrad_lab.accepted"] == record.accepted
    assert step.attributes["textgrad_lab.calls"] == record.usage.calls
    assert names(tree[step.context.span_id]) == {"sample": 2, "update": 1, "eval": 1}
    for sample in (s for s in tree[step.context.span_id] if s.name == "sample"):
        assert sample.attributes["textgrad_lab.backward"] is True
        parts = {s.name: s for s in tree[sample.context.span_id]}
        assert set(parts) == {"forward", "metric", "backward"}
        # the student's call nests in the forward; the critic's, in the backward
        (call,) = tree[parts["forward"].context.span_id]
        assert call.name == "chat student-1"
        assert all(
            s.name == "chat critic-1" for s in tree.get(parts["backward"].context.span_id, [])
        )
    (update,) = [s for s in tree[step.context.span_id] if s.name == "update"]
    assert names(tree[update.context.span_id]) == {"chat critic-1": 1}

    calls = [s for s in spans if s.name.startswith("chat ")]
    assert len(calls) == result.usage.calls
    a = calls[0].attributes
    assert a["gen_ai.operation.name"] == "chat"
    assert a["gen_ai.system"] == "mock"
    assert a["gen_ai.request.model"] in {"student-1", "critic-1"}
    assert a["gen_ai.usage.input_tokens"] > 0 and a["gen_ai.usage.output_tokens"] > 0
    assert a["textgrad_lab.llm.cache_hit"] is False
    assert a["textgrad_lab.llm.retries"] == 0
    assert "gen_ai.input.messages" not in a and "gen_ai.output.messages" not in a
    total_in = sum(s.attributes["gen_ai.usage.input_tokens"] for s in calls)
    assert total_in == result.usage.prompt_tokens


def all_text(spans: list[ReadableSpan]) -> str:
    return "\n".join(
        json.dumps([s.name, dict(s.attributes or {}), [dict(e.attributes or {}) for e in s.events]])
        + (s.status.description or "")
        for s in spans
    )


def test_no_secret_in_spans_and_content_only_on_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)
    spans, _, _ = traced_run(steps=1, prefix=f"(key {SECRET}) ")
    text = all_text(spans)
    assert SECRET not in text and "How many fruits" not in text  # no content by default

    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    spans, _, _ = traced_run(steps=1, prefix=f"(key {SECRET}) ")
    text = all_text(spans)
    assert SECRET not in text
    student = next(s for s in spans if s.name == "chat student-1")
    messages = json.loads(student.attributes["gen_ai.input.messages"])
    assert messages[1]["content"].startswith("(key ***) How many fruits?")
    reply = json.loads(student.attributes["gen_ai.output.messages"])
    assert reply[0]["role"] == "assistant" and reply[0]["content"]


async def test_llm_span_counts_retries_and_cache_hits(tmp_path: Path) -> None:
    provider, exporter = memory_provider()
    tracer = provider.get_tracer("test")
    flaky = MockEngine("ok", fail={"server_error": 2}, retry={"base_delay": 0.0}, model="m")
    cached = MockEngine("hi", cache=True, cache_dir=str(tmp_path), model="c")
    assert trace_engine(flaky, tracer) and trace_engine(cached, tracer)
    assert not trace_engine(flaky, tracer)  # an engine is traced once
    await flaky.acomplete([{"role": "user", "content": "q"}])
    await cached.acomplete([{"role": "user", "content": "q"}])
    await cached.acomplete([{"role": "user", "content": "q"}])
    retried, miss, hit = exporter.get_finished_spans()
    assert retried.attributes["textgrad_lab.llm.retries"] == 2
    assert retried.attributes["textgrad_lab.llm.attempts"] == 3
    assert miss.attributes["textgrad_lab.llm.cache_hit"] is False
    assert hit.attributes["textgrad_lab.llm.cache_hit"] is True
    assert hit.attributes["gen_ai.usage.input_tokens"] == 0


async def test_failed_call_and_failed_step_are_error_spans() -> None:
    provider, exporter = memory_provider()
    engine = MockEngine("x", fail=["auth"], model="m")
    trace_engine(engine, provider.get_tracer("test"))
    with pytest.raises(Exception, match=r"401|auth|Auth"):
        await engine.acomplete([{"role": "user", "content": "q"}])
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "AuthenticationFailed"

    provider, exporter = memory_provider()
    task = prompt_task()

    def broken(example: Any) -> Any:
        raise RuntimeError(f"bug with {SECRET}")

    task.workflow = broken
    otel = OTelCallback(provider)
    with pytest.raises(Exception, match="bug with"):
        await trainer_for(task, steps=1, callbacks=[otel]).afit()
    by_name: dict[str, list[Any]] = {}
    for s in exporter.get_finished_spans():
        by_name.setdefault(s.name, []).append(s)
    # Samples run side by side: the first failure cancels the others, so each sample's
    # span is an error, and the one that failed says why (the rest were cancelled).
    for name in ("run", "eval", "sample", "forward"):
        assert by_name[name], name
        assert all(s.status.status_code is StatusCode.ERROR for s in by_name[name]), name
    causes = {s.attributes["error.type"] for s in by_name["forward"]}
    assert "SampleError" in causes and causes <= {"SampleError", "CancelledError"}
    assert SECRET not in all_text(list(exporter.get_finished_spans()))


def test_otlp_export_to_a_loopback_collector(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with Collector() as collector:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint)
        task = prompt_task()
        otel = OTelCallback(
            engines=[task.student, task.critic],
            service_name="tracing-test",
            trace_file=tmp_path / "traces.jsonl",
        )
        result = trainer_for(task, steps=1, callbacks=[otel]).fit()
        otel.close()
    assert set(collector.paths) == {"/v1/traces"}
    assert set(collector.content_types) == {"application/x-protobuf"}
    received = collector.spans()
    got = Counter(span.name for _, span in received)
    assert got["run"] == 1 and got["step"] == 1 and got["update"] == 1
    assert sum(n for name, n in got.items() if name.startswith("chat ")) == result.usage.calls
    resource, _ = received[0]
    service = {a.key: attr_value(a.value) for a in resource.attributes}["service.name"]
    assert service == "tracing-test"
    chat = next(span for _, span in received if span.name == "chat student-1")
    attrs = {a.key: attr_value(a.value) for a in chat.attributes}
    assert attrs["gen_ai.system"] == "mock" and attrs["gen_ai.usage.output_tokens"] > 0
    # the same spans went to the JSON-lines file
    lines = (tmp_path / "traces.jsonl").read_text().splitlines()
    assert Counter(json.loads(line)["name"] for line in lines) == got


def test_tracing_off_imports_neither_package() -> None:
    here = str(Path(__file__).parent)
    code = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {here!r})
        import textgrad_lab, textgrad_lab.train, textgrad_lab.train.tracking, textgrad_lab.cli
        from tracking_testkit import prompt_task, trainer_for
        assert trainer_for(prompt_task(), steps=1).fit().status == "completed"
        print([m for m in ("mlflow", "opentelemetry") if m in sys.modules])
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "MLFLOW_"))}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
