import type { Manifests, Source } from '../model/types.js';
import { AksEmuError } from './aks-emu-error.js';

/**
 * The error types of k8s.io/apimachinery/pkg/util/validation/field, with their wording,
 * and `UnknownField`: a field the kind's schema does not have, which the API server's
 * strict decoding refuses (what kubectl asks for by default) before field validation.
 */
export type FieldErrorType = 'Required' | 'Invalid' | 'Duplicate' | 'NotSupported' | 'Forbidden' | 'TooMany' | 'NotFound' | 'UnknownField';

/** One thing wrong with one field of one object, located in the user's files. */
export interface FieldError {
  readonly source: Source;
  /** The object's kind and name as Kubernetes names it in "The Service "web" is invalid". */
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  /** Field path as kubectl prints it: `spec.ports[0].nodePort`. */
  readonly field: string;
  readonly type: FieldErrorType;
  readonly value?: unknown;
  readonly detail?: string;
  /** For NotSupported: the values that are allowed. */
  readonly supported?: readonly string[];
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return JSON.stringify(value);
}

/** `spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated` */
export function formatFieldError(e: FieldError): string {
  const detail = e.detail ? `: ${e.detail}` : '';
  switch (e.type) {
    case 'Required':
      return `${e.field}: Required value${detail}`;
    case 'Invalid':
      return `${e.field}: Invalid value: ${formatValue(e.value)}${detail}`;
    case 'Duplicate':
      return `${e.field}: Duplicate value: ${formatValue(e.value)}`;
    case 'NotSupported': {
      const supported = e.supported?.length ? `: supported values: ${e.supported.map((s) => JSON.stringify(s)).join(', ')}` : '';
      return `${e.field}: Unsupported value: ${formatValue(e.value)}${supported}`;
    }
    case 'Forbidden':
      return `${e.field}: Forbidden${detail}`;
    case 'TooMany':
      return `${e.field}: Too many${detail}`;
    case 'NotFound':
      return `${e.field}: Not found: ${formatValue(e.value)}`;
    case 'UnknownField':
      return `unknown field ${JSON.stringify(e.field)}`;
  }
}

/** `examples/web.yaml (document 2): The Service "web" is invalid: spec.ports[0]...` */
export function formatLocatedFieldError(e: FieldError): string {
  const ns = e.namespace && e.namespace !== 'default' ? ` in namespace "${e.namespace}"` : '';
  // `svc.yaml (document 1): Service "web": strict decoding error: unknown field "spec.selecter"`
  if (e.type === 'UnknownField')
    return `${e.source.file} (document ${e.source.doc}): ${e.kind} "${e.name}"${ns}: strict decoding error: ${formatFieldError(e)}`;
  return `${e.source.file} (document ${e.source.doc}): The ${e.kind} "${e.name}"${ns} is invalid: ${formatFieldError(e)}`;
}

/** All the field errors of a manifest set, reported together; nothing was started. */
export class ManifestInvalidError extends AksEmuError {
  readonly errors: readonly FieldError[];
  /** The objects that had no error, so later stages (allocation) can still report theirs. */
  readonly valid: Manifests | undefined;
  /**
   * Every object that can still be told apart (a name, no duplicate), invalid fields
   * left at their defaults: allocation and the cloud provider's checks run over these
   * too, so that one pass reports their errors as well.
   */
  readonly checkable: Manifests | undefined;

  constructor(errors: readonly FieldError[], valid?: Manifests, checkable?: Manifests) {
    super('AKS_EMU_MANIFEST_INVALID', errors.map(formatLocatedFieldError).join('\n'));
    this.name = 'ManifestInvalidError';
    this.errors = errors;
    this.valid = valid;
    this.checkable = checkable;
  }
}
