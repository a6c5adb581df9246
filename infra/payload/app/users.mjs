// @ts-check
// The local app's people: the engine's API user (the worker's way in, by API key) and the
// editors who sign in to the admin. Roles decide what the admin lets them do: an `editor`
// composes and decides, a `viewer` only reads; `admin` manages users. Roles are the app's
// own choice, not the plugin's: the plugin asks the app who may decide (`canDecide`).

import { randomBytes } from 'node:crypto';

export const ROLES = /** @type {const} */ (['admin', 'editor', 'viewer']);

/** @param {unknown} user @param {string} role */
export const hasRole = (user, role) =>
  Array.isArray(/** @type {any} */ (user)?.roles) && /** @type {any} */ (user).roles.includes(role);

/** @type {import('payload').Access} */
const adminsOrSelf = ({ req }) =>
  hasRole(req.user, 'admin') || (req.user ? { id: { equals: req.user.id } } : false);

/** @type {import('payload').CollectionConfig} */
export const users = {
  slug: 'users',
  auth: { useAPIKey: true },
  admin: { useAsTitle: 'email' },
  access: {
    read: ({ req }) => Boolean(req.user),
    create: ({ req }) => hasRole(req.user, 'admin'),
    update: adminsOrSelf,
    delete: ({ req }) => hasRole(req.user, 'admin'),
  },
  fields: [
    {
      name: 'roles', type: 'select', hasMany: true, defaultValue: ['viewer'],
      options: ROLES.map((value) => ({ label: value, value })),
      // Nobody grants themselves a role: only an admin changes roles.
      access: { update: ({ req }) => hasRole(req.user, 'admin') },
      saveToJWT: true,
    },
  ],
};

/**
 * On start: the engine's API user with this run's key, and the people `SMM_PAYLOAD_USERS`
 * names (a JSON list of {email, password, roles, apiKey?}: `make dev`'s editor and viewer,
 * the local stack's admin).
 * @param {import('payload').Payload} payload
 */
export async function seedUsers(payload) {
  const email = process.env.SMM_PAYLOAD_ENGINE_EMAIL ?? 'engine@example.com';
  const apiKey = process.env.SMM_PAYLOAD_API_KEY ?? '';
  if (apiKey) {
    await upsertUser(payload, email, { enableAPIKey: true, apiKey, roles: ['viewer'] },
      randomBytes(24).toString('hex'));
  }
  /** @type {{email: string, password: string, roles?: string[], apiKey?: string}[]} */
  const people = JSON.parse(process.env.SMM_PAYLOAD_USERS || '[]');
  for (const person of people) {
    await upsertUser(payload, person.email, { password: person.password,
      roles: person.roles ?? ['viewer'],
      ...(person.apiKey ? { enableAPIKey: true, apiKey: person.apiKey } : {}) },
    person.password);
  }
}

/**
 * @param {import('payload').Payload} payload
 * @param {string} email
 * @param {Record<string, unknown>} data
 * @param {string} password used when the user is new
 */
async function upsertUser(payload, email, data, password) {
  const existing = await payload.find({ collection: 'users', overrideAccess: true,
    where: { email: { equals: email } } });
  if (existing.docs.length === 0) {
    await payload.create({ collection: 'users', overrideAccess: true,
      data: { email, password, ...data } });
  } else {
    // A kept database (a restarted dev stack): this run's key and passwords.
    await payload.update({ collection: 'users', id: existing.docs[0].id, overrideAccess: true,
      data });
  }
}
