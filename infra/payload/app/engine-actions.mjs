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

import { labelFor, translator } from './i18n.mjs';

/** @typedef {ReturnType<typeof translator>} Translate */

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
 * The words the server translated for the reader (the panel passes them: Payload's `t` is
 * on the server), else English.
 * @param {Record<string, string>} words
 * @returns {Translate}
 */
const said = (words) => {
  const english = translator(null);
  return (key, vars) => words[key] ?? english(key, vars);
};

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
  return answer?.errors?.[0]?.message ?? answer?.error ?? String(response.status);
}

/**
 * @param {{collection: string, id: string, editable: Record<string, string>,
 *   words?: Record<string, string>, labels?: Record<string, string>}} props
 *   words: the form's words in the reader's language; labels: each text's label in it
 *   editable: the creative's text by path, as the engine lists it (a revision may change it)
 */
export function EngineDecision({ collection, id, editable, words = {}, labels = {} }) {
  const t = said(words);
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
    h('label', { htmlFor: 'engine-comment' }, t('comment')),
    h('textarea', { id: 'engine-comment', value: comment, rows: 2,
      onChange: (/** @type {{target: {value: string}}} */ e) => setComment(e.target.value) }),
    paths.length ? h('fieldset', null, h('legend', null, t('editLegend')),
      ...paths.map((path, i) => h('div', { key: path },
        h('label', { htmlFor: `engine-edit-${i}` }, labels[path] ?? labelFor(path)),
        h('input', { id: `engine-edit-${i}`, type: 'text', value: edits[path] ?? '',
          onChange: (/** @type {{target: {value: string}}} */ e) =>
            setEdits({ ...edits, [path]: e.target.value }) })))) : null,
    h('div', { className: 'creative-engine-buttons' },
      h('button', { type: 'button', disabled: busy, className: 'btn btn--style-primary',
        onClick: () => decide('approve') }, t('approve')),
      h('button', { type: 'button', disabled: busy, className: 'btn btn--style-secondary',
        onClick: () => decide('revise') }, t('requestChanges')),
      h('button', { type: 'button', disabled: busy, className: 'btn btn--style-secondary',
        onClick: () => decide('reject') }, t('reject'))),
    error ? h('p', { role: 'alert' }, error) : null,
    sent ? h('p', { role: 'status' }, t('sentToEngine')) : null,
    sent ? h(EngineRefresh, {}) : null);
}

/** @param {{collection: string, id: string, channels: string[], words?: Record<string, string>}}
 *   props */
export function EngineRetry({ collection, id, channels, words = {} }) {
  const t = said(words);
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
      onClick: retry }, t('retry', { channels: channels.join(', ') })),
    error ? h('p', { role: 'alert' }, error) : null,
    sent ? h(EngineRefresh, {}) : null);
}
