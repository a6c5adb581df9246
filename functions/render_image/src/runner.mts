// The activity-runner for Node functions: the same protocol as smm_runtime.runner in Python.
// One event ends in exactly one of complete(result), fail(typed error), reportCancellation(),
// or a stop when the attempt is no longer live (NotFound) or cannot be reported to: a refusal
// no retry changes (unauthenticated, permission denied, invalid argument, unknown — what the
// server answers a garbled token) stops at once, as does a whole heartbeat timeout without one
// heartbeat getting through. Every call has its own deadline, and deliveries stop trying
// before Lambda would end the invocation.
// The task token is a bearer capability: it never reaches a log.
import type { Context } from 'aws-lambda';
import {
  ActivityCancelledError, ActivityNotFoundError, ActivityPausedError, ActivityResetError,
  type AsyncCompletionClient,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  type ActivityEvent, type ActivityResult, checkResult, type ComputeUsage, ContractError, ERROR_TYPES,
  extractToken, parseEvent, rawField,
} from './contract.mjs';
import { emitActivityMetrics, log, type LogFields } from './observability.mjs';
import { completionClient, invalidateClient, rekeyClient, withStatus } from './temporal.mjs';
import { withInvocationSpan } from './tracing.mjs';

export class WorkError extends Error {
  readonly type: string;
  readonly nonRetryable: boolean;

  constructor(message: string, { type = ERROR_TYPES.FUNCTION_ERROR, nonRetryable = false } = {}) {
    super(message);
    this.type = type;
    this.nonRetryable = nonRetryable;
  }
}

export class InvalidRequestError extends WorkError {
  constructor(message: string) { super(message, { type: ERROR_TYPES.INVALID_REQUEST, nonRetryable: true }); }
}

export class UnsafeMediaError extends WorkError {
  constructor(message: string) { super(message, { type: ERROR_TYPES.UNSAFE_MEDIA, nonRetryable: true }); }
}

const DELIVER_WINDOW_MS = 120_000;
const LAMBDA_MARGIN_MS = 3_000;
// Each call to the server has its own deadline (RPC_TIMEOUT in smm_runtime.runner): a hung
// call ends as DEADLINE_EXCEEDED, a passing fault, instead of holding the invocation.
export const RPC_TIMEOUT_MS = 10_000;
// gRPC status codes (as smm_runtime.runner classifies them).
const REFUSED_CODES = new Set([16, 7, 3, 2]); // UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT, UNKNOWN
// The answers to a key that is not (or no longer) valid: the ones worth reading the key again.
const KEY_CODES = new Set([16, 7]);
const TRANSIENT_CODES = new Set([14, 4, 8, 10, 13]); // UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL

function grpcCode(err: unknown): number | null {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === 'number' ? code : null;
}

const messageOf = (err: unknown): string => String((err as Error | undefined)?.message ?? err);

export { log };

// What a heartbeat learned: the attempt goes on (live), or why it must stop.
type BeatState = 'live' | 'stale' | 'cancelled' | 'refused';

function heartbeatState(err: unknown): Exclude<BeatState, 'live'> | null {
  if (err instanceof ActivityNotFoundError) return 'stale';
  if (err instanceof ActivityCancelledError || err instanceof ActivityResetError ||
      err instanceof ActivityPausedError) return 'cancelled';
  const code = grpcCode(err);
  if (code !== null && REFUSED_CODES.has(code)) return 'refused';
  return null;
}

async function deliver<T>(send: () => Promise<T>, lambdaDeadline = Infinity,
  rekey: () => Promise<boolean> = async () => false): Promise<T> {
  // A finished render is worth riding out a Temporal server restart for, but only a
  // passing fault, and never past the invocation's own end.
  let delay = 500;
  let rekeyed = false;
  const deadline = Math.min(Date.now() + DELIVER_WINDOW_MS, lambdaDeadline - LAMBDA_MARGIN_MS);
  for (;;) {
    try {
      return await send();
    } catch (err) {
      const code = grpcCode(err);
      if (code !== null && KEY_CODES.has(code) && !rekeyed) {
        rekeyed = true; // once: a key refused again stays refused
        if (await rekey()) {
          log('WARN', 'Temporal refused the key; retrying with the new');
          continue;
        }
      }
      const passing = code === null || TRANSIENT_CODES.has(code);
      if (err instanceof ActivityNotFoundError || !passing || Date.now() + delay > deadline) {
        throw err;
      }
      log('WARN', 'delivery to Temporal failed; retrying', { error: messageOf(err) });
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 5000);
  }
}

