import type { ObjectMeta } from '../model/types.js';
import { HANDLED_KINDS, isClusterScoped, type HandledKind } from './kind-table.js';
import { isObj, readObj, readString, readStringMap, type Obj } from './read.js';
import type { Reporter } from './reporter.js';
import { stableUid } from './uid.js';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isLabelValue, isQualifiedName } from './validation/names.js';

/** Name and namespace as written, before any validation: enough to name the object in messages. */
export function peekIdentity(object: Obj, kind: string): { name: string; namespace: string } {
  const meta = isObj(object['metadata']) ? object['metadata'] : {};
  const name = typeof meta['name'] === 'string' ? meta['name'] : '';
  if (isClusterScoped(kind)) return { name, namespace: '' };
  const ns = meta['namespace'];
  return { name, namespace: typeof ns === 'string' && ns !== '' ? ns : 'default' };
}

/**
 * The name format each kind requires (ValidateServiceName is NameIsDNS1035Label,
 * ValidateNamespaceName is a DNS-1123 label, most others NameIsDNSSubdomain).
 */
function nameRule(kind: HandledKind): (name: string) => string[] {
  if (kind === 'Service') return isDNS1035Label;
  if (kind === 'Namespace') return isDNS1123Label;
  return isDNS1123Subdomain;
}

/** unversionedvalidation.ValidateLabels: key and value formats, reported against the map's path. */
export function validateLabels(r: Reporter, labels: Readonly<Record<string, string>>, path: string): void {
  for (const [k, v] of Object.entries(labels)) {
    r.invalidEach(path, k, isQualifiedName(k));
    r.invalidEach(path, v, isLabelValue(v));
  }
}

export function readMeta(r: Reporter, object: Obj, kind: HandledKind): ObjectMeta {
  const meta = readObj(r, object, 'metadata', '') ?? {};
  const name = readString(r, meta, 'name', 'metadata') ?? '';
  if (name === '') r.required('metadata.name', 'name or generateName is required');
  else r.invalidEach('metadata.name', name, nameRule(kind)(name));

  let namespace = '';
  if (!HANDLED_KINDS[kind].clusterScoped) {
    namespace = readString(r, meta, 'namespace', 'metadata') || 'default';
    r.invalidEach('metadata.namespace', namespace, isDNS1123Label(namespace));
  }

  const labels = readStringMap(r, meta, 'labels', 'metadata') ?? {};
  validateLabels(r, labels, 'metadata.labels');
  const annotations = readStringMap(r, meta, 'annotations', 'metadata') ?? {};
  // ValidateAnnotations: keys are qualified names, compared case-insensitively.
  for (const k of Object.keys(annotations)) r.invalidEach('metadata.annotations', k, isQualifiedName(k.toLowerCase()));

  const uid = readString(r, meta, 'uid', 'metadata') || stableUid(kind, namespace, name);
  return { name, namespace, labels, annotations, uid };
}
