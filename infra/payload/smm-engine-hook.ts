// An `afterChange` hook for a Payload CMS collection: when an editor marks a post
// "ready for render", ask the creative engine to render, await approval and publish it.
//
// In a Payload app, type the hook as `CollectionAfterChangeHook` from 'payload' and add it to
// the collection's `hooks.afterChange`. The minimal structural type below keeps this example
// compilable on its own.
//
// The client is openapi-fetch over types openapi-typescript generates from the trigger API's
// own OpenAPI description (trigger-api.d.ts; `make schema`): paths, bodies and answers are
// checked by the compiler. A middleware signs every request.
import { createHmac, randomUUID } from 'node:crypto';
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './trigger-api';

type Schemas = components['schemas'];
type AfterChangeArgs<Doc> = { doc: Doc; previousDoc?: Doc; operation: 'create' | 'update' };

interface PostDoc {
  id: string;
  status: 'draft' | 'ready_for_render' | 'rendering' | 'published';
  caption: string;
  channels: string[];
  // Postiz settings per channel: X needs who_can_reply_post, Instagram post_type, ...
  channelSettings?: Record<string, Record<string, unknown>>;
  publishAt?: string | null;
  creative: Schemas['PublishRequest']['creative'];
  // Who pays (credits held at the start, charged on approval). Without it the publish runs
  // unbilled, as the operator, and a key bound to accounts is refused: set it (here from
  // the document; SMM_ENGINE_ACCOUNT for a one-account site).
  account?: string | null;
  // Bump to publish the same document again: the same number is the same publish.
  engineRevision?: number | null;
  engineWorkflowId?: string | null;
}

const TRIGGER_URL = process.env.SMM_TRIGGER_URL ?? ''; // the stack output TriggerUrl
const TRIGGER_SECRET = process.env.SMM_TRIGGER_SECRET ?? ''; // one key of TriggerSecretArn's keyring
const TRIGGER_KEY_ID = process.env.SMM_TRIGGER_KEY_ID ?? 'default'; // its key id
const ACCOUNT = process.env.SMM_ENGINE_ACCOUNT; // the account a one-account site bills

/**
 * Signs each request (scheme v2): HMAC-SHA256 over
 * "v2.<request id>.<timestamp>.<METHOD> <path>.<body>", sent as "v2=<key id>:<hex>".
 * A caller that retries sets its own x-smm-request-id: the engine answers a repeated id with
 * the first attempt's result.
 */
export const signing: Middleware = {
  async onRequest({ request }) {
    const body = await request.clone().text();
    const requestId = request.headers.get('x-smm-request-id') ?? randomUUID();
    const timestamp = Math.floor(Date.now() / 1000).toString();
    // The path the function sees: without the base URL's own path (a proxy's prefix; none
    // on a Lambda Function URL).
    const base = new URL(TRIGGER_URL).pathname.replace(/\/$/, '');
    const full = new URL(request.url).pathname;
    const path = base && full.startsWith(base) ? full.slice(base.length) : full;
    const signature = createHmac('sha256', TRIGGER_SECRET)
      .update(`v2.${requestId}.${timestamp}.${request.method} ${path}.${body}`).digest('hex');
    request.headers.set('x-smm-request-id', requestId);
    request.headers.set('x-smm-timestamp', timestamp);
    request.headers.set('x-smm-signature', `v2=${TRIGGER_KEY_ID}:${signature}`);
    return request;
  },
};

export const engine = createClient<paths>({ baseUrl: TRIGGER_URL });
engine.use(signing);

function failure(status: number, error: Schemas['ErrorResponse'] | undefined): Error {
  return new Error(`creative engine: ${status} ${error?.field ?? ''} ${error?.error ?? ''}`);
}

export const startPublishOnReady = async ({ doc, previousDoc }: AfterChangeArgs<PostDoc>): Promise<PostDoc> => {
  if (doc.status !== 'ready_for_render' || previousDoc?.status === 'ready_for_render') return doc;
  const account = doc.account ?? ACCOUNT;
  const request: Schemas['PublishRequest'] = {
    collection: 'posts',
    doc_id: doc.id,
    ...(account ? { account } : {}),
    ...(doc.engineRevision ? { revision: doc.engineRevision } : {}),
    creative: doc.creative,
    post: {
      content: doc.caption,
      integrations: doc.channels,
      channel_settings: doc.channelSettings ?? {},
      publish_at: doc.publishAt ?? null,
    },
    approval: { reviewers: [], reminder_every_s: 86_400, expire_after_s: 14 * 86_400 },
  };
  // Idempotent: saving the document twice returns the same workflow, never a second render.
  const { data, error, response } = await engine.POST('/v1/publish', { body: request });
  if (!data) throw failure(response.status, error);
  return { ...doc, engineWorkflowId: data.workflow_id };
};

/** Wire this to an "Approve" button in the admin UI (a custom endpoint or component). */
export async function approve(workflowId: string, reviewer: string, comment = ''): Promise<void> {
  const { data, error, response } = await engine.POST('/v1/workflows/{workflow_id}/approval', {
    params: { path: { workflow_id: workflowId } },
    body: { decision: 'approve', reviewer, comment },
  });
  if (!data) throw failure(response.status, error);
}

export async function engineStatus(workflowId: string): Promise<Schemas['StatusResponse']> {
  const { data, error, response } = await engine.GET('/v1/workflows/{workflow_id}', {
    params: { path: { workflow_id: workflowId } },
  });
  if (!data) throw failure(response.status, error);
  return data;
}
