// The function's logs and metrics through Powertools for TypeScript, with the same fields
// and figures as the Python functions (smm_runtime.runner, smm_runtime.activity_metrics):
// JSON log lines with the workflow id, activity id, kind and attempt (never the task token),
// and per invocation the EMF metrics ActivitySeconds, GbSeconds and OutputBytes by kind and
// outcome, in the SmmCreativeEngine namespace.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ActivityResult } from './contract.mjs';

const SERVICE = 'render-image';
export const logger = new Logger({ serviceName: SERVICE });
const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || 'SmmCreativeEngine', serviceName: SERVICE,
});

const LEVELS = { DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;
export type Level = keyof typeof LEVELS;
export type LogFields = Record<string, unknown>;

export function log(level: Level, message: string, fields: LogFields = {}): void {
  logger[LEVELS[level]](message, fields);
}

// One EMF line per figure (a single-metric flushes at once), dimensioned by kind and outcome.
type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

export function emitActivityMetrics(kind: string, outcome: string, seconds: number,
  result: ActivityResult | undefined): void {
  const figures: [string, Unit, number][] = [['ActivitySeconds', MetricUnit.Seconds, seconds]];
  if (result?.usage) figures.push(['GbSeconds', MetricUnit.Count, Number(result.usage.gb_seconds)]);
  if (result?.size_bytes) figures.push(['OutputBytes', MetricUnit.Bytes, Number(result.size_bytes)]);
  for (const [name, unit, value] of figures) {
    const metric = metrics.singleMetric();
    metric.addDimensions({ kind, outcome });
    metric.addMetric(name, unit, value);
  }
}
