// @ts-check
// Payload's admin and REST API on Next.js (`make dev`): the routes are in src/app/(payload),
// the config is payload.config.mjs (the `@payload-config` alias in tsconfig.next.json).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { withPayload } from '@payloadcms/next/withPayload';

const here = path.dirname(fileURLToPath(import.meta.url));

export default withPayload({
  // This folder is the app (the repository holds other lock files Next would guess from).
  outputFileTracingRoot: here,
  turbopack: { root: here },
  // server.mjs's tsconfig.json checks the plugin with NodeNext; Next checks its routes with
  // its own, which it may complete but never rewrites ours.
  typescript: { tsconfigPath: 'tsconfig.next.json' },
});
