// @ts-check
// The creative engine's panel in Payload's admin (the plugin adds it to each collection's
// sidebar as a UI field): stage, round, a progress bar while a render runs, the error when
// it failed, the render's previews, the decisions, the permalinks. A React Server Component,
// Payload 3's default for custom components: it runs on the server, reads the fields the
// engine wrote to the document and the workflow's status from the trigger API (signed there;
// the secret never reaches a browser). Its interactive parts are client components
// (engine-actions.mjs). Plain createElement, no JSX: no build step of its own.

import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createElement as h } from 'react';

import { EngineDecision, EngineRefresh, EngineRetry } from './engine-actions.mjs';
import { labelFor, STRINGS, translator } from './i18n.mjs';
import { callTrigger } from './trigger-client.mjs';

/** @typedef {'working' | 'waiting' | 'done' | 'stopped'} Tone */

/** @type {import('./i18n.mjs').Key[]} */
const DECISION_WORDS = ['comment', 'editLegend', 'approve', 'requestChanges', 'reject',
  'sentToEngine'];

/** @type {Record<string, Tone>} */
const TONES = {
  awaiting_approval: 'waiting', scheduled: 'waiting', approved: 'waiting',
  published: 'done',
  failed: 'stopped', rejected: 'stopped', expired: 'stopped', cancelled: 'stopped',
  insufficient_credits: 'stopped', invalid: 'stopped',
};
const COLOURS = { working: '#2563eb', waiting: '#b45309', done: '#15803d', stopped: '#b91c1c' };

/**
 * A stage as the reader's language names it (one the plugin does not know: as the engine
 * spells it).
 * @param {ReturnType<typeof translator>} t
 * @param {string} stage
 */
const stageName = (t, stage) => (`stage.${stage}` in STRINGS.en
  ? t(/** @type {import('./i18n.mjs').Key} */ (`stage.${stage}`)) : stage.replaceAll('_', ' '));

/**
 * What the panel shows; pure, so it renders the same in the admin and in a test.
 * @param {{stage?: string | null, round?: number | null, percent?: number | null,
 *   error?: string | null, workflowId?: string | null, i18n?: {t?: Function} | null}} props
 */
export function EngineStatusView({ stage, round, percent, error, workflowId, i18n }) {
  const t = translator(i18n);
  if (!stage) {
    return h('p', { className: 'creative-engine-status', 'data-stage': 'none' }, t('notSent'));
  }
  const tone = TONES[stage] ?? 'working';
  const shown = typeof percent === 'number' ? Math.max(0, Math.min(100, Math.round(percent)))
    : null;
  return h('div', { className: 'creative-engine-status', 'data-stage': stage, 'data-tone': tone },
    h('p', null,
      h('strong', { style: { color: COLOURS[tone] } }, stageName(t, stage)),
      round && round > 1 ? ` · ${t('round', { round })}` : null),
    shown === null ? null : h('progress', { max: 100, value: shown,
      'aria-label': t('rendering', { percent: shown }) }),
    shown === null ? null : h('span', null, ` ${shown}%`),
    error ? h('p', { role: 'alert', style: { color: COLOURS.stopped } }, error) : null,
    workflowId ? h('p', null, h('code', null, workflowId)) : null);
}

