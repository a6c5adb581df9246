// @ts-check
// The creative-engine plugin for Payload 3: one line in payload.config
// (`plugins: [creativeEngine({ collections: ['posts'] })]`) adds the fields the engine writes
// back to each chosen collection. Editors read them; only the engine's API user may change
// them (field-level access: Payload drops what a user may not update), and the admin shows
// them read-only. Typed with Payload's own types (JSDoc, checked by tsc in `make test`).

import { createHmac, randomUUID } from 'node:crypto';

import { s3Storage } from '@payloadcms/storage-s3';

import { composeGroup, composedRequest, MEDIA_SLUG, mediaCollection, mediaPrefix }
  from './compose.mjs';

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
 * Sign and send one request to the trigger API (scheme v2, functions/trigger/signing.py):
 * HMAC-SHA256 over "v2.<request id>.<timestamp>.<METHOD> <path>.<body>", sent as
 * "v2=<key id>:<hex>". A retry sends the same request id: the engine answers it with what
 * the first attempt got (or runs it, if that failed on the engine's side).
 * @param {{url: string, secret: string, keyId?: string}} trigger
 * @param {string} path
 * @param {unknown} body the JSON body; undefined for a GET
 * @param {string} [requestId]
 */
export async function callTrigger(trigger, path, body, requestId = randomUUID()) {
  const method = body === undefined ? 'GET' : 'POST';
  const text = body === undefined ? '' : JSON.stringify(body);
  const timestamp = Math.floor(Date.now() / 1000).toString();
  const keyId = trigger.keyId || 'default';
  const signature = createHmac('sha256', trigger.secret)
    .update(`v2.${requestId}.${timestamp}.${method} ${path}.${text}`).digest('hex');
  const response = await fetch(`${trigger.url.replace(/\/$/, '')}${path}`, {
    method, body: body === undefined ? undefined : text,
    headers: { 'content-type': 'application/json', 'x-smm-timestamp': timestamp,
      'x-smm-request-id': requestId, 'x-smm-signature': `v2=${keyId}:${signature}` },
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new TriggerError(path, response.status, answer);
  return answer;
}

/** The trigger's refusal: its status and its answer ({error, field}). */
export class TriggerError extends Error {
  /**
   * @param {string} path
   * @param {number} status
   * @param {{error?: string, field?: string | null}} answer
   */
  constructor(path, status, answer) {
    super(`trigger ${path}: ${status} ${JSON.stringify(answer)}`);
    this.status = status;
    this.answer = answer;
  }

  /** A refusal of the request itself: sending it again cannot help. */
  get final() {
    return this.status >= 400 && this.status < 500 && this.status !== 408 && this.status !== 429;
  }
}

/** The composer's field an editor fixes for a request field the engine names. */
const FIELD_LABELS = [
  [/^post\.content/, 'Caption'], [/^post\.(integrations|channel_settings)/, 'Channels'],
  [/^post\.publish_at/, 'Publish at'], [/^creative\.spec\.brand_kit/, 'Brand kit'],
  [/^creative\.spec\.presets/, 'Formats'], [/^creative\.spec\.props\.(quote|title)/, 'Headline'],
  [/^creative\.spec\.props\.(author|site)/, 'Byline'], [/^creative\.spec\.props\.avatar/, 'Photo'],
  [/^creative\.spec\.scenes/, 'Headline or Photo'], [/^approval/, 'Reviewers'],
];

/**
 * What the editor reads when the engine refused a request: the field to fix, then why.
 * @param {{error?: string, field?: string | null}} answer
 */
export function refusal(answer) {
  const field = answer.field ?? '';
  const label = FIELD_LABELS.find(([pattern]) => /** @type {RegExp} */ (pattern).test(field))?.[1];
  const why = answer.error ?? 'the engine refused this post';
  return label ? `${label}: ${why}` : why;
}

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
 * Whether `user` is among the reviewers the document names (anyone, when it names none).
 * @param {Record<string, any>} user
 * @param {Record<string, any>} doc
 */
export function isReviewer(user, doc) {
  const named = (doc.composer?.reviewers ?? []).map(
    (/** @type {any} */ r) => String(typeof r === 'object' && r !== null ? r.id : r));
  return named.length === 0 || named.includes(String(user.id));
}

/**
 * @param {string} message
 * @param {number} status
 * @param {string} [field]
 */
const refuse = (message, status, field) =>
  Response.json({ errors: [{ message, ...(field ? { field } : {}) }] }, { status });

const DECISIONS = ['approve', 'reject', 'revise'];

/**
 * The admin's decisions and retries: the signed-in person, if they may decide this document,
 * through the signed trigger API, recorded as them (their email is the reviewer).
 * @param {CreativeEngineOptions} options
 * @param {string} slug
 * @param {'decision' | 'retry'} action
 * @returns {import('payload').Endpoint}
 */
function engineEndpoint(options, slug, action) {
  const engine = options.engineUserEmail ?? 'engine@example.com';
  const mayDecide = options.mayDecide ?? ((user) => user.email !== engine);
  return {
    path: `/:id/engine-${action}`,
    method: 'post',
    handler: async (req) => {
      if (!req.user) return refuse('Sign in to decide.', 401);
      if (!options.trigger) return refuse('The creative engine is not configured here.', 503);
      const id = String(req.routeParams?.id ?? '');
      // Read as the person (their read access applies): no document, no decision.
      const doc = await req.payload.findByID({ collection: slug, id, depth: 0, req,
        overrideAccess: false, disableErrors: true });
      if (!doc) return refuse(`No ${slug} document ${id} you may read.`, 404, 'id');
      if (!mayDecide(req.user, doc) || !isReviewer(req.user, doc)) {
        return refuse('You may not decide on this document: it needs an editor it names as '
          + 'reviewer (or any editor when it names none).', 403);
      }
      const workflow = doc.engineWorkflowId;
      if (!workflow) return refuse('Not sent to the creative engine yet.', 409, 'engineWorkflowId');
      const body = action === 'decision' && req.json ? await req.json().catch(() => null) : {};
      if (action === 'decision' && !DECISIONS.includes(body?.decision)) {
        return refuse('decision: one of approve, reject, revise', 400, 'decision');
      }
      const path = `/v1/workflows/${encodeURIComponent(workflow)}/${action === 'decision'
        ? 'approval' : 'retry'}`;
      try {
        await callTrigger(options.trigger, path, action === 'retry' ? {} : {
          decision: body.decision, reviewer: req.user.email,
          comment: String(body.comment ?? '').slice(0, 2000),
          ...(body.decision === 'revise' && body.edits ? { edits: body.edits } : {}) });
      } catch (err) {
        return refuse(String(/** @type {Error} */ (err).message), 502);
      }
      return Response.json({ accepted: true, workflow_id: workflow }, { status: 202 });
    },
  };
}

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
      ? composedRequest(doc, payload, compose, collection) : null;
  };
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
      // Server-only settings the status panel reads (never sent to a browser).
      custom: { ...config.custom, creativeEngine: {
        trigger: options.trigger ?? null,
        mayDecide: options.mayDecide ?? ((/** @type {any} */ user) => user.email !== email),
        preview: compose?.s3 ? { bucket: compose.bucket, s3: compose.s3 } : null } },
      collections: [
        ...(config.collections ?? []).map((collection) =>
          options.collections.includes(collection.slug)
            ? { ...collection, fields: [...collection.fields,
              ...(compose ? [composeGroup(compose)] : []), statusPanel(options),
              liveAfterSave(options),
              ...engineFields(email)],
            endpoints: [...(collection.endpoints || []),
              engineEndpoint(options, collection.slug, 'decision'),
              engineEndpoint(options, collection.slug, 'retry')],
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
