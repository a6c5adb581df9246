// Accounts are a boundary in the bucket: the same rule as smm_runtime.contract.ownership
// (read its docstring for the layout), applied when an event is parsed, so a forged or buggy
// event cannot make this function read or write another account's objects. A parity test
// runs both implementations on one table of cases.
export const ACCOUNTS_ROOT = 'accounts/';
export const SHARED_PREFIX = 'shared/';
// Request fields the function writes to: only the account's own prefix, never shared/.
export const WRITE_FIELDS = new Set(['output', 'poster', 'contact_sheet', 'target']);

export const accountPrefix = (account: string): string => `${ACCOUNTS_ROOT}${account}/`;

export function keyViolation(account: string, key: string, writing = false): string | null {
  if (key.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    return "has an empty, '.' or '..' path segment; name the object by its plain key";
  }
  const own = accountPrefix(account);
  if (key.startsWith(own)) return null;
  if (!writing && key.startsWith(SHARED_PREFIX)) return null;
  const allowed = writing ? own : `${own} or ${SHARED_PREFIX}`;
  return `is outside the objects of account '${account}': it may ${writing ? 'write' : 'use'} ` +
    `only keys under ${allowed}; upload the file under ${own} first`;
}

// One S3 object a request names: [field, bucket, key].
export type S3Ref = [field: string, bucket: string, key: string];

// Every S3 object `value` names: s3:// strings and {bucket, key} objects, at any depth.
export function* s3Refs(value: unknown, path: string): Generator<S3Ref> {
  const join = (name: string | number): string => (path ? `${path}.${name}` : String(name));
  if (typeof value === 'string') {
    if (value.startsWith('s3://')) {
      const rest = value.slice(5);
      const slash = rest.indexOf('/');
      yield slash < 0 ? [path, rest, ''] : [path, rest.slice(0, slash), rest.slice(slash + 1)];
    }
  } else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) yield* s3Refs(item, join(index));
  } else if (value && typeof value === 'object') {
    const { bucket, key } = value as { bucket?: unknown; key?: unknown };
    if (typeof bucket === 'string' && typeof key === 'string') yield [path, bucket, key];
    for (const [name, item] of Object.entries(value)) yield* s3Refs(item, join(name));
  }
}

// The first object a request of `account` may not touch: { field, message }, or null.
export interface Violation { field: string; message: string }

export function requestViolation(account: string, request: object): Violation | null {
  for (const [name, value] of Object.entries(request)) {
    if (name === 'account') continue;
    for (const [field, bucket, key] of s3Refs(value, `request.${name}`)) {
      const why = keyViolation(account, key, WRITE_FIELDS.has(name));
      if (why !== null) return { field, message: `${field}: s3://${bucket}/${key} ${why}` };
    }
  }
  return null;
}
