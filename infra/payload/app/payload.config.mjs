// @ts-check
// The local stack's Payload: users (with API keys, the worker's way in, and roles for the
// editors who sign in to the admin) and a `posts` collection with the creative-engine plugin.
// Posts keep versions so the tests can read the order in which the engine's stages arrived.
// SQLite in the stack's state folder. Served by server.mjs (REST only) or by Next.js with
// Payload's admin (src/app); `payload generate:importmap` writes the admin's component map.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { sqliteAdapter } from '@payloadcms/db-sqlite';
import { buildConfig } from 'payload';

import { creativeEngine } from './creative-engine.mjs';
import { seedUsers, users } from './users.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

const engineUserEmail = process.env.SMM_PAYLOAD_ENGINE_EMAIL ?? 'engine@example.com';

export default buildConfig({
  secret: process.env.PAYLOAD_SECRET ?? '',
  telemetry: false,
  admin: {
    user: 'users',
    // Custom components (the plugin's status panel) are named by path from this folder.
    importMap: { baseDir: here },
    meta: { titleSuffix: ' · SMM Hub' },
    avatar: 'default', // not Gravatar: the admin loads nothing from outside

  },
  onInit: seedUsers,
  db: sqliteAdapter({
    client: { url: process.env.PAYLOAD_DATABASE_URL ?? 'file:./payload.db' },
    push: true, // the local schema follows the config (no migrations for a test database)
  }),
  collections: [
    users,
    {
      slug: 'posts',
      versions: { maxPerDoc: 200 },
      fields: [
        { name: 'id', type: 'text', required: true }, // the documents tests and the demo name
        { name: 'title', type: 'text' },
        // What an editor fills in to publish through the engine.
        { name: 'caption', type: 'textarea' },
        { name: 'channels', type: 'json' },
        // Postiz settings per channel, e.g. {"x-1": {"who_can_reply_post": "everyone"}}.
        { name: 'channelSettings', type: 'json' },
        { name: 'creative', type: 'json' },
        { name: 'reviewers', type: 'json' },
        { name: 'ready', type: 'checkbox', defaultValue: false },
      ],
    },
  ],
  plugins: [creativeEngine({
    collections: ['posts'],
    engineUserEmail,
    trigger: process.env.SMM_TRIGGER_URL
      ? { url: process.env.SMM_TRIGGER_URL, secret: process.env.SMM_TRIGGER_SECRET ?? '' }
      : undefined,
    publishRequest: (doc) => (doc.ready ? {
      collection: 'posts', doc_id: doc.id, creative: doc.creative,
      post: {
        content: doc.caption,
        integrations: doc.channels,
        channel_settings: doc.channelSettings ?? {},
        type: 'now',
      },
      approval: { reviewers: doc.reviewers ?? [] },
    } : null),
  })],
});
