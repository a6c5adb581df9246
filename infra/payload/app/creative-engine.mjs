// @ts-check
// The creative-engine plugin for Payload 3: one line in payload.config
// (`plugins: [creativeEngine({ collections: ['posts'] })]`) adds the fields the engine writes
// back to each chosen collection. Editors read them; only the engine's API user may change
// them (field-level access: Payload drops what a user may not update), and the admin shows
// them read-only. Typed with Payload's own types (JSDoc, checked by tsc in `make test`).

/**
 * @typedef {object} CreativeEngineOptions
 * @property {string[]} collections slugs of the collections that publish through the engine
 * @property {string} [engineUserEmail] the API user the worker authenticates as
 *   (`SMM_PAYLOAD_API_KEY`); default engine@example.com
 */

/** @type {(email: string) => import('payload').FieldAccess} */
const onlyTheEngine = (email) => ({ req }) => req.user?.email === email;

/** @type {import('payload').FieldAccess} */
const signedIn = ({ req }) => Boolean(req.user);

/**
 * The engine's fields, in the order the admin shows them.
 * @param {string} email
 * @returns {import('payload').Field[]}
 */
export function engineFields(email) {
  const access = { read: signedIn, create: onlyTheEngine(email), update: onlyTheEngine(email) };
  const admin = { readOnly: true, position: /** @type {const} */ ('sidebar') };
  return [
    { name: 'engineStage', type: 'text', access, admin, index: true },
    { name: 'engineWorkflowId', type: 'text', access, admin },
    { name: 'engineRound', type: 'number', access, admin },
    { name: 'engineOutputs', type: 'json', access, admin },
    { name: 'enginePostizPostIds', type: 'json', access, admin },
    { name: 'engineError', type: 'textarea', access, admin },
    { name: 'engineReminder', type: 'number', access, admin },
    { name: 'engineReviewSentTo', type: 'json', access, admin },
    { name: 'engineSeq', type: 'number', access, admin: { ...admin, hidden: true } },
  ];
}

const ENGINE_FIELDS = engineFields('').map((f) => /** @type {{name: string}} */ (f).name);

/**
 * The engine reports stages in order, but a report retried after a timeout can reach Payload
 * after a newer one: a report older than what the document holds changes none of the engine's
 * fields (everything else in it is kept).
 * @type {import('payload').CollectionBeforeChangeHook}
 */
export const keepNewestEngineReport = ({ data, originalDoc, operation }) => {
  if (operation !== 'update' || typeof data?.engineSeq !== 'number') return data;
  if (typeof originalDoc?.engineSeq === 'number' && data.engineSeq < originalDoc.engineSeq) {
    const kept = { ...data };
    for (const name of ENGINE_FIELDS) kept[name] = originalDoc[name];
    return kept;
  }
  return data;
};

/**
 * @param {CreativeEngineOptions} options
 * @returns {import('payload').Plugin}
 */
export function creativeEngine(options) {
  const email = options.engineUserEmail ?? 'engine@example.com';
  return (config) => ({
    ...config,
    collections: (config.collections ?? []).map((collection) =>
      options.collections.includes(collection.slug)
        ? { ...collection, fields: [...collection.fields, ...engineFields(email)],
          hooks: { ...collection.hooks, beforeChange: [
            ...(collection.hooks?.beforeChange ?? []), keepNewestEngineReport] } }
        : collection),
  });
}
