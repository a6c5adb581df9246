// @ts-check
// The plugin's words, in every language it ships (English, German), the way Payload
// translates: field labels, descriptions and options are `{en, de}` objects (Payload shows
// the one of the admin's language); everything the plugin's components and endpoints say is
// registered under the `creativeEngine` namespace of the config's `i18n.translations`, where
// an app overrides a string or adds a language, and read with Payload's own `t`. A language
// the plugin lacks falls back to English, as Payload's own strings do.

export const NAMESPACE = 'creativeEngine';

const en = {
  creative: 'Creative',
  creativeDescription: 'What the engine renders and where it is posted.',
  kind: 'Kind', image: 'Image', video: 'Video',
  template: 'Template', quoteCard: 'Quote card', linkPreview: 'Link preview',
  headline: 'Headline', headlineDescription: 'The words on the image, or the video\'s title.',
  byline: 'Byline',
  bylineDescription: 'Who said it (quote card) or the site (link preview).',
  caption: 'Caption', captionDescription: 'The post\'s text on every channel.',
  photo: 'Photo', photoDescription: 'The video\'s background, or the quote card\'s portrait.',
  brandKit: 'Brand kit', formats: 'Formats',
  channels: 'Channels',
  channelsDescription: 'Where it is posted: the channels the engine lets this account use.',
  reviewers: 'Reviewers',
  reviewersDescription: 'Who may approve; anyone with the editor role when empty.',
  publishAt: 'Publish at', publishAtDescription: 'Empty: as soon as it is approved.',
  ready: 'Ready: send it to the creative engine',
  neededWhenReady: 'Needed to send it to the creative engine: fill it in, or untick Ready.',
  media: 'Media', mediaDescription: 'Description',
  // The channel picker and its check.
  channelsListing: 'Listing the channels you may post to…',
  channelsUnlisted: 'Could not list the channels: {{problem}}',
  channelsNone: 'No channels yet: the operator allows them for this account with '
    + '`smm-engine channels allow`.',
  channelsUnasked: 'Postiz could not be asked: these are the allowed channels; the engine '
    + 'checks each one when the post is sent.',
  channelGone: '{{id}} (not offered any more)',
  channelRefused: '{{ids}}: not a channel this account may post to. Choose from: {{offered}}.',
  channelsNoneYet: 'none yet',
  // The status panel.
  notSent: 'Not sent to the creative engine yet.',
  sending: 'Sending to the creative engine…',
  round: 'round {{round}}',
  rendering: 'Rendering {{percent}}%',
  decisionLine: 'Round {{round}}: {{decision}} by {{reviewer}}',
  notTaken: ' (not taken: {{reason}})',
  refused: 'refused',
  liveOn: 'Live on {{channel}}: ',
  notPublished: 'Not published on {{channels}}: see Postiz\'s calendar for the reason.',
  renderedImage: 'Rendered image {{n}} of {{count}}',
  // The stages the engine reports (publish_io.STAGES, queued from the publish workflow)
  // and the plugin's own.
  'stage.queued': 'queued', 'stage.rendering': 'rendering',
  'stage.awaiting_approval': 'awaiting approval',
  'stage.scheduled': 'scheduled', 'stage.approved': 'approved', 'stage.publishing': 'publishing',
  'stage.published': 'published', 'stage.publish_failed': 'publish failed',
  'stage.failed': 'failed', 'stage.rejected': 'rejected', 'stage.expired': 'expired',
  'stage.cancelled': 'cancelled', 'stage.insufficient_credits': 'insufficient credits',
  'stage.invalid': 'invalid',
  'decision.approve': 'approve', 'decision.reject': 'reject', 'decision.revise': 'revise',
  // Deciding.
  comment: 'Comment', editLegend: 'Text (request changes to edit it)',
  approve: 'Approve', requestChanges: 'Request changes', reject: 'Reject',
  sentToEngine: 'Sent to the engine…', retry: 'Retry {{channels}}',
  sceneText: 'Scene {{scene}}, text {{text}}', captionN: 'Caption {{n}}',
  engineAnswered: 'the engine answered {{status}}',
  signInToDecide: 'Sign in to decide.',
  signInToList: 'Sign in to list channels.',
  notConfigured: 'The creative engine is not configured here.',
  noDocument: 'No {{collection}} document {{id}} you may read.',
  mayNotDecide: 'You may not decide on this document: it needs an editor it names as '
    + 'reviewer (or any editor when it names none).',
  notSentYet: 'Not sent to the creative engine yet.',
  decisionOneOf: 'decision: one of approve, reject, revise',
  unreachable: 'The creative engine could not be reached: {{problem}}',
  cannotList: 'The creative engine could not list the channels: {{problem}}',
};