// The client's calls, each under its own deadline (BaseClient.withDeadline, which cancels
// the gRPC call itself, not only our wait for it).
type Token = Uint8Array;
type Completion = Pick<AsyncCompletionClient, 'heartbeat' | 'complete' | 'fail' | 'reportCancellation'>;
// The client a runner reports through: a real AsyncCompletionClient, or a test's stand-in.
export type RunnerClient = Completion & Pick<AsyncCompletionClient, 'withDeadline'>;

function withDeadlines(client: RunnerClient, rpcTimeoutMs: number): Completion {
  const bounded = <R,>(call: () => Promise<R>): Promise<R> =>
    withStatus(() => client.withDeadline(Date.now() + rpcTimeoutMs, call));
  return {
    heartbeat: (token: Token, details?: unknown) => bounded(() => client.heartbeat(token, details)),
    complete: (token: Token, result: unknown) => bounded(() => client.complete(token, result)),
    fail: (token: Token, err: unknown) => bounded(() => client.fail(token, err)),
    reportCancellation: (token: Token, details?: unknown) =>
      bounded(() => client.reportCancellation(token, details)),
  } as Completion;
}

// What a kind's work gets besides its request.
export interface WorkContext {
  signal: AbortSignal;
  checkpoint: Record<string, unknown> | null; // the previous attempt's last heartbeat
  report: (more: Record<string, unknown>) => void; // merged into the next heartbeat
  usage: () => ComputeUsage;
}
export type Work = (request: ActivityEvent['request'], ctx: WorkContext) => Promise<unknown>;
export type Works = Record<string, Work>;
export type Outcome = 'rejected' | 'invalid' | 'completed' | 'failed' | Exclude<BeatState, 'live'>;

export interface RunOptions {
  intervalMs?: number;
  client?: RunnerClient;
  rpcTimeoutMs?: number;
  // Told when the server refuses the credentials (default: the cached client reconnects).
  onRefused?: () => void;
  // Asked when the server refuses the key mid-invocation: true when a new key was read and
  // the call may be retried (default: the cached client's, temporal.mts rekeyClient).
  rekey?: () => Promise<boolean>;
}

// Runs one event to its end; its outcome (never the token) is the invocation's answer, and
// what it took is recorded as metrics.
export async function runActivity(raw: unknown, context: Partial<Context> | undefined, works: Works,
  options: RunOptions = {}): Promise<{ outcome: Outcome }> {
  const started = Date.now();
  const { outcome, result } = await withInvocationSpan(raw, () => runOnce(raw, context, works, options));
  emitActivityMetrics(String(rawField(raw, 'kind') ?? 'unknown').slice(0, 40), outcome,
    (Date.now() - started) / 1000, result);
  return { outcome };
}

