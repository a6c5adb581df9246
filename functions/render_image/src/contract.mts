// The dispatch contract, generated from the Python models by `make schema` (schema/: the
// contract version, error types and this function's kinds in contract.json, and each kind's
// event and result JSON Schemas); a pytest test fails when they drift.
import fs from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { requestViolation } from './account_scope.mjs';
import type { ImageEvent } from './generated/image-event.js';
import type { ImageResult } from './generated/image-result.js';
import type { ErrorTypeName, KindName } from './generated/contract.js';

export type { ImageEvent, ImageRequest, BrandKit, S3Object } from './generated/image-event.js';
export type { ImageResult, ComputeUsage } from './generated/image-result.js';
export type { ErrorTypeName, KindName } from './generated/contract.js';

// The events and results of this function's kinds (one kind today: render_image).
export type ActivityEvent = ImageEvent;
export type ActivityResult = ImageResult;

interface KindFiles { activity: string; function: string; event_schema: string; result_schema: string }
interface Generated {
  contract_version: number;
  error_types: Record<ErrorTypeName, string>;
  kinds: Record<string, KindFiles>;
}

const here = new URL('../schema/', import.meta.url);
const load = (name: string): unknown => JSON.parse(fs.readFileSync(new URL(name, here), 'utf8'));
const generated = load('contract.json') as Generated;

export const CONTRACT_VERSION = generated.contract_version;
// Error types by their Python constant name: ERROR_TYPES.INVALID_REQUEST is 'InvalidRequest'.
export const ERROR_TYPES = Object.freeze(generated.error_types);
// This function's kinds by name: KINDS.render_image === 'render_image'.
export const KINDS: Readonly<Record<string, string>> & { readonly [K in KindName]: K } = Object.freeze(
  Object.fromEntries(Object.keys(generated.kinds).map((k) => [k, k]))) as never;

const ajv = new Ajv2020({ allErrors: false, strict: false, validateFormats: false });
const validators: Record<string, { event: ValidateFunction; result: ValidateFunction } | undefined> =
  Object.fromEntries(Object.entries(generated.kinds).map(([kind, files]) => [kind, {
    event: ajv.compile(load(files.event_schema) as object),
    result: ajv.compile(load(files.result_schema) as object) }]));

export class ContractError extends Error {
  readonly type: string;
  readonly field: string | undefined;

  constructor(message: string, type: string, field?: string) {
    super(message);
    this.type = type;
    this.field = field;
  }
}

type AjvError = Pick<ErrorObject, 'instancePath' | 'keyword' | 'message'> & { params?: Record<string, unknown> };

export function describeAjvError(error: AjvError, prefix = ''): { field: string; message: string } {
  const path = error.instancePath.split('/').filter(Boolean);
  if (error.keyword === 'required') path.push(String(error.params?.missingProperty));
  if (error.keyword === 'additionalProperties') path.push(String(error.params?.additionalProperty));
  const field = [prefix, ...path].filter(Boolean).join('.') || '(root)';
  const why = error.keyword === 'required' ? 'is required'
    : error.keyword === 'additionalProperties' ? 'is not a known field'
      : error.message ?? error.keyword;
  return { field, message: `${field}: ${why}` };
}

// A field of an event not yet validated (anything may be missing or of another type).
export const rawField = (raw: unknown, name: string): unknown =>
  (raw && typeof raw === 'object' ? (raw as Record<string, unknown>)[name] : undefined);

export function extractToken(raw: unknown): Uint8Array | null {
  const token = rawField(raw, 'task_token');
  if (typeof token !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return null;
  const bytes = Buffer.from(token, 'base64');
  return bytes.length ? new Uint8Array(bytes) : null;
}

export function parseEvent(raw: unknown): ActivityEvent {
  if (!raw || typeof raw !== 'object') {
    throw new ContractError('the event must be a JSON object', ERROR_TYPES.INVALID_REQUEST);
  }
  const version = rawField(raw, 'contract_version');
  if (version !== CONTRACT_VERSION) {
    throw new ContractError(
      `contract_version ${JSON.stringify(version)} is not supported by this ` +
        `function (it speaks [${CONTRACT_VERSION}]): deploy the worker and the functions from ` +
        'the same release', ERROR_TYPES.UNSUPPORTED_CONTRACT, 'contract_version');
  }
  const kind = rawField(raw, 'kind');
  const validator = validators[String(kind)]?.event;
  if (!validator) {
    throw new ContractError(`kind: this function handles ${JSON.stringify(Object.keys(KINDS))}, ` +
      `not ${JSON.stringify(kind)}`, ERROR_TYPES.INVALID_REQUEST, 'kind');
  }
  if (!validator(raw)) {
    const { field: named, message } = describeAjvError(firstError(validator));
    throw new ContractError(`invalid event: ${message}`, ERROR_TYPES.INVALID_REQUEST, named);
  }
  const event = raw as ActivityEvent; // the schema (generated from the same models) says so
  const account = event.request.account;
  if (account !== undefined && account !== null) {
    const violation = requestViolation(account, event.request);
    if (violation) throw new ContractError(violation.message, ERROR_TYPES.INVALID_REQUEST, violation.field);
  }
  return event;
}

const firstError = (validator: ValidateFunction): AjvError =>
  validator.errors?.[0] ?? { instancePath: '', keyword: 'schema', message: 'does not match the schema' };

export function checkResult(result: unknown): ActivityResult {
  const validator = validators[String(rawField(result, 'kind'))]?.result;
  if (!validator || !validator(result)) {
    const error: AjvError = validator ? firstError(validator)
      : { instancePath: '/kind', keyword: 'enum', message: `is not one of ${Object.keys(KINDS)}` };
    const { message } = describeAjvError(error, 'result');
    throw new Error(`the result does not match the contract: ${message}`);
  }
  return result as ActivityResult;
}
