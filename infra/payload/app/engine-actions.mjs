'use client';
// @ts-check
// The status panel's interactive parts, in the editor's browser: the decision form (approve,
// reject, request changes with the creative's editable text), the retry button of a publish
// Postiz failed, and the refresher that keeps the panel live while the engine works. They call
// the plugin's endpoints on this Payload (`/api/<collection>/<id>/engine-decision`,
// `.../engine-retry`) with the editor's own session: Payload checks who they are and whether
// they may decide; the trigger's signing secret never leaves the server.

import { useRouter } from 'next/navigation.js';
import { createElement as h, useEffect, useState } from 'react';

/**
 * Re-render the panel on the server every `everyMs` while the engine works (the progress bar
 * moves, the stage changes, previews appear when the render is done).
 * @param {{everyMs?: number}} props
 */
export function EngineRefresh({ everyMs = 1500 }) {
  const router = useRouter();
  useEffect(() => {
    const timer = setInterval(() => router.refresh(), everyMs);
    return () => clearInterval(timer);
  }, [router, everyMs]);
  return null;
}

/**
 * What an editor calls a text the engine lists by path.
 * @param {string} path e.g. props.quote, scenes.0.texts.0.text, captions.1.text
 */
export function labelFor(path) {
  const scene = /^scenes\.(\d+)\.texts\.(\d+)\.text$/.exec(path);
  if (scene) return `Scene ${Number(scene[1]) + 1}, text ${Number(scene[2]) + 1}`;
  const caption = /^captions\.(\d+)\.text$/.exec(path);
  if (caption) return `Caption ${Number(caption[1]) + 1}`;
  const prop = /^props\.(\w+)$/.exec(path);
  if (prop) return prop[1].charAt(0).toUpperCase() + prop[1].slice(1).replaceAll('_', ' ');
  return path;
}

/**
 * @param {string} url
 * @param {unknown} body
 * @returns {Promise<string | null>} the error to show, or null when the engine took it
 */
async function post(url, body) {
  const response = await fetch(url, { method: 'POST', credentials: 'include',
    headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (response.ok) return null;
  const answer = await response.json().catch(() => ({}));
  return answer?.errors?.[0]?.message ?? answer?.error ?? `the engine answered ${response.status}`;
}

/**
 * @param {{collection: string, id: string, editable: Record<string, string>}} props
 *   editable: the creative's text by path, as the engine lists it (a revision may change it)
 */
export function EngineDecision({ collection, id, editable }) {
  const [comment, setComment] = useState('');
  const [edits, setEdits] = useState(/** @type {Record<string, string>} */ ({ ...editable }));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {string | null} */ (null));
  const [sent, setSent] = useState(false);
  const base = `/api/${collection}/${encodeURIComponent(id)}`;

  /** @param {'approve' | 'reject' | 'revise'} decision */
  const decide = async (decision) => {
    setBusy(true);
    setError(null);
    const changed = Object.fromEntries(Object.entries(edits)
      .filter(([path, text]) => text !== editable[path]));
    const problem = await post(`${base}/engine-decision`, { decision, comment,
      ...(decision === 'revise' && Object.keys(changed).length ? { edits: changed } : {}) });
    setBusy(false);
    if (problem) setError(problem);
    else setSent(true); // the workflow takes it in a moment: watch until the stage moves
  };

  const paths = Object.keys(editable);
  return h('form', { className: 'creative-engine-decision', onSubmit: (e) => e.preventDefault() },
    h('label', { htmlFor: 'engine-comment' }, 'Comment'),
    h('textarea', { id: 'engine-comment', value: comment, rows: 2,
      onChange: (/** @type {{target: {value: string}}} */ e) => setComment(e.target.value) }),
    paths.length ? h('fieldset', null, h('legend', null, 'Text (request changes to edit it)'),
      ...paths.map((path, i) => h('div', { key: path },
        h('label', { htmlFor: `engine-edit-${i}` }, labelFor(path)),
        h('input', { id: `engine-edit-${i}`, type: 'text', value: edits[path] ?? '',
          onChange: (/** @type {{target: {value: string}}} */ e) =>
            setEdits({ ...edits, [path]: e.target.value }) })))) : null,
    h('div', { className: 'creative-engine-buttons' },
      h('button', { type: 'button', disabled: busy, className: 'btn btn--style-primary',
        onClick: () => decide('approve') }, 'Approve'),
      h('button', { type: 'button', disabled: busy, className: 'btn btn--style-secondary',
        onClick: () => decide('revise') }, 'Request changes'),
      h('button', { type: 'button', disabled: busy, className: 'btn btn--style-secondary',
        onClick: () => decide('reject') }, 'Reject')),
    error ? h('p', { role: 'alert' }, error) : null,
    sent ? h('p', { role: 'status' }, 'Sent to the engine…') : null,
    sent ? h(EngineRefresh, {}) : null);
}

/** @param {{collection: string, id: string, channels: string[]}} props */
export function EngineRetry({ collection, id, channels }) {
  const [sent, setSent] = useState(false);
  const [error, setError] = useState(/** @type {string | null} */ (null));
  const [busy, setBusy] = useState(false);
  const retry = async () => {
    setBusy(true);
    const problem = await post(`/api/${collection}/${encodeURIComponent(id)}/engine-retry`, {});
    setBusy(false);
    if (problem) setError(problem);
    else setSent(true);
  };
  return h('div', { className: 'creative-engine-retry' },
    h('button', { type: 'button', disabled: busy, className: 'btn btn--style-primary',
      onClick: retry }, `Retry ${channels.join(', ')}`),
    error ? h('p', { role: 'alert' }, error) : null,
    sent ? h(EngineRefresh, {}) : null);
}
