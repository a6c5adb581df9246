// @ts-check
// The creative-engine plugin for Payload 3: one line in payload.config
// (`plugins: [creativeEngine({ collections: ['posts'] })]`) adds the fields the engine writes
// back to each chosen collection. Editors read them; only the engine's API user may change
// them (field-level access: Payload drops what a user may not update), and the admin shows
// them read-only. Typed with Payload's own types (JSDoc, checked by tsc in `make test`).

import { randomUUID } from 'node:crypto';

import { s3Storage } from '@payloadcms/storage-s3';

import { composeGroup, composedRequest, MEDIA_SLUG, mediaCollection, mediaPrefix }
  from './compose.mjs';
import { channelListing, channelsEndpoint, validChannels } from './channels.mjs';
import { decider, engineEndpoint } from './decisions.mjs';
import { translations } from './i18n.mjs';
import { callTrigger, refusal, TriggerError } from './trigger-client.mjs';

/**
 * @typedef {object} CreativeEngineOptions
 * @property {string[]} collections slugs of the collections that publish through the engine
 * @property {string} [engineUserEmail] the API user the worker authenticates as
 *   (`SMM_PAYLOAD_API_KEY`); default engine@example.com
 * @property {{url: string, secret: string}} [trigger] the engine's trigger API (stack output
 *   TriggerUrl) and its signing secret; without it the plugin only adds the fields
 * @property {(doc: Record<string, any>) => Record<string, any> | null} [publishRequest] the
 *   trigger's PublishRequest body for a saved document (creative, post, approval), or null
 *   while the document is not ready to publish
 * @property {string} [statusComponent] the admin's status panel (engine-status.mjs) as a
 *   Payload component path from the config's folder; default '/engine-status.mjs#EngineStatus'
 * @property {string} [liveComponent] the panel's follower of saves (engine-live.mjs), as a
 *   component path; default '/engine-live.mjs#EngineLive'
 * @property {string} [channelPicker] the Channels field's picker (channel-picker.mjs), as a
 *   component path; default '/channel-picker.mjs#ChannelPicker'
 * @property {(user: Record<string, any>, doc: Record<string, any>) => boolean} [mayDecide] who
 *   may approve, reject, request changes and retry in the admin (checked on the server for
 *   every decision); default: any signed-in person but the engine, among the document's
 *   reviewers when it names some (`isReviewer`)
 * @property {import('./compose.mjs').ComposeOptions & {s3?: import('@aws-sdk/client-s3').S3ClientConfig}} [compose]
 *   composing in the admin without JSON (compose.mjs): the "Creative" fields, the media
 *   collection and, with `s3`, its storage in the engine's bucket (@payloadcms/storage-s3)
 */

/**
 * @typedef {(doc: Record<string, any>, payload: import('payload').Payload, collection: string)
 *   => Promise<Record<string, any> | null>} StartRequest
 */

export const START_TASK = 'creativeEngineStart';
export const QUEUE = 'creative-engine';

/** @type {(email: string) => import('payload').FieldAccess} */
const onlyTheEngine = (email) => ({ req }) => req.user?.email === email;

/** @type {import('payload').FieldAccess} */
const signedIn = ({ req }) => Boolean(req.user);

/**
 * The engine's fields, in the order the admin shows them.
 * @param {string} email
 * @returns {import('payload').Field[]}
 */
export function engineFields(email) {
  const access = { read: signedIn, create: onlyTheEngine(email), update: onlyTheEngine(email) };
  // The status panel presents them; the admin shows no raw field (the API returns them all).
  const admin = { readOnly: true, position: /** @type {const} */ ('sidebar'), hidden: true };
  return [
    { name: 'engineStage', type: 'text', access, admin, index: true },
    { name: 'engineWorkflowId', type: 'text', access, admin },
    { name: 'engineRound', type: 'number', access, admin },
    { name: 'engineOutputs', type: 'json', access, admin },
    { name: 'enginePostizPostIds', type: 'json', access, admin },
    { name: 'enginePermalinks', type: 'json', access, admin },
    { name: 'engineError', type: 'textarea', access, admin },
    { name: 'engineReminder', type: 'number', access, admin },
    { name: 'engineReviewSentTo', type: 'json', access, admin },
    { name: 'engineSeq', type: 'number', access, admin },
  ];
}