/** The panel's look, in the admin's own theme variables (light and dark). */
const STYLE = `
.creative-engine { display: flex; flex-direction: column; gap: 12px; }
.creative-engine figure { margin: 0; }
.creative-engine figcaption { font-size: 12px; color: var(--theme-elevation-500); }
.creative-engine-previews { display: grid; gap: 8px; }
.creative-engine-previews img, .creative-engine-previews video {
  border-radius: 4px; border: 1px solid var(--theme-elevation-150); }
.creative-engine-decision { display: flex; flex-direction: column; gap: 6px; }
.creative-engine-decision fieldset { border: 1px solid var(--theme-elevation-150);
  border-radius: 4px; padding: 8px; display: flex; flex-direction: column; gap: 6px; }
.creative-engine-decision label { font-size: 13px; color: var(--theme-elevation-800); }
.creative-engine-decision input, .creative-engine-decision textarea { width: 100%;
  box-sizing: border-box; padding: 6px 8px; border-radius: 4px; font: inherit;
  border: 1px solid var(--theme-elevation-250); background: var(--theme-input-bg);
  color: var(--theme-text); }
.creative-engine-buttons { display: flex; flex-wrap: wrap; gap: 8px; }
.creative-engine button { padding: 6px 14px; border-radius: 4px; font: inherit;
  cursor: pointer; border: 1px solid var(--theme-elevation-800);
  background: var(--theme-elevation-0); color: var(--theme-elevation-800); }
.creative-engine button.btn--style-primary { background: var(--theme-elevation-800);
  color: var(--theme-elevation-0); }
.creative-engine button:disabled { opacity: 0.5; cursor: wait; }
.creative-engine-live { padding-left: 18px; margin: 0; word-break: break-all; }
`;

/** Stages after which the engine has nothing more to do unless someone acts. */
const SETTLED = new Set(['awaiting_approval', 'scheduled', 'published', 'publish_failed',
  'failed', 'rejected', 'expired', 'cancelled', 'insufficient_credits', 'invalid']);

/**
 * Short-lived links to the render's outputs, signed on the server with Payload's own S3
 * rights (template.yaml's PayloadMediaPolicy reads the renders): the browser loads them from
 * S3 directly; nothing is public.
 * @param {{bucket: string, s3: import('@aws-sdk/client-s3').S3ClientConfig} | null} preview
 * @param {string[]} outputs s3:// URIs
 * @returns {Promise<{uri: string, url: string}[]>}
 */
async function presign(preview, outputs) {
  if (!preview || outputs.length === 0) return [];
  const client = new S3Client(preview.s3);
  return Promise.all(outputs.map(async (uri) => {
    const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri) ?? [];
    return { uri, url: bucket && key ? await getSignedUrl(client,
      new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 900 }) : '' };
  }));
}

/**
 * What the render looks like: a poster and a player per video format, each image (a
 * carousel's slides in order).
 * @param {{uri: string, url: string}[]} links
 * @param {ReturnType<typeof translator>} t
 */
function Previews(links, t) {
  const videos = links.filter((l) => l.uri.endsWith('.mp4'));
  const images = links.filter((l) => /\.(png|jpe?g|webp)$/.test(l.uri));
  const posterOf = (/** @type {string} */ mp4) =>
    images.find((i) => i.uri === mp4.replace(/\.mp4$/, '.jpg'))?.url;
  const stills = images.filter((i) => !videos.some((v) => posterOf(v.uri) === i.url));
  return h('div', { className: 'creative-engine-previews' },
    ...videos.map((v) => h('figure', { key: v.uri },
      h('video', { src: v.url, poster: posterOf(v.uri), controls: true, preload: 'metadata',
        playsInline: true, style: { width: '100%' } }),
      h('figcaption', null, v.uri.split('/').pop()))),
    ...stills.map((i, n) => h('figure', { key: i.uri },
      h('img', { src: i.url, alt: t('renderedImage', { n: n + 1, count: stills.length }),
        style: { width: '100%' } }))));
}

/**
 * The server component Payload renders for the `engineStatus` UI field: what the document
 * holds and, once it went to the engine, the workflow's own status (read on the server
 * through the signed trigger API): live progress, previews, the decisions, the permalinks,
 * and the decision form or the retry button for people who may use them.
 * @param {Partial<import('payload').UIFieldServerProps> & {
 *   trigger?: {url: string, secret: string, keyId?: string} | null}} props
 */
