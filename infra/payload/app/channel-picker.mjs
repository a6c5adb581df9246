'use client';
// @ts-check
// The Channels field in the editor's browser: one checkbox per channel the engine says the
// account may post to (name and provider from Postiz), read through the plugin's endpoint on
// this Payload with the editor's own session. A channel chosen earlier that the engine no
// longer lists stays shown (and ticked) so the editor sees it and can untick it; the save is
// refused on this field until they do (channels.mjs validChannels).

import { CheckboxInput, FieldDescription, FieldError, FieldLabel, useConfig, useDocumentInfo,
  useField, useTranslation } from '@payloadcms/ui';
import { createElement as h, useEffect, useState } from 'react';

import { translator } from './i18n.mjs';

/**
 * @param {{path: string, readOnly?: boolean, field?: {label?: any, required?: boolean,
 *   admin?: {description?: any}}}} props
 */
export function ChannelPicker({ path, readOnly, field }) {
  const { value, setValue, showError, errorMessage } = useField({ path });
  const { collectionSlug } = useDocumentInfo();
  const { config } = useConfig();
  const t = translator(useTranslation().i18n);
  const [listing, setListing] = useState(
    /** @type {{channels: {id: string, label: string}[], postizListed: boolean} | null} */ (null));
  const [problem, setProblem] = useState(/** @type {string | null} */ (null));

  useEffect(() => {
    let live = true;
    fetch(`${config.serverURL ?? ''}${config.routes.api}/${collectionSlug}/engine-channels`,
      { credentials: 'include' })
      .then(async (response) => {
        const answer = await response.json().catch(() => ({}));
        if (!live) return;
        if (response.ok) setListing(answer);
        else setProblem(answer?.errors?.[0]?.message ?? String(response.status));
      })
      .catch((err) => live && setProblem(String(err)));
    return () => { live = false; };
  }, [config.serverURL, config.routes.api, collectionSlug]);

  const base = `field-${path.replaceAll('.', '__')}`; // as Payload ids its own fields
  const chosen = Array.isArray(value) ? value.map(String) : [];
  const offered = listing?.channels ?? [];
  const gone = chosen.filter((id) => !offered.some((c) => c.id === id))
    .map((id) => ({ id, label: t('channelGone', { id }) }));
  /** @param {string} id */
  const toggle = (id) => setValue(chosen.includes(id)
    ? chosen.filter((c) => c !== id) : [...chosen, id]);

  return h('div', { className: 'field-type engine-channels', 'data-field': path },
    h(FieldLabel, { label: field?.label ?? t('channels'), path, required: field?.required }),
    h(FieldError, { path, message: errorMessage, showError }),
    problem ? h('p', { role: 'alert' }, t('channelsUnlisted', { problem }))
      : listing === null ? h('p', null, t('channelsListing'))
        : offered.length === 0 && gone.length === 0 ? h('p', null, t('channelsNone'))
          : h('div', { role: 'group', 'aria-label': t('channels'),
            style: { display: 'flex', flexWrap: 'wrap', gap: '0.5rem 1.5rem' } },
            ...[...offered, ...gone].map((c) => h(CheckboxInput, {
              key: c.id, id: `${base}-${c.id}`, name: `${base}-${c.id}`, label: c.label,
              checked: chosen.includes(c.id), readOnly, onToggle: () => toggle(c.id) }))),
    listing && !listing.postizListed && offered.length > 0
      ? h('p', null, t('channelsUnasked')) : null,
    field?.admin?.description
      ? h(FieldDescription, { path, description: field.admin.description }) : null);
}