async function runOnce(raw: unknown, context: Partial<Context> | undefined, works: Works,
  { intervalMs, client: given, rpcTimeoutMs = RPC_TIMEOUT_MS, onRefused = invalidateClient,
    rekey = () => rekeyClient() }: RunOptions = {}):
  Promise<{ outcome: Outcome; result?: ActivityResult }> {
  const interval = intervalMs ?? Number(process.env.SMM_HEARTBEAT_INTERVAL_S || 5) * 1000;
  const token = extractToken(raw);
  if (!token) {
    log('ERROR', 'event rejected: it has no valid base64 task_token');
    return { outcome: 'rejected' };
  }
  const client = withDeadlines(given ?? await completionClient(), rpcTimeoutMs);
  const remaining = context?.getRemainingTimeInMillis?.();
  const lambdaDeadline = typeof remaining === 'number' ? Date.now() + remaining : Infinity;
  // The Node client's fail() has no last-heartbeat details (unlike Python's, 1.24
  // AsyncCompletionClient.fail(token, err, options)); the server keeps the last heartbeat's,
  // which is what the next attempt receives.
  const fail = async (failure: ApplicationFailure): Promise<void> => {
    try {
      await deliver(() => client.fail(token, failure), lambdaDeadline, rekey);
    } catch (err) {
      if (!(err instanceof ActivityNotFoundError)) throw err;
    }
  };
  let event: ActivityEvent;
  try {
    event = parseEvent(raw);
  } catch (err) {
    if (!(err instanceof ContractError)) throw err;
    log('WARN', 'event rejected', { error: err.message, field: err.field });
    await fail(ApplicationFailure.create({ message: err.message, type: err.type,
      nonRetryable: true }));
    return { outcome: 'invalid' };
  }
  const keys: LogFields = { workflow_id: event.workflow_id, activity_id: event.activity_id,
    kind: event.kind, attempt: event.attempt };
  const work = works[event.kind];
  if (!work) {
    await fail(ApplicationFailure.create({
      message: `kind: this function handles ${JSON.stringify(Object.keys(works))}, not ` +
        `'${event.kind}'`, type: ERROR_TYPES.INVALID_REQUEST, nonRetryable: true }));
    return { outcome: 'invalid' };
  }
  const details: Record<string, unknown> = { ...(event.heartbeat_details || {}) };
  const timeoutMs = event.heartbeat_timeout_s ? event.heartbeat_timeout_s * 1000 : null;
  let lastBeat = Date.now();
  const beat = async (rekeyed = false): Promise<BeatState> => {
    try {
      await client.heartbeat(token, { ...details });
      lastBeat = Date.now();
      return 'live';
    } catch (err) {
      const state = heartbeatState(err);
      const code = grpcCode(err);
      if (state === 'refused' && code !== null && KEY_CODES.has(code) && !rekeyed &&
          await rekey()) {
        // The key was rotated and the old one revoked: the work goes on, on the new.
        log('WARN', 'Temporal refused the key; heartbeating with the new', keys);
        return beat(true);
      }
      if (state === 'refused') {
        log('ERROR', 'Temporal refused the heartbeat; stopping the work',
          { ...keys, code: grpcCode(err) });
        onRefused(); // a rotated or revoked key: the next invocation reads it anew
      }
      if (state) return state;
      if (timeoutMs && Date.now() - lastBeat > timeoutMs) {
        log('WARN', 'no heartbeat got through for a whole heartbeat timeout; stopping', keys);
        return 'stale';
      }
      log('WARN', 'heartbeat failed', { ...keys, error: messageOf(err) });
      return 'live';
    }
  };
  const finishWithout = async (state: Exclude<BeatState, 'live'>): Promise<{ outcome: Outcome }> => {
    if (state === 'refused') return { outcome: 'refused' };
    if (state === 'cancelled') {
      try {
        await client.reportCancellation(token);
      } catch (err) {
        if (!(err instanceof ActivityNotFoundError)) throw err;
      }
    }
    log('INFO', state === 'cancelled' ? 'cancelled' : 'attempt no longer live; stopped', keys);
    return { outcome: state };
  };
  // Heartbeat before spending compute: a stale or cancelled attempt stops here.
  let state: BeatState = await beat();
  if (state !== 'live') return finishWithout(state);

  const abort = new AbortController();
  const started = Date.now();
  const memoryMb = Number(context?.memoryLimitInMB || process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE || 0);
  const ctx: WorkContext = {
    signal: abort.signal,
    checkpoint: event.heartbeat_details || null,
    report: (more) => Object.assign(details, more),
    usage: () => {
      const ms = Date.now() - started;
      return { duration_ms: ms, memory_mb: memoryMb,
        gb_seconds: Math.round((ms / 1000) * (memoryMb / 1024) * 1e6) / 1e6 };
    },
  };
  const running = work(event.request, ctx);
  let settled = false;
  running.then(() => { settled = true; }, () => { settled = true; });
  while (!settled) {
    await Promise.race([running.catch(() => {}), new Promise((r) => setTimeout(r, interval))]);
    if (settled || state !== 'live') continue;
    state = await beat();
    if (state !== 'live') abort.abort();
  }
  let result: ActivityResult;
  try {
    result = checkResult(await running);
  } catch (thrown) {
    if (abort.signal.aborted && state !== 'live') return finishWithout(state);
    const err = thrown instanceof Error ? thrown : new Error(String(thrown));
    const typed = err instanceof WorkError ? err : null;
    log(typed ? 'WARN' : 'ERROR', typed ? 'work failed' : 'work crashed',
      { ...keys, error: err.message, error_type: typed ? typed.type : ERROR_TYPES.FUNCTION_ERROR });
    await fail(ApplicationFailure.create({
      message: typed ? err.message : `${err.name}: ${err.message}`,
      type: typed ? typed.type : ERROR_TYPES.FUNCTION_ERROR, nonRetryable: typed ? typed.nonRetryable : false,
    }));
    return { outcome: 'failed' };
  }
  if (state === 'stale' || state === 'refused') return finishWithout(state);
  try {
    await deliver(() => client.complete(token, result), lambdaDeadline, rekey);
  } catch (err) {
    if (err instanceof ActivityNotFoundError) return finishWithout('stale');
    throw err;
  }
  log('INFO', 'completed', keys);
  return { outcome: 'completed', result };
}
