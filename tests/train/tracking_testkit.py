"""The mock prompt task of ``train_testkit`` with its engines in reach (to trace them),
and a loopback OTLP/HTTP collector that decodes what it is sent."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from train_testkit import FakeTextOptimizer, count_data, optimizer_reply, student_reply

import textgrad_lab as tl
from textgrad_lab.graphs.node import Node
from textgrad_lab.llm import MockEngine, UsageTracker
from textgrad_lab.train import Example, LocalExecutor, NumericMatch, Trainer


@dataclass
class Task:
    system: tl.Parameter
    student: MockEngine
    critic: MockEngine
    tracker: UsageTracker
    workflow: Any
    optimizer: FakeTextOptimizer


def prompt_task(latency: float = 0.0, prefix: str = "") -> Task:
    """``prefix`` goes in front of every question (to carry a secret into prompts)."""
    tracker = UsageTracker()
    student = MockEngine(student_reply, latency=latency, usage=tracker, model="student-1")
    critic = MockEngine(optimizer_reply, latency=latency, usage=tracker, model="critic-1")
    system = tl.Parameter("Answer the question.", name="system", role="system prompt")

    @tl.op
    async def solve(system: str, question: str) -> str:
        """Ask the student model the question under the system prompt."""
        msgs = [
            {"role": "system", "content": system},
            {"role": "user", "content": prefix + question},
        ]
        return (await student.acomplete(msgs)).text

    async def workflow(ex: Example) -> Node:
        return await solve(system, ex.input)

    return Task(system, student, critic, tracker, workflow, FakeTextOptimizer([system], critic))


def trainer_for(task: Task, run_dir: Any = None, steps: int = 2, **kw: Any) -> Trainer:
    return Trainer(
        task.workflow,
        optimizer=task.optimizer,
        metric=NumericMatch(),
        train=count_data(8),
        val=count_data(4, start=100),
        batch_size=2,
        max_steps=steps,
        usage=task.tracker,
        run_dir=run_dir,
        executor=LocalExecutor(concurrency=4),
        **kw,
    )


class Collector:
    """An OTLP/HTTP trace receiver on 127.0.0.1: decodes each POST to /v1/traces."""

    def __init__(self) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
            ExportTraceServiceResponse,
        )

        self.requests: list[Any] = []
        self.paths: list[str] = []
        self.content_types: list[str] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                collector.paths.append(self.path)
                collector.content_types.append(self.headers.get("Content-Type", ""))
                if self.path != "/v1/traces":
                    self.send_response(404)
                    self.end_headers()
                    return
                req = ExportTraceServiceRequest()
                req.ParseFromString(body)
                collector.requests.append(req)
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def spans(self) -> list[Any]:
        """Every span received, with ``resource`` attributes kept per span."""
        out = []
        for req in self.requests:
            for rs in req.resource_spans:
                for ss in rs.scope_spans:
                    out.extend((rs.resource, span) for span in ss.spans)
        return out

    def __enter__(self) -> Collector:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def attr_value(value: Any) -> Any:
    """An OTLP AnyValue as Python."""
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [attr_value(v) for v in value.array_value.values]
    return getattr(value, kind) if kind else None


def search_for(task: Task, run_dir: Any = None, iterations: int = 3, **kw: Any) -> Any:
    """A beam search over the task's system prompt, the optimizer as its proposer."""
    from textgrad_lab.train.search import Search

    return Search(
        task.workflow,
        proposer=task.optimizer,
        metric=NumericMatch(),
        train=count_data(8),
        val=count_data(4, start=100),
        strategy="beam",
        minibatch_size=2,
        max_iterations=iterations,
        usage=task.tracker,
        run_dir=run_dir,
        executor=LocalExecutor(concurrency=4),
        **kw,
    )
