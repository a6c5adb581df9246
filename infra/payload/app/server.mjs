// @ts-check
// Payload's own REST handler (`handleEndpoints`, exported by `payload`) behind a small Node
// HTTP server: the real REST API, auth and access control, without Next.js. On start it
// makes sure the engine's API user exists with the API key the worker uses.
//   node server.mjs --port 3100   (env: PAYLOAD_SECRET, PAYLOAD_DATABASE_URL,
//                                  SMM_PAYLOAD_ENGINE_EMAIL, SMM_PAYLOAD_API_KEY)
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { getPayload, handleEndpoints } from 'payload';

import config from './payload.config.mjs';

const port = Number(process.argv[process.argv.indexOf('--port') + 1]);
const email = process.env.SMM_PAYLOAD_ENGINE_EMAIL ?? 'engine@example.com';
const apiKey = process.env.SMM_PAYLOAD_API_KEY ?? '';
if (!port || !apiKey || !process.env.PAYLOAD_SECRET) {
  console.error('usage: PAYLOAD_SECRET=... SMM_PAYLOAD_API_KEY=... node server.mjs --port N');
  process.exit(2);
}

const started = Date.now();
const payload = await getPayload({ config });
const existing = await payload.find({ collection: 'users', where: { email: { equals: email } } });
if (existing.docs.length === 0) {
  await payload.create({ collection: 'users', data: {
    email, password: randomBytes(24).toString('hex'), enableAPIKey: true, apiKey } });
} else {
  // A kept database (a restarted dev stack): the engine's key is this run's.
  await payload.update({ collection: 'users', id: existing.docs[0].id,
    data: { enableAPIKey: true, apiKey } });
}

const server = http.createServer(async (incoming, outgoing) => {
  try {
    const chunks = [];
    for await (const chunk of incoming) chunks.push(chunk);
    const method = incoming.method ?? 'GET';
    const headers = new Headers();
    for (const [name, value] of Object.entries(incoming.headers)) {
      if (typeof value === 'string') headers.set(name, value);
    }
    const request = new Request(`http://127.0.0.1:${port}${incoming.url}`, {
      method, headers, body: ['GET', 'HEAD'].includes(method) ? undefined : Buffer.concat(chunks),
    });
    const response = await handleEndpoints({ config, request });
    const body = Buffer.from(await response.arrayBuffer());
    outgoing.writeHead(response.status, { ...Object.fromEntries(response.headers),
      'content-length': String(body.length) });
    outgoing.end(body);
  } catch (err) {
    console.error('payload server:', err);
    outgoing.writeHead(500, { 'content-type': 'application/json' });
    outgoing.end(JSON.stringify({ errors: [{ message: 'Internal Server Error' }] }));
  }
});
server.listen(port, '127.0.0.1', () => {
  console.log(`payload ${payload.config.serverURL || ''}ready on http://127.0.0.1:${port}/api ` +
    `in ${Date.now() - started} ms`);
});
