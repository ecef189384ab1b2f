import type { FieldError, FieldErrorType } from '../errors/index.js';
import type { Service } from '../model/types.js';

/** A FieldError located on a Service, as the API server would report it. */
export function serviceFieldError(service: Service, field: string, type: FieldErrorType, value: unknown, detail?: string): FieldError {
  return {
    source: service.source,
    kind: 'Service',
    name: service.metadata.name,
    namespace: service.metadata.namespace,
    field,
    type,
    value,
    ...(detail === undefined ? {} : { detail }),
  };
}

/** Errors in the order of the user's files (file, then document), stable otherwise. */
export function sortBySource(errors: readonly FieldError[]): FieldError[] {
  return [...errors].sort((a, b) => (a.source.file < b.source.file ? -1 : a.source.file > b.source.file ? 1 : a.source.doc - b.source.doc));
}
