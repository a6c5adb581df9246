// @ts-check
// Deciding in the admin: the plugin's collection endpoints behind the panel's buttons
// (`POST /api/<collection>/<id>/engine-decision` and `/engine-retry`). The signed-in person,
// if they may decide this document, reaches the engine through the signed trigger API, and
// the engine records them (their email) as the reviewer.

import { translator } from './i18n.mjs';
import { callTrigger, TriggerError } from './trigger-client.mjs';

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
 * Who may decide on a document, the one rule the buttons and the endpoints share: the app's
 * `mayDecide` (default: anyone signed in but the engine), among the document's reviewers.
 * @param {import('./creative-engine.mjs').CreativeEngineOptions} options
 * @returns {(user: Record<string, any> | null | undefined, doc: Record<string, any>) => boolean}
 */
export function decider(options) {
  const engine = options.engineUserEmail ?? 'engine@example.com';
  const allowed = options.mayDecide ?? ((user) => user.email !== engine);
  return (user, doc) => Boolean(user) && allowed(/** @type {Record<string, any>} */ (user), doc)
    && isReviewer(/** @type {Record<string, any>} */ (user), doc);
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
 * @param {import('./creative-engine.mjs').CreativeEngineOptions} options
 * @param {string} slug
 * @param {'decision' | 'retry'} action
 * @returns {import('payload').Endpoint}
 */
export function engineEndpoint(options, slug, action) {
  const mayDecide = decider(options);
  return {
    path: `/:id/engine-${action}`,
    method: 'post',
    handler: async (req) => {
      const t = translator(req.i18n);
      if (!req.user) return refuse(t('signInToDecide'), 401);
      if (!options.trigger) return refuse(t('notConfigured'), 503);
      const id = String(req.routeParams?.id ?? '');
      // Read as the person (their read access applies): no document, no decision.
      const doc = await req.payload.findByID({ collection: slug, id, depth: 0, req,
        overrideAccess: false, disableErrors: true });
      if (!doc) return refuse(t('noDocument', { collection: slug, id }), 404, 'id');
      if (!mayDecide(req.user, doc)) return refuse(t('mayNotDecide'), 403);
      const workflow = doc.engineWorkflowId;
      if (!workflow) return refuse(t('notSentYet'), 409, 'engineWorkflowId');
      const body = action === 'decision' && req.json ? await req.json().catch(() => null) : {};
      if (action === 'decision' && !DECISIONS.includes(body?.decision)) {
        return refuse(t('decisionOneOf'), 400, 'decision');
      }
      const path = `/v1/workflows/${encodeURIComponent(workflow)}/${action === 'decision'
        ? 'approval' : 'retry'}`;
      try {
        await callTrigger(options.trigger, path, action === 'retry' ? {} : {
          decision: body.decision, reviewer: req.user.email,
          comment: String(body.comment ?? '').slice(0, 2000),
          ...(body.decision === 'revise' && body.edits ? { edits: body.edits } : {}) });
      } catch (err) {
        // The engine's own refusal (a malformed edit, a retry of a publish that did not
        // fail) is the person's to fix: its status, message and field, as the engine gave
        // them. Anything else is the engine being unreachable.
        if (err instanceof TriggerError && err.final) {
          return refuse(err.answer.error ?? 'the engine refused it', err.status,
            err.answer.field ?? undefined);
        }
        return refuse(t('unreachable', { problem: /** @type {Error} */ (err).message }), 502);
      }
      return Response.json({ accepted: true, workflow_id: workflow }, { status: 202 });
    },
  };
}
