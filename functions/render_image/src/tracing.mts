// The function's span for one event, continuing the worker's trace (the Node twin of
// smm_runtime/tracing.py): the dispatch carries its W3C trace context in the event (`trace`).
// Off unless OpenTelemetry's own variables ask: OTEL_TRACES_EXPORTER=otlp with
// OTEL_EXPORTER_OTLP_ENDPOINT (a collector, e.g. the ADOT Lambda layer's), or
// OTEL_TRACES_EXPORTER=console (a JSON line per span, in the shape the Python side prints).
import { ROOT_CONTEXT, SpanKind, defaultTextMapGetter } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor, type ReadableSpan, SimpleSpanProcessor, type SpanExporter, type SpanProcessor, TracerProvider,
} from '@opentelemetry/sdk-trace';
import { rawField } from './contract.mjs';

const SERVICE = 'render-image';
const propagator = new W3CTraceContextPropagator();
let provider: TracerProvider | null | undefined; // undefined: not decided yet; null: export is off

const hex = (id: string): string => `0x${id}`;

// One JSON line per span, as Python's ConsoleSpanExporter(formatter=one line) prints it.
const jsonLines: SpanExporter = {
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    for (const span of spans) {
      const context = span.spanContext();
      process.stdout.write(`${JSON.stringify({
        name: span.name, context: { trace_id: hex(context.traceId), span_id: hex(context.spanId) },
        parent_id: span.parentSpanContext ? hex(span.parentSpanContext.spanId) : null,
        attributes: span.attributes, resource: { attributes: span.resource.attributes },
      })}\n`);
    }
    done({ code: ExportResultCode.SUCCESS });
  },
  shutdown: async () => {},
};

function processorFor(env: Record<string, string | undefined>): SpanProcessor | null {
  const kind = (env.OTEL_TRACES_EXPORTER || '').trim().toLowerCase();
  if (kind === 'console') return new SimpleSpanProcessor({ exporter: jsonLines });
  if (kind === 'otlp' || (!kind && env.OTEL_EXPORTER_OTLP_ENDPOINT)) {
    return new BatchSpanProcessor({ exporter: new OTLPTraceExporter() });
  }
  return null;
}

function tracerProvider(env = process.env): TracerProvider | null {
  if (provider === undefined) {
    const processor = processorFor(env);
    provider = processor && new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || SERVICE }),
      spanProcessors: [processor],
    });
  }
  return provider;
}

// Only traceparent and tracestate, as strings of a sane length: anything else starts a new trace.
function carrier(event: unknown): Record<string, string> {
  const trace = rawField(event, 'trace');
  if (!trace || typeof trace !== 'object') return {};
  const fields = trace as Record<string, unknown>;
  return Object.fromEntries(['traceparent', 'tracestate'].flatMap((k) => {
    const value = fields[k];
    return typeof value === 'string' && value.length <= 512 ? [[k, value]] : [];
  }));
}

// Runs `fn` inside the invocation's span (ids only as attributes: never the token or the
// request); sends the span before the invocation returns (Lambda freezes the process).
export async function withInvocationSpan<T extends { outcome: string }>(event: unknown, fn: () => Promise<T>): Promise<T> {
  const traced = tracerProvider();
  if (!traced) return fn();
  const parent = propagator.extract(ROOT_CONTEXT, carrier(event), defaultTextMapGetter);
  const span = traced.getTracer('render-image.runner').startSpan(
    `function ${String(rawField(event, 'kind') ?? 'unknown').slice(0, 40)}`,
    { kind: SpanKind.CONSUMER, attributes: {
      'smm.workflow_id': String(rawField(event, 'workflow_id') ?? '').slice(0, 200),
      'smm.activity_id': String(rawField(event, 'activity_id') ?? '').slice(0, 64),
      'smm.attempt': String(rawField(event, 'attempt') ?? '').slice(0, 8) } },
    parent);
  try {
    const answer = await fn();
    span.setAttribute('smm.outcome', answer.outcome);
    return answer;
  } finally {
    span.end();
    // A collector that cannot be reached loses the span, never the invocation.
    await traced.forceFlush().catch(() => {});
  }
}
