// One warm Node.js "execution environment" of the emulator, in its own process: import the
// handler once (init), then serve invocations one at a time. The same line protocol as
// runtime_host.py: requests as JSON lines on stdin, answers on a separate pipe.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { pathToFileURL } from 'node:url';

const answers = fs.createWriteStream(null, { fd: Number(process.env.SMM_EMULATOR_RESULT_FD) });
const write = (obj) => new Promise((resolve) => answers.write(`${JSON.stringify(obj)}\n`, resolve));
const errorOf = (err, type) => ({ ok: false, errorType: type || err?.name || 'Error',
  errorMessage: String(err?.message ?? err), stackTrace: String(err?.stack ?? '').split('\n').slice(0, 5) });

const [moduleName, fnName] = [process.env._HANDLER.slice(0, process.env._HANDLER.lastIndexOf('.')),
  process.env._HANDLER.slice(process.env._HANDLER.lastIndexOf('.') + 1)];
const started = Date.now();
let handler;
try {
  const base = path.join(process.cwd(), moduleName);
  const file = ['.mjs', '.js', '.cjs'].map((ext) => base + ext).find((f) => fs.existsSync(f));
  if (!file) throw new Error(`Cannot find module '${moduleName}'`);
  handler = (await import(pathToFileURL(file).href))[fnName];
  if (typeof handler !== 'function') throw new Error(`${moduleName}.${fnName} is not a function`);
} catch (err) {
  await write({ ready: false, ...errorOf(err, 'Runtime.ImportModuleError') });
  process.exit(1);
}
await write({ ready: true, init_ms: Date.now() - started });

const name = process.env.AWS_LAMBDA_FUNCTION_NAME;
for await (const line of readline.createInterface({ input: process.stdin })) {
  const request = JSON.parse(line);
  const context = {
    functionName: name, functionVersion: '$LATEST', awsRequestId: request.request_id,
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${name}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: `/aws/lambda/${name}`, logStreamName: `local/${process.pid}`,
    getRemainingTimeInMillis: () => Math.max(0, request.deadline_ms - Date.now()),
  };
  try {
    await write({ ok: true, payload: (await handler(request.event, context)) ?? null });
  } catch (err) {
    await write(errorOf(err));
  }
}
