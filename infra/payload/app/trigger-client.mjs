// @ts-check
// The plugin's way to the engine: requests to the trigger API, signed with the shared secret
// on the server (never in a browser), and what an editor reads when the engine refuses one.

import { createHmac, randomUUID } from 'node:crypto';

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
