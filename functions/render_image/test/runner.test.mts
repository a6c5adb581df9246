// The Node runner classifies the server's answers as smm_runtime.runner does: a refusal no
// retry changes stops before any work; a whole heartbeat timeout without a beat stops the
// work; a delivery is not retried past the invocation's end.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Context } from 'aws-lambda';
import { type RunnerClient, type RunOptions, runActivity, type Work } from '../dist/runner.mjs';

const TOKEN = Buffer.from('task-token').toString('base64');

function grpcError(code: number): Error & { code: number } {
  return Object.assign(new Error(`grpc ${code}`), { code });
}

// A stand-in for the AsyncCompletionClient: each call is recorded with its time and answers
// with the gRPC status given (null: success); `deadlines` holds what each call was allowed.
interface FakeClient extends RunnerClient {
  calls: [name: string, at: number][];
  deadlines: number[];
}

function client({ heartbeat = null, complete = null }:
  { heartbeat?: number | null; complete?: number | null } = {}): FakeClient {
  const calls: [string, number][] = [];
  const answer = (name: string, code: number | null) => async (): Promise<void> => {
    calls.push([name, Date.now()]);
    if (code !== null) throw grpcError(code);
  };
  const deadlines: number[] = [];
  // As BaseClient.withDeadline does through gRPC: past the deadline the call fails with
  // DEADLINE_EXCEEDED (4).
  const withDeadline = <R,>(deadline: number | Date, fn: () => Promise<R>): Promise<R> => {
    const at = Number(deadline);
    deadlines.push(at - Date.now());
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => reject(grpcError(4)), Math.max(0, at - Date.now()));
      fn().then(resolve, reject).finally(() => clearTimeout(timer));
    });
  };
  return { calls, deadlines, withDeadline, heartbeat: answer('heartbeat', heartbeat),
    complete: answer('complete', complete), fail: answer('fail', null),
    reportCancellation: answer('reportCancellation', null) };
}

const context = (remainingMs = 60_000): Partial<Context> => ({ memoryLimitInMB: '512',
  getRemainingTimeInMillis: () => remainingMs });

// contract.mjs parses the event per kind: use a kind the Node function serves, with a
// request it accepts; the work itself is ours.
const sample = JSON.parse(readFileSync(new URL('../../../tests/events/RenderImageFunction.json',
  import.meta.url), 'utf8')) as
  Record<string, unknown> & { kind: string };

function run(fake: FakeClient, work: Work, extra: Record<string, unknown> = {},
  remainingMs = 60_000, options: RunOptions = {}): Promise<{ outcome: string }> {
  return runActivity({ ...sample, task_token: TOKEN, ...extra }, context(remainingMs),
    { [sample.kind]: work }, { intervalMs: 50, client: fake, ...options });
}

const REFUSALS: [string, number][] = [['UNAUTHENTICATED', 16], ['PERMISSION_DENIED', 7],
  ['INVALID_ARGUMENT', 3], ['UNKNOWN', 2]];
for (const [name, code] of REFUSALS) {
  test(`a heartbeat refused with ${name} stops before any work`, async () => {
    const fake = client({ heartbeat: code });
    let ran = false;
    let reconnects = 0;
    const out = await run(fake, async () => { ran = true; return {}; }, {}, 60_000,
      { onRefused: () => { reconnects += 1; } });
    assert.equal(out.outcome, 'refused');
    assert.equal(ran, false);
    assert.equal(reconnects, 1); // the cached client reads the key anew next time
    assert.deepEqual(fake.calls.map(([n]) => n), ['heartbeat']);
  });
}

// Work that would run 20 s unless the runner aborts it; `stopped()` says whether it did.
function patientWork() {
  let aborted = false;
  const work: Work = (request, ctx) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve({}), 20_000);
    ctx.signal.addEventListener('abort', () => {
      aborted = true;
      clearTimeout(timer);
      reject(new Error('aborted'));
    });
  });
  return { work, stopped: () => aborted };
}

