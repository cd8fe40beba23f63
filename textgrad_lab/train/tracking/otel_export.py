"""Where a run's spans go: a tracer provider with an OTLP exporter and a JSON-lines file.

- ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) set: spans
  are batched to that collector by the SDK's OTLP/HTTP exporter (which reads the other
  standard ``OTEL_EXPORTER_OTLP_*`` variables itself, headers included).
- ``file``: every span is also written as one JSON object a line, for reading without a
  collector (the command line writes ``RUN_DIR/traces.jsonl``).

The provider is the run's own; the process-wide OpenTelemetry provider is left alone.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from textgrad_lab.train.tracking import require

ENDPOINT_ENVS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def otlp_endpoint() -> str | None:
    """The collector the environment names, if any."""
    for name in ENDPOINT_ENVS:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def json_lines_exporter(path: str | Path) -> Any:
    """A span exporter appending each finished span to ``path`` as one JSON line."""
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    class JsonLinesSpanExporter(SpanExporter):
        def __init__(self, file: Path) -> None:
            self.file = file
            self._lock = threading.Lock()

        def export(self, spans: Sequence[Any]) -> Any:
            lines = "".join(json.dumps(json.loads(s.to_json())) + "\n" for s in spans)
            with self._lock:
                self.file.parent.mkdir(parents=True, exist_ok=True)
                with self.file.open("a", encoding="utf-8") as fh:
                    fh.write(lines)
            return SpanExportResult.SUCCESS

        def shutdown(self) -> None:
            return None

    return JsonLinesSpanExporter(Path(path))


def build_provider(service_name: str = "textgrad-lab", file: str | Path | None = None) -> Any:
    """A tracer provider exporting as the module docstring says."""
    require("opentelemetry.sdk", "opentelemetry-sdk", "otel", "OpenTelemetry tracing")
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if otlp_endpoint() is not None:
        require(
            "opentelemetry.exporter.otlp.proto.http",
            "opentelemetry-exporter-otlp-proto-http",
            "otel",
            "exporting spans to OTEL_EXPORTER_OTLP_ENDPOINT",
        )
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    if file is not None:
        provider.add_span_processor(SimpleSpanProcessor(json_lines_exporter(file)))
    return provider
