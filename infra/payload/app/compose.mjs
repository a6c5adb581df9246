// @ts-check
// Composing a creative in Payload's admin without JSON: the plugin's `compose` option adds a
// "Creative" group of real fields to each enabled collection (kind, template, headline and
// caption, photo, brand kit, formats, channels, reviewers, schedule) and an upload collection
// for the editors' media, and turns a saved document into the trigger's PublishRequest. The
// media collection is stored by @payloadcms/storage-s3 in the engine's bucket, under the
// account's prefix, so the engine reads what the editor uploaded (an s3:// object), never a
// URL.

import { select, text, textarea } from 'payload/shared';

import { settingsFor } from './channels.mjs';
import { label, translator } from './i18n.mjs';

/**
 * @typedef {object} ComposeOptions
 * @property {Record<string, Record<string, unknown>>} [settings] the Postiz settings the
 *   organisation posts with, by channel id or by provider (`{"x": {"who_can_reply_post":
 *   "everyone"}, "instagram-demo": {"post_type": "post"}}`; the engine's preflight refuses a
 *   channel without its provider's required ones). Editors choose among the channels the
 *   engine lists for `account` (channels.mjs), not from this config.
 * @property {{id: string, label?: string, settings?: Record<string, unknown>}[]} [channels]
 *   without an `account` only (the operator's unbilled work, which the engine does not
 *   limit): the Postiz integrations editors choose from, each with its settings
 * @property {{label: string, id: string}[]} brandKits the brand kits editors choose from
 *   (ids of kits stored with `smm-engine brand-kit put`)
 * @property {string} bucket the engine's assets bucket, where uploads are stored
 * @property {string} [account] the account the engine bills; uploads go under its prefix
 *   (accounts/<account>/payload-media/), and every request names it
 * @property {string} [mediaSlug] the upload collection's slug; default 'engine-media'
 */

export const MEDIA_SLUG = 'engine-media';
export const VIDEO_FORMATS = ['9:16', '1:1', '16:9'];
export const IMAGE_TEMPLATES = /** @type {const} */ (['quote_card', 'link_preview']);

/** @param {ComposeOptions} options */
export const mediaPrefix = (options) =>
  // Unowned work keeps its media under assets/ (the operator's, which the functions read).
  options.account ? `accounts/${options.account}/payload-media` : 'assets/payload-media';

/**
 * The editors' media: images only (the engine renders from stills), stored in S3 by the
 * storage adapter (no local copy: `disableLocalStorage` is the adapter's default).
 * @param {ComposeOptions} options
 * @returns {import('payload').CollectionConfig}
 */
export function mediaCollection(options) {
  return {
    slug: options.mediaSlug ?? MEDIA_SLUG,
    labels: { singular: label('media'), plural: label('media') },
    admin: { useAsTitle: 'alt' },
    upload: { mimeTypes: ['image/png', 'image/jpeg', 'image/webp'] },
    fields: [{ name: 'alt', type: 'text', label: label('mediaDescription'), required: true }],
  };
}

/** @type {(kind: string) => import('payload').Condition} */
const when = (kind) => (_, siblingData) => siblingData?.kind === kind;

/**
 * Required once the editor marks the creative ready (a draft may be saved half-written, and
 * documents made through the API without a composer are not refused); Payload's own check
 * of the field (length, options) still runs.
 * @param {import('payload').Validate<any, any, any, any>} own the field type's validation
 * @returns {import('payload').Validate<any, any, any, any>}
 */
const neededWhenReady = (own) => (value, args) =>
  (args.siblingData?.ready && !(Array.isArray(value) ? value.length > 0 : Boolean(value)))
    ? translator(args.req?.i18n)('neededWhenReady')
    : own(value, args);

/**
 * @param {ComposeOptions} options
 * @param {{validChannels: import('payload').Validate<any, any, any, any>, picker: string}} channels
 *   the server-side check of a choice against the engine's list, and the picker component
 * @returns {import('payload').Field}
 */