test('a whole heartbeat timeout without a beat stops the work', async () => {
  const fake = client({ heartbeat: 14 });
  const { work, stopped } = patientWork();
  const out = await run(fake, work, { heartbeat_timeout_s: 0.3 });
  assert.equal(out.outcome, 'stale');
  assert.equal(stopped(), true);
});

test('a delivery is not retried past the invocation end', async () => {
  const fake = client({ complete: 14 });
  fake.heartbeat = async () => {};
  const started = Date.now();
  const finished: Work = (request, ctx) => Promise.resolve({ kind: 'render_image',
    output: request.output, width: 1080, height: 1080, size_bytes: 1, reused: false,
    usage: ctx.usage() });
  await assert.rejects(run(fake, finished, {}, 4_000));
  const deliveries = fake.calls.filter(([n]) => n === 'complete').map(([, at]) => at);
  assert.ok(deliveries.length >= 2, 'a passing fault is retried');
  assert.ok((deliveries.at(-1) ?? Infinity) - started < 4_000, 'but not past the invocation end');
});

test('every call to the server has its own deadline: a hung heartbeat cannot hold the work', async () => {
  const fake = client();
  let beats = 0;
  fake.heartbeat = async () => {
    beats += 1;
    if (beats > 1) await new Promise(() => {}); // the server stops answering, never fails
  };
  const { work, stopped } = patientWork();
  const out = await run(fake, work, { heartbeat_timeout_s: 0.5 }, 60_000, { rpcTimeoutMs: 200 });
  assert.equal(out.outcome, 'stale'); // the hung beats timed out, then the attempt had
  assert.equal(stopped(), true);
  assert.ok(fake.deadlines.length >= 2 && fake.deadlines.every((ms) => ms > 150 && ms <= 200),
    `each call got its deadline: ${fake.deadlines}`);
});

test('the default deadline is the Python runner\'s 10 s', async () => {
  const fake = client();
  const finished: Work = (request, ctx) => Promise.resolve({ kind: 'render_image',
    output: request.output, width: 1080, height: 1080, size_bytes: 1, reused: false,
    usage: ctx.usage() });
  assert.equal((await run(fake, finished)).outcome, 'completed');
  assert.ok(fake.deadlines.length >= 2, 'the heartbeat and the completion went through withDeadline');
  assert.ok(fake.deadlines.every((ms) => ms > 9_900 && ms <= 10_000), String(fake.deadlines));
});

test('a completed activity logs its ids (never the token) and emits the Python side\'s metrics', async () => {
  const lines: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = (chunk, ...rest) => { lines.push(String(chunk)); return true; };
  let outcome;
  try {
    ({ outcome } = await run(client(), async (request: Parameters<Work>[0]) => ({ kind: 'render_image',
      output: request.output, width: 1080, height: 1080, size_bytes: 4321, reused: false,
      usage: { duration_ms: 10, memory_mb: 512, gb_seconds: 0.005 } })));
  } catch (err) {
    process.stdout.write = write;
    throw err;
  }
  process.stdout.write = write;
  const parsed = lines.join('').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  const completed = parsed.find((l) => l.message === 'completed');
  assert.equal(outcome, 'completed');
  assert.ok(completed && completed.service === 'render-image' && completed.level === 'INFO');
  assert.ok(completed.workflow_id && completed.activity_id && completed.kind && completed.attempt);
  assert.ok(!lines.join('').includes(TOKEN));
  const figures = Object.fromEntries(parsed.filter((l) => l._aws).map((l) => {
    const [metric] = l._aws.CloudWatchMetrics[0].Metrics;
    assert.equal(l._aws.CloudWatchMetrics[0].Namespace, 'SmmCreativeEngine');
    assert.deepEqual(l._aws.CloudWatchMetrics[0].Dimensions, [['service', 'kind', 'outcome']]);
    return [metric.Name, l[metric.Name]];
  }));
  assert.deepEqual(Object.keys(figures).sort(), ['ActivitySeconds', 'GbSeconds', 'OutputBytes']);
  assert.equal(figures.OutputBytes, 4321);
  assert.equal(figures.GbSeconds, 0.005);
});
