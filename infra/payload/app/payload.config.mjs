// @ts-check
// The local stack's Payload: users (with API keys, the worker's way in, and roles for the
// editors who sign in to the admin) and a `posts` collection with the creative-engine plugin.
// Posts keep versions so the tests can read the order in which the engine's stages arrived.
// SQLite in the stack's state folder. Served by server.mjs (REST only) or by Next.js with
// Payload's admin (src/app); `payload generate:importmap` writes the admin's component map.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { sqliteAdapter } from '@payloadcms/db-sqlite';
import { de } from '@payloadcms/translations/languages/de';
import { en } from '@payloadcms/translations/languages/en';
import { buildConfig } from 'payload';

import { creativeEngine } from './creative-engine.mjs';
import { hasRole, seedUsers, users } from './users.mjs';

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
  // The admin in English or German (the browser's language, or the person's choice in their
  // account); the plugin ships its own words in both (i18n.mjs).
  i18n: { supportedLanguages: { en, de }, fallbackLanguage: 'en' },
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
      // Editors write posts; viewers read them; the engine's API user writes its reports.
      access: {
        read: ({ req }) => Boolean(req.user),
        create: ({ req }) => hasRole(req.user, 'editor') || req.user?.email === engineUserEmail,
        update: ({ req }) => hasRole(req.user, 'editor') || req.user?.email === engineUserEmail,
        delete: ({ req }) => hasRole(req.user, 'editor'),
      },
      fields: [
        { name: 'id', type: 'text', required: true }, // the documents tests and the demo name
        { name: 'title', type: 'text' },
        // The API's way to publish (the tests, the demo, the soak): the whole request as JSON.
        // Editors compose in the plugin's "Creative" group instead, so the admin hides these.
        { name: 'caption', type: 'textarea', admin: { hidden: true } },
        { name: 'channels', type: 'json', admin: { hidden: true } },
        // Postiz settings per channel, e.g. {"x-1": {"who_can_reply_post": "everyone"}}.
        { name: 'channelSettings', type: 'json', admin: { hidden: true } },
        { name: 'creative', type: 'json', admin: { hidden: true } },
        { name: 'reviewers', type: 'json', admin: { hidden: true } },
        { name: 'ready', type: 'checkbox', defaultValue: false, admin: { hidden: true } },
      ],
    },
  ],
  plugins: [creativeEngine({
    collections: ['posts'],
    engineUserEmail,
    // Editors decide (among the reviewers a post names, if it names some); viewers watch.
    mayDecide: (user) => hasRole(user, 'editor'),
    // Composing in the admin: the settings each Postiz provider is posted with (editors choose
    // among the channels the engine lists for the account; the list here is for unbilled
    // work only), the brand kits editors choose from, and the engine's bucket for uploads
    // (the local S3; signed as template.yaml's PayloadMediaPolicy).
    compose: {
      settings: JSON.parse(process.env.SMM_PAYLOAD_CHANNEL_SETTINGS || '{}'),
      channels: JSON.parse(process.env.SMM_PAYLOAD_CHANNELS || '[]'),
      brandKits: [{ label: 'Demo Co.', id: 'demo' }],
      bucket: process.env.SMM_PAYLOAD_BUCKET ?? 'smm-local-creative',
      account: process.env.SMM_PAYLOAD_ACCOUNT || undefined,
      s3: process.env.SMM_PAYLOAD_S3_ENDPOINT ? {
        endpoint: process.env.SMM_PAYLOAD_S3_ENDPOINT, region: 'us-east-1', forcePathStyle: true,
      } : undefined,
    },
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
