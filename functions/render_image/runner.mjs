// The activity-runner for Node functions: the same protocol as smm_runtime.runner in Python.
// One event ends in exactly one of complete(result), fail(typed error), reportCancellation(),
// or a quiet stop when the attempt is no longer live (NotFound). The task token is a bearer
// capability: it never reaches a log.
import {
  ActivityCancelledError, ActivityNotFoundError, ActivityPausedError, ActivityResetError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { checkResult, ContractError, ERROR_TYPES, extractToken, parseEvent } from './contract.mjs';
import { completionClient } from './temporal.mjs';

export class WorkError extends Error {
  constructor(message, { type = ERROR_TYPES.FUNCTION_ERROR, nonRetryable = false } = {}) {
    super(message);
    this.type = type;
    this.nonRetryable = nonRetryable;
  }
}

export class InvalidRequestError extends WorkError {
  constructor(message) { super(message, { type: ERROR_TYPES.INVALID_REQUEST, nonRetryable: true }); }
}

export class UnsafeMediaError extends WorkError {
  constructor(message) { super(message, { type: ERROR_TYPES.UNSAFE_MEDIA, nonRetryable: true }); }
}

const DELIVER_WINDOW_MS = 120_000;

export function log(level, message, fields = {}) {
  // Structured, one JSON object a line, like Powertools in the Python functions.
  const line = { level, message, service: 'render-image', timestamp: new Date().toISOString(),
    ...fields };
  (level === 'ERROR' ? console.error : console.log)(JSON.stringify(line));
}

function heartbeatState(err) {
  if (err instanceof ActivityNotFoundError) return 'stale';
  if (err instanceof ActivityCancelledError || err instanceof ActivityResetError ||
      err instanceof ActivityPausedError) return 'cancelled';
  return null;
}

async function deliver(send) {
  // A finished render is worth riding out a Temporal server restart for.
  let delay = 500;
  const deadline = Date.now() + DELIVER_WINDOW_MS;
  for (;;) {
    try {
      return await send();
    } catch (err) {
      if (err instanceof ActivityNotFoundError || Date.now() + delay > deadline) throw err;
      log('WARN', 'delivery to Temporal failed; retrying', { error: String(err.message) });
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 5000);
  }
}

export async function runActivity(raw, context, works, { intervalMs } = {}) {
  const interval = intervalMs ?? Number(process.env.SMM_HEARTBEAT_INTERVAL_S || 5) * 1000;
  const token = extractToken(raw);
  if (!token) {
    log('ERROR', 'event rejected: it has no valid base64 task_token');
    return { outcome: 'rejected' };
  }
  const client = await completionClient();
  const fail = async (failure, details) => {
    try {
      await deliver(() => client.fail(token, failure, details ? [details] : undefined));
    } catch (err) {
      if (!(err instanceof ActivityNotFoundError)) throw err;
    }
  };
  let event;
  try {
    event = parseEvent(raw);
  } catch (err) {
    if (!(err instanceof ContractError)) throw err;
    log('WARN', 'event rejected', { error: err.message, field: err.field });
    await fail(ApplicationFailure.create({ message: err.message, type: err.type,
      nonRetryable: true }));
    return { outcome: 'invalid' };
  }
  const keys = { workflow_id: event.workflow_id, activity_id: event.activity_id,
    kind: event.kind, attempt: event.attempt };
  const work = works[event.kind];
  if (!work) {
    await fail(ApplicationFailure.create({
      message: `kind: this function handles ${JSON.stringify(Object.keys(works))}, not ` +
        `'${event.kind}'`, type: ERROR_TYPES.INVALID_REQUEST, nonRetryable: true }));
    return { outcome: 'invalid' };
  }
  const details = { ...(event.heartbeat_details || {}) };
  const beat = async () => {
    try {
      await client.heartbeat(token, { ...details });
      return 'live';
    } catch (err) {
      const state = heartbeatState(err);
      if (state) return state;
      log('WARN', 'heartbeat failed', { ...keys, error: String(err.message) });
      return 'live';
    }
  };
  const finishWithout = async (state) => {
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
  let state = await beat();
  if (state !== 'live') return finishWithout(state);

  const abort = new AbortController();
  const started = Date.now();
  const memoryMb = Number(context?.memoryLimitInMB || process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE || 0);
  const ctx = {
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
  let result;
  try {
    result = checkResult(await running);
  } catch (err) {
    if (abort.signal.aborted) return finishWithout(state);
    const typed = err instanceof WorkError;
    log(typed ? 'WARN' : 'ERROR', typed ? 'work failed' : 'work crashed',
      { ...keys, error: String(err.message), error_type: typed ? err.type : ERROR_TYPES.FUNCTION_ERROR });
    await fail(ApplicationFailure.create({
      message: typed ? err.message : `${err.name}: ${err.message}`,
      type: typed ? err.type : ERROR_TYPES.FUNCTION_ERROR, nonRetryable: typed ? err.nonRetryable : false,
    }), details);
    return { outcome: 'failed' };
  }
  if (state === 'stale') return finishWithout('stale');
  try {
    await deliver(() => client.complete(token, result));
  } catch (err) {
    if (err instanceof ActivityNotFoundError) return finishWithout('stale');
    throw err;
  }
  log('INFO', 'completed', keys);
  return { outcome: 'completed' };
}
