"""Trace context in the event: carried as W3C headers, read back only when well formed, and
no exporter (nothing created, nothing sent) unless OpenTelemetry's variables ask for one."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

from smm_runtime import tracing


def test_export_is_off_unless_configured() -> None:
    assert tracing.exporter_processor({}) is None
    assert tracing.exporter_processor({"OTEL_TRACES_EXPORTER": "none"}) is None
    assert isinstance(
        tracing.exporter_processor({"OTEL_TRACES_EXPORTER": "console"}), SimpleSpanProcessor
    )
    assert isinstance(
        tracing.exporter_processor({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318"}),
        BatchSpanProcessor,
    )


def test_a_span_context_travels_as_w3c_headers_and_comes_back() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("dispatch") as span:
        headers = tracing.carrier()
    assert headers is not None and headers["traceparent"].startswith("00-")
    restored = trace.get_current_span(tracing.parent(headers)).get_span_context()
    assert restored.trace_id == span.get_span_context().trace_id
    assert restored.span_id == span.get_span_context().span_id


def test_no_or_malformed_trace_context_starts_a_new_trace() -> None:
    assert tracing.carrier() is None  # no span: nothing to carry
    assert tracing.parent(None) is None and tracing.parent("00-abc") is None
    assert tracing.parent({"x-other": "1"}) is None
    junk = tracing.parent({"traceparent": "not-a-traceparent"})
    assert not trace.get_current_span(junk).get_span_context().is_valid
