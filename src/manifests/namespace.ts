/**
 * `-n NS` on `aks-emu up` and `validate`, as `kubectl apply -n NS` reads it: objects of
 * namespaced kinds without `metadata.namespace` go to NS; an object that names another
 * namespace is refused before anything is sent, in kubectl's words. Cluster-scoped kinds
 * are left alone.
 */
import type { RawObject } from './build.js';
import { isClusterScoped } from './kind-table.js';
import { isObj } from './read.js';

/** kubectl's message for an object whose own namespace differs from the flag's. */
export function namespaceMismatch(own: string, flag: string): string {
  return `the namespace from the provided object "${own}" does not match the namespace "${flag}". You must pass '--namespace=${own}' to perform this operation.`;
}

function withNamespace(object: unknown, namespace: string, problem: (message: string) => void): unknown {
  if (!isObj(object) || typeof object['kind'] !== 'string') return object;
  const kind = object['kind'];
  if (kind.endsWith('List') && Array.isArray(object['items'])) {
    return { ...object, items: object['items'].map((item) => withNamespace(item, namespace, problem)) };
  }
  if (isClusterScoped(kind)) return object;
  const meta = isObj(object['metadata']) ? object['metadata'] : undefined;
  const own = meta?.['namespace'];
  if (typeof own === 'string' && own !== '') {
    if (own !== namespace) problem(namespaceMismatch(own, namespace));
    return object;
  }
  return { ...object, metadata: { ...(meta ?? {}), namespace } };
}

/**
 * The objects with `namespace` filled in where they have none. Each conflict is one line
 * of `errors` (`file (document n): the namespace from the provided object ...`), so that
 * one run names them all.
 */
export function defaultNamespace(objects: readonly RawObject[], namespace: string | undefined, errors: string[]): RawObject[] {
  if (namespace === undefined) return [...objects];
  return objects.map((raw) => ({
    ...raw,
    object: withNamespace(raw.object, namespace, (message) => errors.push(`${raw.file} (document ${raw.doc}): ${message}`)),
  }));
}