/** @type {typeof en} */
const de = {
  creative: 'Kreation',
  creativeDescription: 'Was die Engine rendert und wo es veröffentlicht wird.',
  kind: 'Art', image: 'Bild', video: 'Video',
  template: 'Vorlage', quoteCard: 'Zitatkarte', linkPreview: 'Link-Vorschau',
  headline: 'Überschrift', headlineDescription: 'Der Text auf dem Bild oder der Titel des Videos.',
  byline: 'Zeile darunter',
  bylineDescription: 'Wer es gesagt hat (Zitatkarte) oder die Website (Link-Vorschau).',
  caption: 'Beitragstext', captionDescription: 'Der Text des Beitrags auf jedem Kanal.',
  photo: 'Foto', photoDescription: 'Der Hintergrund des Videos oder das Porträt der Zitatkarte.',
  brandKit: 'Markenpaket', formats: 'Formate',
  channels: 'Kanäle',
  channelsDescription: 'Wo es veröffentlicht wird: die Kanäle, die die Engine diesem Konto '
    + 'erlaubt.',
  reviewers: 'Prüfer',
  reviewersDescription: 'Wer freigeben darf; leer: jede Person mit der Rolle Redaktion.',
  publishAt: 'Veröffentlichen am', publishAtDescription: 'Leer: sobald es freigegeben ist.',
  ready: 'Fertig: an die Creative Engine senden',
  neededWhenReady: 'Nötig, um es an die Creative Engine zu senden: ausfüllen oder „Fertig“ '
    + 'abwählen.',
  media: 'Medien', mediaDescription: 'Beschreibung',
  channelsListing: 'Die Kanäle, auf denen Sie veröffentlichen dürfen, werden geladen…',
  channelsUnlisted: 'Die Kanäle konnten nicht geladen werden: {{problem}}',
  channelsNone: 'Noch keine Kanäle: Der Betreiber erlaubt sie diesem Konto mit '
    + '`smm-engine channels allow`.',
  channelsUnasked: 'Postiz war nicht erreichbar: Das sind die erlaubten Kanäle; die Engine '
    + 'prüft jeden beim Senden.',
  channelGone: '{{id}} (nicht mehr angeboten)',
  channelRefused: '{{ids}}: Auf diesem Kanal darf dieses Konto nicht veröffentlichen. '
    + 'Zur Wahl: {{offered}}.',
  channelsNoneYet: 'noch keine',
  notSent: 'Noch nicht an die Creative Engine gesendet.',
  sending: 'Wird an die Creative Engine gesendet…',
  round: 'Runde {{round}}',
  rendering: 'Rendern {{percent}} %',
  decisionLine: 'Runde {{round}}: {{decision}} von {{reviewer}}',
  notTaken: ' (nicht übernommen: {{reason}})',
  refused: 'abgelehnt',
  liveOn: 'Live auf {{channel}}: ',
  notPublished: 'Nicht veröffentlicht auf {{channels}}: Den Grund zeigt der Kalender in Postiz.',
  renderedImage: 'Gerendertes Bild {{n}} von {{count}}',
  'stage.queued': 'in der Warteschlange', 'stage.rendering': 'wird gerendert',
  'stage.awaiting_approval': 'wartet auf Freigabe', 'stage.scheduled': 'geplant',
  'stage.approved': 'freigegeben', 'stage.publishing': 'wird veröffentlicht',
  'stage.published': 'veröffentlicht', 'stage.publish_failed': 'Veröffentlichung fehlgeschlagen',
  'stage.failed': 'fehlgeschlagen', 'stage.rejected': 'abgelehnt', 'stage.expired': 'abgelaufen',
  'stage.cancelled': 'abgebrochen', 'stage.insufficient_credits': 'zu wenig Guthaben',
  'stage.invalid': 'ungültig',
  'decision.approve': 'freigegeben', 'decision.reject': 'abgelehnt',
  'decision.revise': 'Änderungen angefragt',
  comment: 'Kommentar', editLegend: 'Text (zum Ändern „Änderungen anfragen“)',
  approve: 'Freigeben', requestChanges: 'Änderungen anfragen', reject: 'Ablehnen',
  sentToEngine: 'An die Engine gesendet…', retry: '{{channels}} erneut versuchen',
  sceneText: 'Szene {{scene}}, Text {{text}}', captionN: 'Untertitel {{n}}',
  engineAnswered: 'die Engine antwortete {{status}}',
  signInToDecide: 'Zum Entscheiden bitte anmelden.',
  signInToList: 'Zum Anzeigen der Kanäle bitte anmelden.',
  notConfigured: 'Die Creative Engine ist hier nicht eingerichtet.',
  noDocument: 'Kein Dokument {{id}} in {{collection}}, das Sie lesen dürfen.',
  mayNotDecide: 'Sie dürfen über dieses Dokument nicht entscheiden: Es braucht eine Person '
    + 'der Redaktion, die es als Prüfer nennt (oder jede, wenn es keine nennt).',
  notSentYet: 'Noch nicht an die Creative Engine gesendet.',
  decisionOneOf: 'decision: eines von approve, reject, revise',
  unreachable: 'Die Creative Engine ist nicht erreichbar: {{problem}}',
  cannotList: 'Die Creative Engine konnte die Kanäle nicht auflisten: {{problem}}',
};

