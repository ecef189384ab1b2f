/**
 * The OpenAPI schemas of the Kubernetes kinds aks-emu serves (generated into
 * kube-schemas.json by scripts/gen-kube-schemas.ts). They live in the manifests layer
 * because both its strict field validation (`aks-emu validate`, `up`) and the API
 * server's (`?fieldValidation=Strict`, `kubectl explain`) read them.
 */
import generated from './kube-schemas.json' with { type: 'json' };

export type Schema = Record<string, unknown>;
export const SCHEMAS = generated.schemas as Record<string, Schema>;
/** `group/version/Kind` (group empty for the core group) → definition name. */
export const SCHEMA_KINDS = generated.kinds as Record<string, string>;
export const SCHEMA_REF = '#/components/schemas/';

/** The schema of a kind at a group and version (undefined for a kind without one). */
export function schemaOfKind(group: string, version: string, kind: string): Schema | undefined {
  const id = SCHEMA_KINDS[`${group}/${version}/${kind}`];
  return id ? SCHEMAS[id] : undefined;
}

/** The schema of a manifest's `apiVersion` and `kind` (`apps/v1`, `v1`). */
export function schemaOfApiVersion(apiVersion: string, kind: string): Schema | undefined {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? schemaOfKind('', apiVersion, kind) : schemaOfKind(apiVersion.slice(0, slash), apiVersion.slice(slash + 1), kind);
}

/** A property's schema with its `$ref` (plain or as a single `allOf`) followed. */
export function resolveSchema(schema: Schema | undefined): Schema | undefined {
  const all = schema?.['allOf'] as Schema[] | undefined;
  const ref = (all?.length === 1 ? all[0]!['$ref'] : schema?.['$ref']) as string | undefined;
  return ref?.startsWith(SCHEMA_REF) ? SCHEMAS[ref.slice(SCHEMA_REF.length)] : schema;
}

/**
 * The paths of the fields of `value` that `schema` does not declare, as the API server's
 * strict decoding names them: `spec.ports[0].tragetPort`; map keys in brackets.
 */
export function unknownFields(schema: Schema | undefined, value: unknown, path = ''): string[] {
  const s = resolveSchema(schema);
  if (!s || typeof value !== 'object' || value === null) return [];
  if (Array.isArray(value)) {
    const items = s['items'] as Schema | undefined;
    return items ? value.flatMap((v, i) => unknownFields(items, v, `${path}[${i}]`)) : [];
  }
  const properties = s['properties'] as Record<string, Schema> | undefined;
  const additional = s['additionalProperties'] as Schema | undefined;
  if (!properties) return additional ? Object.entries(value).flatMap(([k, v]) => unknownFields(additional, v, `${path}[${k}]`)) : [];
  return Object.entries(value).flatMap(([k, v]) => {
    const p = path === '' ? k : `${path}.${k}`;
    const field = properties[k];
    return field ? unknownFields(field, v, p) : [p];
  });
}
