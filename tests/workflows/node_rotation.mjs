// The Node image function's runner through a key rotation, against a server that enforces
// keys (tests/workflows/test_key_rotation.py drives it). Reads one event per stdin line
// (each a real task token), runs it with a piece of work that spans the rotation, and
// prints each outcome as a JSON line. The Temporal client, the Secrets Manager read and
// the key handling are the function's own (functions/render_image/dist).
import { createInterface } from 'node:readline';
import { runActivity } from '../../functions/render_image/dist/runner.mjs';

const work = async (request, ctx) => {
  for (let i = 0; i < 25; i += 1) {
    if (ctx.signal.aborted) throw new Error('stopped: its heartbeat was refused');
    await new Promise((r) => setTimeout(r, 100));
  }
  return { kind: 'render_image', output: request.output, width: 1080, height: 1080,
    size_bytes: 1, reused: false, usage: ctx.usage() };
};

const context = { getRemainingTimeInMillis: () => 120_000, memoryLimitInMB: '512',
  functionName: 'RenderImageFunction' };
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const { outcome } = await runActivity(JSON.parse(line), context, { render_image: work },
    { intervalMs: 100 });
  process.stdout.write(`${JSON.stringify({ rotation_outcome: outcome })}\n`);
}
