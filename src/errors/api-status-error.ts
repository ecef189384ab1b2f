/**
 * Every answer that is not a success is a Kubernetes `Status` (meta/v1), with the reason
 * the API server would give, so kubectl prints `Error from server (NotFound): ...`.
 */
import { AksEmuError } from './aks-emu-error.js';
import { formatFieldError, ManifestInvalidError } from './field-error.js';

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'Invalid'
  | 'Timeout'
  | 'InternalError'
  | 'ServiceUnavailable';

const CODE_OF: Record<StatusReason, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  Timeout: 504,
  InternalError: 500,
  ServiceUnavailable: 503,
};

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly causes?: readonly { reason: string; message: string; field?: string }[];
}

/** A refused request: its reason decides the HTTP status. */
export class ApiStatusError extends AksEmuError {
  readonly reason: StatusReason;
  readonly details: StatusDetails | undefined;

  constructor(reason: StatusReason, message: string, details?: StatusDetails, options?: { cause?: unknown }) {
    super('AKS_EMU_API_REQUEST', message, { status: CODE_OF[reason], cause: options?.cause });
    this.name = 'ApiStatusError';
    this.reason = reason;
    this.details = details;
  }
}

export interface KubeStatus {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Record<string, never>;
  readonly status: 'Failure';
  readonly message: string;
  readonly reason: StatusReason;
  readonly details?: StatusDetails & { code?: string };
  readonly code: number;
}

function reasonOfStatus(status: number): StatusReason {
  const found = (Object.entries(CODE_OF) as [StatusReason, number][]).find(([, code]) => code === status);
  return found ? found[0] : status >= 500 ? 'InternalError' : 'BadRequest';
}

const FIELD_REASON = {
  Required: 'FieldValueRequired',
  Invalid: 'FieldValueInvalid',
  Duplicate: 'FieldValueDuplicate',
  NotSupported: 'FieldValueNotSupported',
  Forbidden: 'FieldValueForbidden',
  TooMany: 'FieldValueTooMany',
  NotFound: 'FieldValueNotFound',
  UnknownField: 'FieldValueInvalid',
} as const;

/** Any error → the Status the API server would send (unexpected errors are InternalError). */
export function toStatus(err: unknown): KubeStatus {
  if (err instanceof ApiStatusError) {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: err.message,
      reason: err.reason,
      ...(err.details ? { details: err.details } : {}),
      code: err.status,
    };
  }
  if (err instanceof ManifestInvalidError) {
    const first = err.errors[0];
    // A cause's message leaves the field out: kubectl prints `field: message`.
    const causes = err.errors.map((e) => ({
      reason: FIELD_REASON[e.type],
      message: e.type === 'UnknownField' ? formatFieldError(e) : formatFieldError(e).slice(e.field.length + 2),
      field: e.field,
    }));
    const what = first ? `${first.kind} "${first.name}"` : 'object';
    const full = err.errors.map(formatFieldError);
    const list = full.length === 1 ? full[0]! : `[${full.join(', ')}]`;
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `${what} is invalid: ${list}`,
      reason: 'Invalid',
      details: { ...(first ? { name: first.name, kind: first.kind } : {}), causes, code: err.code },
      code: 422,
    };
  }
  if (err instanceof AksEmuError) {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: err.message,
      reason: reasonOfStatus(err.status),
      details: { code: err.code },
      code: err.status,
    };
  }
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${String((err as Error)?.message ?? err)}`,
    reason: 'InternalError',
    code: 500,
  };
}