export const STRINGS = { en, de };
/** @typedef {keyof typeof en} Key */

/** The plugin's strings as Payload's `i18n.translations` takes them. */
export const translations = Object.fromEntries(
  Object.entries(STRINGS).map(([language, words]) => [language, { [NAMESPACE]: words }]));

/**
 * A field's label, description or option in every language the plugin ships.
 * @param {Key} key
 * @returns {Record<string, string>}
 */
export const label = (key) =>
  Object.fromEntries(Object.entries(STRINGS).map(([language, words]) => [language, words[key]]));

/**
 * The plugin's words through Payload's `t` when there is one (the admin's language, the
 * app's overrides), else in English (a render outside the admin, a test).
 * @param {{t?: Function} | null | undefined} i18n Payload's i18n (`req.i18n`, a component's
 *   `i18n` prop, `useTranslation().i18n`)
 * @returns {(key: Key, vars?: Record<string, string | number>) => string}
 */
export function translator(i18n) {
  return (key, vars = {}) => {
    const said = i18n?.t ? String(i18n.t(`${NAMESPACE}:${key}`, vars)) : '';
    // Payload's t answers the key itself for a string it does not have.
    if (said && said !== `${NAMESPACE}:${key}` && said !== key) return said;
    return en[key].replace(/\{\{(\w+)\}\}/g, (_, name) => String(vars[name] ?? ''));
  };
}

/**
 * What an editor calls a text the engine lists by path.
 * @param {string} path e.g. props.quote, scenes.0.texts.0.text, captions.1.text
 * @param {ReturnType<typeof translator>} [t] the reader's words (default English)
 */
export function labelFor(path, t = translator(null)) {
  const scene = /^scenes\.(\d+)\.texts\.(\d+)\.text$/.exec(path);
  if (scene) return t('sceneText', { scene: Number(scene[1]) + 1, text: Number(scene[2]) + 1 });
  const caption = /^captions\.(\d+)\.text$/.exec(path);
  if (caption) return t('captionN', { n: Number(caption[1]) + 1 });
  const prop = /^props\.(\w+)$/.exec(path);
  if (prop) return prop[1].charAt(0).toUpperCase() + prop[1].slice(1).replaceAll('_', ' ');
  return path;
}