const ENGINE_FIELDS = engineFields('').map((f) => /** @type {{name: string}} */ (f).name);

/**
 * The engine reports stages in order, but a report retried after a timeout can reach Payload
 * after a newer one: a report older than what the document holds changes none of the engine's
 * fields (everything else in it is kept).
 * @type {import('payload').CollectionBeforeChangeHook}
 */
export const keepNewestEngineReport = ({ data, originalDoc, operation }) => {
  if (operation !== 'update' || typeof data?.engineSeq !== 'number') return data;
  if (typeof originalDoc?.engineSeq === 'number' && data.engineSeq < originalDoc.engineSeq) {
    const kept = { ...data };
    for (const name of ENGINE_FIELDS) kept[name] = originalDoc[name];
    return kept;
  }
  return data;
};

/**
 * Saving a ready document queues a job (in Payload's own queue, in the same transaction as
 * the save) instead of calling the engine: the editor's save never waits on it, and a job
 * that fails is retried by Payload.
 * @param {StartRequest} publishRequest
 * @returns {import('payload').CollectionAfterChangeHook}
 */
const queueStart = (publishRequest) => async ({ collection, doc, req, context }) => {
  if (context?.creativeEngine || doc.engineWorkflowId) return doc; // ours, or started already
  const request = await publishRequest(doc, req.payload, collection.slug);
  if (request === null) return doc;
  await req.payload.jobs.queue({ task: START_TASK, queue: QUEUE, req,
    // One request id for the job and all its retries: the engine's answer to a retry is the
    // answer to the first attempt, never a second start.
    input: { collection: collection.slug, id: doc.id, request, requestId: randomUUID() } });
  if (doc.engineStage === 'invalid') {
    // Fixed and saved again: the refusal is history; the panel follows the new attempt.
    await req.payload.update({ collection: collection.slug, id: doc.id, req,
      data: { engineStage: null, engineError: null }, context: { creativeEngine: true } });
  }
  return doc;
};

/**
 * @param {{url: string, secret: string, keyId?: string}} trigger
 * @returns {import('payload').TaskConfig<any>}
 */
const startTask = (trigger) => ({
  slug: START_TASK,
  retries: 10,
  inputSchema: [{ name: 'collection', type: 'text', required: true },
    { name: 'id', type: 'text', required: true }, { name: 'request', type: 'json', required: true },
    { name: 'requestId', type: 'text' }],
  handler: async ({ input, req }) => {
    // Idempotent at the engine: one document is one workflow (a second start answers with
    // the same id), so a retried job never starts a second render.
    let started;
    try {
      started = await callTrigger(trigger, '/v1/publish', input.request,
        input.requestId || undefined);
    } catch (err) {
      if (!(err instanceof TriggerError) || !err.final) throw err; // Payload retries the job
      // Refused (a caption too long for a channel, a setting missing...): retrying cannot
      // help, so the document says what to fix, naming the field, and the job ends.
      await req.payload.update({ collection: input.collection, id: input.id, req,
        data: { engineStage: 'invalid', engineError: refusal(err.answer) },
        context: { creativeEngine: true } });
      return { output: { refused: err.status } };
    }
    // The hook's return value is not saved (it runs after the write): write the id back.
    await req.payload.update({ collection: input.collection, id: input.id, req,
      data: { engineWorkflowId: started.workflow_id }, context: { creativeEngine: true } });
    return { output: {} };
  },
});

/**
 * The admin's status panel: a UI field (stores nothing) rendered by a React Server Component
 * that shows the stage, the round and, while a render runs, its live progress read from the
 * trigger API on the server (the signing secret stays in serverProps, never sent to a browser).
 * @param {CreativeEngineOptions} options
 * @returns {import('payload').UIField}
 */
const liveAfterSave = (options) => ({
  name: 'engineLive', type: 'ui',
  admin: { position: 'sidebar', components: { Field: options.liveComponent
    ?? '/engine-live.mjs#EngineLive' } },
});