export async function EngineStatus(props) {
  const data = props.data ?? {};
  const i18n = props.i18n ?? props.req?.i18n;
  const t = translator(i18n);
  const engine = /** @type {any} */ (props.payload?.config?.custom)?.creativeEngine ?? {};
  const trigger = props.trigger ?? engine.trigger ?? null;
  let stage = typeof data.engineStage === 'string' ? data.engineStage : null;
  const workflowId = typeof data.engineWorkflowId === 'string' ? data.engineWorkflowId : null;
  /** @type {any} */
  let status = null;
  if (trigger && workflowId) {
    try {
      status = (await callTrigger(trigger,
        `/v1/workflows/${encodeURIComponent(workflowId)}`, undefined)).status ?? null;
      stage = status?.stage ?? stage;
    } catch {
      // The engine is unreachable or slow: the stage the document holds is still shown.
    }
  }
  const percent = stage === 'rendering' ? status?.render_progress?.percent ?? null : null;
  const view = h(EngineStatusView, { stage, round: status?.round ?? data.engineRound, percent,
    error: status?.error ?? data.engineError, workflowId, i18n });
  const user = props.req?.user;
  const inAdmin = Boolean(props.req);
  const sending = !workflowId && !data.engineStage && Boolean(data.composer?.ready);
  const working = inAdmin && (sending || (workflowId !== null && !SETTLED.has(stage ?? '')));
  const may = Boolean(engine.mayDecide?.(user, data)); // decisions.mjs decider
  const collection = props.collectionSlug ?? '';
  const id = String(props.id ?? data.id ?? '');
  // Each video's poster lies beside it (<preset>.jpg next to <preset>.mp4).
  const outputs = (status?.outputs ?? []).flatMap((/** @type {string} */ uri) =>
    uri.endsWith('.mp4') ? [uri, uri.replace(/\.mp4$/, '.jpg')] : [uri]);
  const links = status && !['rendering', 'failed'].includes(stage ?? '')
    ? await presign(engine.preview ?? null, outputs) : [];
  const last = status?.approvals?.at?.(-1);
  const failedChannels = Object.entries(status?.channels ?? {})
    .filter(([, state]) => state === 'ERROR' || state === 'DELETED').map(([channel]) => channel);
  return h('div', { className: 'creative-engine' },
    h('style', null, STYLE),
    view,
    sending ? h('p', null, t('sending')) : null,
    links.length ? Previews(links, t) : null,
    last ? h('p', { className: 'creative-engine-last-decision' },
      t('decisionLine', { round: last.round, reviewer: last.reviewer,
        decision: `decision.${last.decision}` in STRINGS.en
          ? t(/** @type {import('./i18n.mjs').Key} */ (`decision.${last.decision}`))
          : last.decision }),
      last.accepted ? '' : t('notTaken', { reason: last.reason ?? t('refused') })) : null,
    Object.keys(status?.permalinks ?? {}).length ? h('ul', { className: 'creative-engine-live' },
      ...Object.entries(status.permalinks).map(([channel, url]) => h('li', { key: channel },
        t('liveOn', { channel }), h('a', { href: String(url), target: '_blank', rel: 'noreferrer' },
          String(url))))) : null,
    stage === 'publish_failed' && failedChannels.length ? h('p', { role: 'alert' },
      t('notPublished', { channels: failedChannels.join(', ') }))
      : null,
    // A new form each round (the round's own text to edit).
    may && stage === 'awaiting_approval' ? h(EngineDecision, { key: `round-${status?.round}`,
      collection, id, editable: status?.editable ?? {},
      // The client parts get their words translated here, where Payload's t is.
      words: Object.fromEntries(DECISION_WORDS.map((key) => [key, t(key)])),
      labels: Object.fromEntries(Object.keys(status?.editable ?? {})
        .map((path) => [path, labelFor(path, t)])) }) : null,
    may && stage === 'publish_failed' && failedChannels.length
      ? h(EngineRetry, { collection, id, channels: failedChannels,
        words: { retry: t('retry', { channels: failedChannels.join(', ') }) } }) : null,
    working ? h(EngineRefresh, {}) : null);
}
