/**
 * Strict field validation of manifests, as kubectl asks the API server for it
 * (`kubectl apply --validate=strict`, the default since 1.27): a field the kind's schema
 * does not have, such as a misspelt `spec.externalTraficPolicy`, would otherwise be
 * dropped without a word and the object would run with the default. `Warn` reports it and
 * goes on (the API server's own default), `Ignore` says nothing.
 */
import type { Reporter } from '../reporter.js';
import { schemaOfApiVersion, unknownFields } from '../schema/kube-schemas.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export const FIELD_VALIDATIONS: readonly FieldValidation[] = ['Strict', 'Warn', 'Ignore'];

/**
 * kubectl's `--validate` values: strict (or true), warn, ignore (or false); undefined for
 * anything else.
 */
export function parseValidateFlag(value: string): FieldValidation | undefined {
  switch (value.toLowerCase()) {
    case 'strict':
    case 'true':
      return 'Strict';
    case 'warn':
      return 'Warn';
    case 'ignore':
    case 'false':
      return 'Ignore';
    default:
      return undefined;
  }
}

/**
 * Reports the unknown fields of one object: errors under Strict, `warning:` lines under
 * Warn. Kinds without a schema (the Gateway API's) are not checked.
 */
export function checkUnknownFields(
  r: Reporter,
  object: { readonly apiVersion: string; readonly kind: string; readonly object: unknown },
  mode: FieldValidation,
  warn: (line: string) => void,
  where: string,
): void {
  if (mode === 'Ignore') return;
  const schema = schemaOfApiVersion(object.apiVersion, object.kind);
  if (schema === undefined) return;
  for (const field of unknownFields(schema, object.object)) {
    if (mode === 'Strict') r.unknownField(field);
    else warn(`warning: ${where}: ${object.kind} "${r.name}": unknown field ${JSON.stringify(field)}`);
  }
}