/**
 * @param {CreativeEngineOptions} options
 * @returns {import('payload').UIField}
 */
const statusPanel = (options) => ({
  name: 'engineStatus', type: 'ui', label: 'Creative engine',
  admin: { position: 'sidebar', components: { Field: {
    path: options.statusComponent ?? '/engine-status.mjs#EngineStatus',
    serverProps: { trigger: options.trigger ?? null } } } },
});

/**
 * What a saved document asks the engine for: the app's `publishRequest` first, else, with
 * `compose`, the composed fields once the editor marked them ready.
 * @param {CreativeEngineOptions} options
 * @returns {StartRequest | null}
 */
function startRequest(options) {
  const { publishRequest, compose } = options;
  if (!publishRequest && !compose) return null;
  return async (doc, payload, collection) => {
    const own = publishRequest ? publishRequest(doc) : null;
    if (own !== null) return own;
    return compose && doc.composer?.ready
      ? composedRequest(doc, payload, compose, collection, () => channelListing(options)) : null;
  };
}

/**
 * The plugin's strings (i18n.mjs) under the app's: an app's own `creativeEngine` strings (an
 * override, another language) win.
 * @param {import('payload').Config['i18n']} i18n
 * @returns {import('payload').Config['i18n']}
 */
function withTranslations(i18n) {
  /** @type {Record<string, any>} */
  const own = i18n?.translations ?? {};
  /** @type {Record<string, any>} */
  const merged = { ...own };
  for (const [language, words] of Object.entries(translations)) {
    merged[language] = { ...words, ...own[language],
      creativeEngine: { ...words.creativeEngine, ...own[language]?.creativeEngine } };
  }
  return { ...i18n, translations: merged };
}

/**
 * @param {CreativeEngineOptions} options
 * @returns {import('payload').Plugin}
 */
export function creativeEngine(options) {
  const email = options.engineUserEmail ?? 'engine@example.com';
  const start = options.trigger ? startRequest(options) : null;
  const compose = options.compose;
  return async (config) => {
    /** @type {import('payload').Config} */
    const next = {
      ...config,
      i18n: withTranslations(config.i18n),
      // Server-only settings the status panel reads (never sent to a browser).
      custom: { ...config.custom, creativeEngine: {
        trigger: options.trigger ?? null,
        mayDecide: decider(options),
        preview: compose?.s3 ? { bucket: compose.bucket, s3: compose.s3 } : null } },
      collections: [
        ...(config.collections ?? []).map((collection) =>
          options.collections.includes(collection.slug)
            ? { ...collection, fields: [...collection.fields,
              ...(compose ? [composeGroup(compose, { validChannels: validChannels(options),
                picker: options.channelPicker ?? '/channel-picker.mjs#ChannelPicker' })] : []),
              statusPanel(options),
              liveAfterSave(options),
              ...engineFields(email)],
            endpoints: [...(collection.endpoints || []),
              engineEndpoint(options, collection.slug, 'decision'),
              engineEndpoint(options, collection.slug, 'retry'),
              ...(compose ? [channelsEndpoint(options)] : [])],
            hooks: { ...collection.hooks,
              beforeChange: [...(collection.hooks?.beforeChange ?? []), keepNewestEngineReport],
              afterChange: [...(collection.hooks?.afterChange ?? []),
                ...(start ? [queueStart(start)] : [])] } }
            : collection),
        ...(compose ? [mediaCollection(compose)] : []),
      ],
      jobs: !start || !options.trigger ? config.jobs : {
        ...config.jobs,
        tasks: [...(config.jobs?.tasks ?? []), startTask(options.trigger)],
        // A long-running server works its queue every second (serverless: run it yourself).
        autoRun: config.jobs?.autoRun ?? [{ cron: '* * * * * *', queue: QUEUE }],
      },
    };
    if (!compose?.s3) return next;
    // The editors' files in the engine's bucket under the account's prefix: the engine
    // reads them as s3:// objects, as it reads any media.
    return s3Storage({
      bucket: compose.bucket, config: compose.s3,
      collections: { [compose.mediaSlug ?? MEDIA_SLUG]: { prefix: mediaPrefix(compose) } },
    })(next);
  };
}