export function composeGroup(options, channels) {
  return {
    name: 'composer', type: 'group', label: label('creative'),
    admin: { description: label('creativeDescription') },
    fields: [
      { name: 'kind', type: 'radio', required: true, defaultValue: 'image', label: label('kind'),
        options: [{ label: label('image'), value: 'image' },
          { label: label('video'), value: 'video' }] },
      { name: 'template', type: 'select', defaultValue: 'quote_card', label: label('template'),
        options: [{ label: label('quoteCard'), value: 'quote_card' },
          { label: label('linkPreview'), value: 'link_preview' }],
        admin: { condition: when('image') } },
      { name: 'headline', type: 'text', validate: neededWhenReady(text), maxLength: 120,
        label: label('headline'), admin: { description: label('headlineDescription') } },
      { name: 'byline', type: 'text', maxLength: 60, label: label('byline'),
        admin: { description: label('bylineDescription') } },
      { name: 'caption', type: 'textarea', validate: neededWhenReady(textarea), maxLength: 2200,
        label: label('caption'), admin: { description: label('captionDescription') } },
      { name: 'photo', type: 'upload', relationTo: options.mediaSlug ?? MEDIA_SLUG,
        label: label('photo'), admin: { description: label('photoDescription') } },
      { name: 'brandKit', type: 'select', validate: neededWhenReady(select),
        label: label('brandKit'),
        defaultValue: options.brandKits[0]?.id,
        options: options.brandKits.map((kit) => ({ label: kit.label, value: kit.id })) },
      { name: 'formats', type: 'select', hasMany: true, defaultValue: ['9:16'],
        label: label('formats'),
        options: VIDEO_FORMATS.map((value) => ({ label: value, value })),
        admin: { condition: when('video') } },
      // Ids as Postiz names them; the choices come from the engine at run time (a select's
      // options are fixed in the config), so the field stores text and checks it itself.
      { name: 'channels', type: 'text', hasMany: true, label: label('channels'),
        validate: neededWhenReady(channels.validChannels),
        admin: { components: { Field: channels.picker },
          description: label('channelsDescription') } },
      { name: 'reviewers', type: 'relationship', relationTo: 'users', hasMany: true,
        label: label('reviewers'), admin: { description: label('reviewersDescription') } },
      { name: 'publishAt', type: 'date', label: label('publishAt'),
        admin: { date: { pickerAppearance: 'dayAndTime' },
          description: label('publishAtDescription') } },
      { name: 'ready', type: 'checkbox', label: label('ready'), defaultValue: false },
    ],
  };
}

/**
 * The trigger's PublishRequest for a composed document (null while it has no composer data).
 * The photo and the reviewers are read back by id, so the request names the S3 object the
 * storage adapter wrote and the reviewers' emails.
 * @param {Record<string, any>} doc
 * @param {import('payload').Payload} payload
 * @param {ComposeOptions} options
 * @param {string} collection
 * @param {() => Promise<import('./channels.mjs').Listing>} listing the engine's channels, for
 *   each chosen channel's provider (its settings may be the provider's)
 */
export async function composedRequest(doc, payload, options, collection, listing) {
  const c = doc.composer;
  if (!c?.headline || !c?.channels?.length) return null;
  const photo = c.photo ? await s3Uri(payload, options, c.photo) : undefined;
  const reviewers = [];
  for (const who of c.reviewers ?? []) {
    const id = typeof who === 'object' ? who.id : who;
    const user = await payload.findByID({ collection: 'users', id, depth: 0 });
    if (user?.email) reviewers.push(user.email);
  }
  const known = await listing().catch(() => null);
  const settings = Object.fromEntries(c.channels.map((/** @type {string} */ id) => [id,
    settingsFor(options, known?.channels.find((ch) => ch.id === id), id)]));
  return {
    collection, doc_id: String(doc.id), ...(options.account ? { account: options.account } : {}),
    creative: c.kind === 'video' ? video(c, photo) : image(c, photo),
    post: { content: c.caption, integrations: c.channels, channel_settings: settings,
      ...(c.publishAt ? { type: 'schedule', publish_at: new Date(c.publishAt).toISOString() }
        : { type: 'now' }) },
    approval: { reviewers },
  };
}

/**
 * @param {Record<string, any>} c the composer group
 * @param {string | undefined} photo
 */
function image(c, photo) {
  const props = c.template === 'link_preview'
    ? { title: c.headline, site: c.byline || 'our site' }
    : { quote: c.headline, author: c.byline || 'our team', ...(photo ? { avatar: photo } : {}) };
  return { kind: 'image', spec: { brand_kit: c.brandKit, template: c.template ?? 'quote_card',
    props } };
}

/**
 * Two scenes: the headline over the photo (or the brand's colours), then the caption's first
 * line over the brand's gradient.
 * @param {Record<string, any>} c
 * @param {string | undefined} photo
 */
function video(c, photo) {
  const first = String(c.caption).split('\n')[0].slice(0, 120);
  return { kind: 'video', spec: {
    brand_kit: c.brandKit, presets: c.formats?.length ? c.formats : ['9:16'], quality: 'draft',
    scenes: [
      { duration_s: 3,
        background: photo ? { type: 'image', uri: photo, fit: 'fill' }
          : { type: 'solid', color: 'primary' },
        texts: [{ text: c.headline, animation: 'slide_up' }] },
      { duration_s: 3, transition_in: { type: 'crossfade', duration_s: 0.5 },
        background: { type: 'gradient', from_color: 'primary', to_color: 'accent' },
        texts: [{ text: first, animation: 'fade' }] },
    ],
  } };
}

/**
 * @param {import('payload').Payload} payload
 * @param {ComposeOptions} options
 * @param {unknown} ref an upload's id or populated document
 */
async function s3Uri(payload, options, ref) {
  const id = typeof ref === 'object' && ref !== null ? /** @type {any} */ (ref).id : ref;
  const media = await payload.findByID({ collection: options.mediaSlug ?? MEDIA_SLUG,
    id: /** @type {string | number} */ (id), depth: 0 });
  // The adapter records the prefix it wrote under (it can differ per document).
  return `s3://${options.bucket}/${media.prefix || mediaPrefix(options)}/${media.filename}`;
}
