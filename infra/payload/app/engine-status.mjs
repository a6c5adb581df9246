// @ts-check
// The creative engine's panel in Payload's admin (the plugin adds it to each collection's
// sidebar as a UI field): stage, round, a progress bar while a render runs, the error when
// it failed. A React Server Component, Payload 3's default for custom components: it runs on
// the server, reads the fields the engine wrote to the document and, while rendering, the
// live progress from the trigger API (signed there; the secret never reaches a browser).
// Plain createElement, no JSX: the file needs no build step in Payload's Next.js admin.

import { createElement as h } from 'react';
import { callTrigger } from './creative-engine.mjs';

/** @typedef {'working' | 'waiting' | 'done' | 'stopped'} Tone */

/** @type {Record<string, Tone>} */
const TONES = {
  awaiting_approval: 'waiting', scheduled: 'waiting', approved: 'waiting',
  published: 'done',
  failed: 'stopped', rejected: 'stopped', expired: 'stopped', cancelled: 'stopped',
  insufficient_credits: 'stopped', invalid: 'stopped',
};
const COLOURS = { working: '#2563eb', waiting: '#b45309', done: '#15803d', stopped: '#b91c1c' };

/**
 * What the panel shows; pure, so it renders the same in the admin and in a test.
 * @param {{stage?: string | null, round?: number | null, percent?: number | null,
 *   error?: string | null, workflowId?: string | null}} props
 */
export function EngineStatusView({ stage, round, percent, error, workflowId }) {
  if (!stage) {
    return h('p', { className: 'creative-engine-status', 'data-stage': 'none' },
      'Not sent to the creative engine yet.');
  }
  const tone = TONES[stage] ?? 'working';
  const shown = typeof percent === 'number' ? Math.max(0, Math.min(100, Math.round(percent)))
    : null;
  return h('div', { className: 'creative-engine-status', 'data-stage': stage, 'data-tone': tone },
    h('p', null,
      h('strong', { style: { color: COLOURS[tone] } }, stage.replaceAll('_', ' ')),
      round && round > 1 ? ` · round ${round}` : null),
    shown === null ? null : h('progress', { max: 100, value: shown,
      'aria-label': `Rendering ${shown}%` }),
    shown === null ? null : h('span', null, ` ${shown}%`),
    error ? h('p', { role: 'alert', style: { color: COLOURS.stopped } }, error) : null,
    workflowId ? h('p', null, h('code', null, workflowId)) : null);
}

/**
 * The server component Payload renders for the `engineStatus` UI field.
 * @param {Partial<import('payload').UIFieldServerProps> & {
 *   trigger?: {url: string, secret: string, keyId?: string} | null}} props
 */
export async function EngineStatus(props) {
  const data = props.data ?? {};
  let stage = typeof data.engineStage === 'string' ? data.engineStage : null;
  const workflowId = typeof data.engineWorkflowId === 'string' ? data.engineWorkflowId : null;
  let percent = null;
  if (props.trigger && workflowId && (stage === null || stage === 'rendering')) {
    try {
      const answer = await callTrigger(props.trigger,
        `/v1/workflows/${encodeURIComponent(workflowId)}`, undefined);
      stage = answer.status?.stage ?? stage;
      percent = answer.status?.render_progress?.percent ?? null;
    } catch {
      // The engine is unreachable or slow: the stage the document holds is still shown.
    }
  }
  return h(EngineStatusView, { stage, round: data.engineRound, percent,
    error: data.engineError, workflowId });
}
