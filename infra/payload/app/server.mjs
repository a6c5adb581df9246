// @ts-check
// Payload's own REST handler (`handleEndpoints`, exported by `payload`) behind a small Node
// HTTP server: the real REST API, auth and access control, without Next.js, for the tests and
// the demo (which need no admin and start in about a second). `make dev` serves the same
// config with Payload's Next.js admin instead (`next start`, see src/app). The engine's API
// user is made on start, by the config's onInit (users.mjs).
//   node server.mjs --port 3100   (env: PAYLOAD_SECRET, PAYLOAD_DATABASE_URL,
//                                  SMM_PAYLOAD_ENGINE_EMAIL, SMM_PAYLOAD_API_KEY)
import http from 'node:http';
import { getPayload, handleEndpoints } from 'payload';

import config from './payload.config.mjs';

const port = Number(process.argv[process.argv.indexOf('--port') + 1]);
if (!port || !process.env.SMM_PAYLOAD_API_KEY || !process.env.PAYLOAD_SECRET) {
  console.error('usage: PAYLOAD_SECRET=... SMM_PAYLOAD_API_KEY=... node server.mjs --port N');
  process.exit(2);
}

const started = Date.now();
const payload = await getPayload({ config });

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
