// The dispatch contract, generated from the Python models by `make schema` (schema/: the
// contract version, error types and this function's kinds in contract.json, and each kind's
// event and result JSON Schemas); a pytest test fails when they drift.
import fs from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import { requestViolation } from './account_scope.mjs';

const here = new URL('./schema/', import.meta.url);
const load = (name) => JSON.parse(fs.readFileSync(new URL(name, here), 'utf8'));
const generated = load('contract.json');

export const CONTRACT_VERSION = generated.contract_version;
// Error types by their Python constant name: ERROR_TYPES.INVALID_REQUEST is 'InvalidRequest'.
export const ERROR_TYPES = Object.freeze(generated.error_types);
// This function's kinds by name: KINDS.render_image === 'render_image'.
export const KINDS = Object.freeze(Object.fromEntries(Object.keys(generated.kinds).map((k) => [k, k])));

const ajv = new Ajv2020({ allErrors: false, strict: false, validateFormats: false });
const validators = Object.fromEntries(Object.entries(generated.kinds).map(([kind, files]) => [kind, {
  event: ajv.compile(load(files.event_schema)), result: ajv.compile(load(files.result_schema)) }]));

export class ContractError extends Error {
  constructor(message, type, field) {
    super(message);
    this.type = type;
    this.field = field;
  }
}

export function describeAjvError(error, prefix = '') {
  const path = error.instancePath.split('/').filter(Boolean);
  if (error.keyword === 'required') path.push(error.params.missingProperty);
  if (error.keyword === 'additionalProperties') path.push(error.params.additionalProperty);
  const field = [prefix, ...path].filter(Boolean).join('.') || '(root)';
  const why = error.keyword === 'required' ? 'is required'
    : error.keyword === 'additionalProperties' ? 'is not a known field'
      : error.message;
  return { field, message: `${field}: ${why}` };
}

export function extractToken(raw) {
  if (!raw || typeof raw !== 'object' || typeof raw.task_token !== 'string') return null;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(raw.task_token)) return null;
  const bytes = Buffer.from(raw.task_token, 'base64');
  return bytes.length ? new Uint8Array(bytes) : null;
}

export function parseEvent(raw) {
  if (!raw || typeof raw !== 'object') {
    throw new ContractError('the event must be a JSON object', ERROR_TYPES.INVALID_REQUEST);
  }
  if (raw.contract_version !== CONTRACT_VERSION) {
    throw new ContractError(
      `contract_version ${JSON.stringify(raw.contract_version)} is not supported by this ` +
        `function (it speaks [${CONTRACT_VERSION}]): deploy the worker and the functions from ` +
        'the same release', ERROR_TYPES.UNSUPPORTED_CONTRACT, 'contract_version');
  }
  const validator = validators[raw.kind]?.event;
  if (!validator) {
    throw new ContractError(`kind: this function handles ${JSON.stringify(Object.keys(KINDS))}, ` +
      `not ${JSON.stringify(raw.kind)}`, ERROR_TYPES.INVALID_REQUEST, 'kind');
  }
  if (!validator(raw)) {
    const { field, message } = describeAjvError(validator.errors[0]);
    throw new ContractError(`invalid event: ${message}`, ERROR_TYPES.INVALID_REQUEST, field);
  }
  const account = raw.request.account;
  if (account !== undefined && account !== null) {
    const violation = requestViolation(account, raw.request);
    if (violation) throw new ContractError(violation.message, ERROR_TYPES.INVALID_REQUEST, violation.field);
  }
  return raw;
}

export function checkResult(result) {
  const validator = validators[result?.kind]?.result;
  if (!validator || !validator(result)) {
    const error = validator ? validator.errors[0]
      : { instancePath: '/kind', keyword: 'enum', message: `is not one of ${Object.keys(KINDS)}` };
    const { message } = describeAjvError(error, 'result');
    throw new Error(`the result does not match the contract: ${message}`);
  }
  return result;
}
