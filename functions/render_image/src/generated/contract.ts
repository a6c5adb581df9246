// Generated from schema/contract.json by scripts/contract-types.mjs (make schema); do not edit.
export type ErrorTypeName = 'DISPATCH_ERROR' | 'FUNCTION_ERROR' | 'INSUFFICIENT_CREDITS' | 'INVALID_REQUEST' | 'LEDGER_CONFLICT' | 'RENDER_FAILED' | 'UNSAFE_MEDIA' | 'UNSUPPORTED_CONTRACT';
export type KindName = 'render_image';
