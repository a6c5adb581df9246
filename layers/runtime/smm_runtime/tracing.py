"""OpenTelemetry traces that follow a dispatch into the function it started.

The worker's activity span (temporalio's TracingInterceptor) is the parent: the dispatch
puts its W3C trace context in the event (``trace``), and the function's span for the
invocation continues the same trace. Export is off unless configured with OpenTelemetry's
own variables: ``OTEL_TRACES_EXPORTER=otlp`` with ``OTEL_EXPORTER_OTLP_ENDPOINT`` (on AWS, the
ADOT collector extension's ``http://localhost:4318``, or any collector), or
``OTEL_TRACES_EXPORTER=console`` (one JSON line per span on stdout, for local debugging).
Nothing is created or sent otherwise: the API's no-op tracer stays in place.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
)

_provider: TracerProvider | None = None


def _one_line(span: ReadableSpan) -> str:
    return json.dumps(json.loads(span.to_json())) + "\n"


def exporter_processor(environ: Mapping[str, str]) -> SpanProcessor | None:
    """The span processor OpenTelemetry's variables ask for, or None (the default: off)."""
    kind = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if kind == "console":
        return SimpleSpanProcessor(ConsoleSpanExporter(formatter=_one_line))
    if kind == "otlp" or (not kind and environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return BatchSpanProcessor(OTLPSpanExporter())
    return None


def configure(service: str, environ: Mapping[str, str] | None = None) -> bool:
    """Install a tracer provider for this process when export is configured; True if so."""
    global _provider
    env = os.environ if environ is None else environ
    processor = exporter_processor(env)
    if processor is None or _provider is not None:
        return _provider is not None
    _provider = TracerProvider(
        resource=Resource.create({"service.name": env.get("OTEL_SERVICE_NAME", service)})
    )
    _provider.add_span_processor(processor)
    trace.set_tracer_provider(_provider)
    return True


def carrier() -> dict[str, str] | None:
    """The current trace context as W3C headers (traceparent, tracestate), or None."""
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return headers or None


def parent(headers: object) -> context.Context | None:
    """The context an event's ``trace`` names (None when it has none, or a malformed one)."""
    if not isinstance(headers, dict):
        return None
    clean = {
        str(k): str(v)
        for k, v in headers.items()
        if k in ("traceparent", "tracestate") and isinstance(v, str) and len(v) <= 512
    }
    return propagate.extract(clean) if clean else None


def flush(timeout_ms: int = 2000) -> None:
    """Send what is buffered (Lambda freezes the process after the handler returns)."""
    if _provider is not None:
        _provider.force_flush(timeout_ms)


@contextmanager
def invocation_span(raw_event: object) -> Iterator[trace.Span]:
    """The function's span for one event, a child of the dispatch that sent it (ids only as
    attributes: never the token or the request)."""
    event = raw_event if isinstance(raw_event, dict) else {}
    tracer = trace.get_tracer("smm_runtime.runner")
    name = f"function {str(event.get('kind') or 'unknown')[:40]}"
    try:
        with tracer.start_as_current_span(
            name,
            context=parent(event.get("trace")),
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "smm.workflow_id": str(event.get("workflow_id", ""))[:200],
                "smm.activity_id": str(event.get("activity_id", ""))[:64],
                "smm.attempt": str(event.get("attempt", ""))[:8],
            },
        ) as span:
            yield span
    finally:
        flush()
