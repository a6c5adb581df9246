// @ts-check
// The channels an editor may choose: read from the engine (`GET /v1/channels/<account>`: the
// channels the operator allowed the account that Postiz still lists, with their providers and
// names), never typed into the app's config. The picker reads them through the plugin's
// endpoint (`GET /api/<collection>/engine-channels`, signed-in people only: the trigger's
// secret stays on the server), and the field's server-side validation checks a saved choice
// against the same list, so a channel the account may not post to is refused on the Channels
// field before the post is sent. Without an account (the operator's unbilled work, which the
// engine does not limit) the list is the app's `compose.channels`.

import { translator } from './i18n.mjs';
import { callTrigger } from './trigger-client.mjs';

const KEEP_MS = 60_000; // the engine itself keeps Postiz's list 5 minutes

/**
 * @typedef {{id: string, label: string, provider: string | null}} Channel
 * @typedef {{channels: Channel[], postizListed: boolean, source: 'engine' | 'config'}} Listing
 */

/** @type {Map<string, {at: number, listing: Listing}>} */
const kept = new Map();

/**
 * The channels `compose.account` may post to, kept a minute per server (the picker, every
 * validation of the form and every start read it).
 * @param {import('./creative-engine.mjs').CreativeEngineOptions} options
 * @returns {Promise<Listing>} throws when the engine cannot be asked
 */
export async function channelListing(options) {
  const compose = options.compose;
  if (!compose?.account || !options.trigger) {
    return { source: 'config', postizListed: false, channels: (compose?.channels ?? []).map(
      (c) => ({ id: c.id, label: c.label ?? c.id, provider: null })) };
  }
  const key = `${options.trigger.url}|${compose.account}`;
  const hit = kept.get(key);
  if (hit && Date.now() - hit.at < KEEP_MS) return hit.listing;
  /** @type {{channels: {id: string, provider: string | null, name: string | null}[],
   *   postiz_listed: boolean}} */
  const answer = await callTrigger(options.trigger,
    `/v1/channels/${encodeURIComponent(compose.account)}`, undefined);
  const listing = { source: /** @type {const} */ ('engine'), postizListed: answer.postiz_listed,
    channels: answer.channels.map((c) => ({ id: c.id, provider: c.provider,
      label: c.name && c.name !== c.id ? `${c.name} (${c.provider ?? c.id})`
        : `${c.id}${c.provider ? ` (${c.provider})` : ''}` })) };
  kept.set(key, { at: Date.now(), listing });
  return listing;
}

/**
 * The Postiz settings a chosen channel is posted with: the app's settings for that channel
 * id, else for its provider (X's `who_can_reply_post`, Instagram's `post_type`, ...).
 * @param {import('./compose.mjs').ComposeOptions} compose
 * @param {Channel | undefined} channel
 * @param {string} id
 */
export function settingsFor(compose, channel, id) {
  const byId = compose.channels?.find((c) => c.id === id)?.settings;
  const byProvider = channel?.provider ? compose.settings?.[channel.provider] : undefined;
  return compose.settings?.[id] ?? byId ?? byProvider ?? {};
}

/**
 * `GET /api/<collection>/engine-channels`: the picker's list, for anyone signed in.
 * @param {import('./creative-engine.mjs').CreativeEngineOptions} options
 * @returns {import('payload').Endpoint}
 */
export function channelsEndpoint(options) {
  return {
    path: '/engine-channels',
    method: 'get',
    handler: async (req) => {
      const t = translator(req.i18n);
      if (!req.user) {
        return Response.json({ errors: [{ message: t('signInToList') }] }, { status: 401 });
      }
      try {
        return Response.json(await channelListing(options));
      } catch (err) {
        return Response.json({ errors: [{ message: t('cannotList',
          { problem: /** @type {Error} */ (err).message }) }] }, { status: 502 });
      }
    },
  };
}

/**
 * The Channels field's server-side check: each chosen id must be one the engine lists for
 * the account. When the engine cannot be asked the choice stands: the engine checks every
 * channel again when the post is sent (and the admin shows its refusal on this field).
 * @param {import('./creative-engine.mjs').CreativeEngineOptions} options
 * @returns {import('payload').Validate<any, any, any, any>}
 */
export function validChannels(options) {
  return async (value, args) => {
    const chosen = Array.isArray(value) ? value.map(String) : [];
    if (chosen.length === 0) return true;
    let listing;
    try {
      listing = await channelListing(options);
    } catch {
      return true;
    }
    const known = new Set(listing.channels.map((c) => c.id));
    const unknown = chosen.filter((id) => !known.has(id));
    if (unknown.length === 0) return true;
    const t = translator(args?.req?.i18n);
    return t('channelRefused', { ids: unknown.join(', '),
      offered: listing.channels.map((c) => c.id).join(', ') || t('channelsNoneYet') });
  };
}
