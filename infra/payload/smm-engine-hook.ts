// An `afterChange` hook for a Payload CMS collection: when an editor marks a post
// "ready for render", ask the creative engine to render, await approval and publish it.
//
// In a Payload app, type the hook as `CollectionAfterChangeHook` from 'payload' and add it to
// the collection's `hooks.afterChange`. The minimal structural type below keeps this example
// compilable on its own.
import { createHmac, randomUUID } from 'node:crypto';
import type { ApprovalDecision, ErrorResponse, PublishRequest, StartedResponse, StatusResponse } from './trigger-types';

type AfterChangeArgs<Doc> = { doc: Doc; previousDoc?: Doc; operation: 'create' | 'update' };

interface PostDoc {
  id: string;
  status: 'draft' | 'ready_for_render' | 'rendering' | 'published';
  caption: string;
  channels: string[];
  publishAt?: string | null;
  creative: PublishRequest['creative'];
  engineWorkflowId?: string | null;
}

const TRIGGER_URL = process.env.SMM_TRIGGER_URL ?? ''; // the stack output TriggerUrl
const TRIGGER_SECRET = process.env.SMM_TRIGGER_SECRET ?? ''; // one key of TriggerSecretArn's keyring
const TRIGGER_KEY_ID = process.env.SMM_TRIGGER_KEY_ID ?? 'default'; // its key id

/**
 * Sign and send one request (scheme v2): HMAC-SHA256 over
 * "v2.<request id>.<timestamp>.<METHOD> <path>.<body>", sent as "v2=<key id>:<hex>".
 * Retry with the same requestId: the engine answers with the first attempt's result.
 */
export async function callEngine<T>(method: 'GET' | 'POST', path: string, body?: unknown,
  requestId: string = randomUUID()): Promise<T> {
  const payload = body === undefined ? '' : JSON.stringify(body);
  const timestamp = Math.floor(Date.now() / 1000).toString();
  const signature = createHmac('sha256', TRIGGER_SECRET)
    .update(`v2.${requestId}.${timestamp}.${method} ${path}.${payload}`).digest('hex');
  const response = await fetch(new URL(path, TRIGGER_URL), {
    method,
    headers: {
      'content-type': 'application/json',
      'x-smm-timestamp': timestamp,
      'x-smm-request-id': requestId,
      'x-smm-signature': `v2=${TRIGGER_KEY_ID}:${signature}`,
    },
    body: payload || undefined,
  });
  const answer = (await response.json()) as T | ErrorResponse;
  if (!response.ok) {
    const error = answer as ErrorResponse;
    throw new Error(`creative engine: ${response.status} ${error.field ?? ''} ${error.error}`);
  }
  return answer as T;
}

export const startPublishOnReady = async ({ doc, previousDoc }: AfterChangeArgs<PostDoc>): Promise<PostDoc> => {
  if (doc.status !== 'ready_for_render' || previousDoc?.status === 'ready_for_render') return doc;
  const request: PublishRequest = {
    collection: 'posts',
    doc_id: doc.id,
    creative: doc.creative,
    post: { content: doc.caption, integrations: doc.channels, publish_at: doc.publishAt ?? null },
    approval: { reviewers: [], reminder_every_s: 86_400, expire_after_s: 14 * 86_400 },
  };
  // Idempotent: saving the document twice returns the same workflow, never a second render.
  const started = await callEngine<StartedResponse>('POST', '/v1/publish', request);
  return { ...doc, engineWorkflowId: started.workflow_id };
};

/** Wire this to an "Approve" button in the admin UI (a custom endpoint or component). */
export async function approve(workflowId: string, reviewer: string, comment = ''): Promise<void> {
  const decision: ApprovalDecision = { decision: 'approve', reviewer, comment };
  await callEngine('POST', `/v1/workflows/${encodeURIComponent(workflowId)}/approval`, decision);
}

export async function engineStatus(workflowId: string): Promise<StatusResponse> {
  return callEngine<StatusResponse>('GET', `/v1/workflows/${encodeURIComponent(workflowId)}`);
}
