/**
 * The three patch types the API server takes: JSON merge patch (RFC 7386), JSON patch
 * (RFC 6902), and strategic merge patch, whose lists merge by the keys the Kubernetes
 * types declare (`patchMergeKey`) for the kinds aks-emu serves.
 */
import { ApiStatusError } from '../../errors/index.js';

type Json = unknown;
type Obj = Record<string, Json>;

const isObj = (v: Json): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObj(patch)) return patch;
  const out: Obj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new ApiStatusError('BadRequest', `json patch: path ${JSON.stringify(path)} must start with "/"`);
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** RFC 6902, all-or-nothing. */
export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw new ApiStatusError('BadRequest', 'json patch: the body must be a JSON array of operations');
  let doc = clone(target);
  const parentOf = (path: string[]): [Obj | Json[], string] => {
    let cur: Json = doc;
    for (const part of path.slice(0, -1)) {
      cur = Array.isArray(cur) ? cur[Number(part)] : isObj(cur) ? cur[part] : undefined;
      if (cur === undefined) throw new ApiStatusError('Invalid', `json patch: path /${path.join('/')} does not exist`);
    }
    if (!isObj(cur) && !Array.isArray(cur)) throw new ApiStatusError('Invalid', `json patch: path /${path.join('/')} does not exist`);
    return [cur, path[path.length - 1]!];
  };
  const read = (path: string[]): Json => {
    if (path.length === 0) return doc;
    const [parent, key] = parentOf(path);
    const v = Array.isArray(parent) ? parent[Number(key)] : parent[key];
    if (v === undefined) throw new ApiStatusError('Invalid', `json patch: path /${path.join('/')} does not exist`);
    return v;
  };
  const remove = (path: string[]): Json => {
    const value = read(path);
    const [parent, key] = parentOf(path);
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
    return value;
  };
  const add = (path: string[], value: Json) => {
    if (path.length === 0) {
      doc = value;
      return;
    }
    const [parent, key] = parentOf(path);
    if (Array.isArray(parent)) {
      const i = key === '-' ? parent.length : Number(key);
      if (!Number.isInteger(i) || i < 0 || i > parent.length) throw new ApiStatusError('Invalid', `json patch: index ${key} out of range`);
      parent.splice(i, 0, value);
    } else parent[key] = value;
  };
  for (const op of ops) {
    if (!isObj(op) || typeof op['op'] !== 'string' || typeof op['path'] !== 'string')
      throw new ApiStatusError('BadRequest', 'json patch: every operation needs "op" and "path"');
    const path = pointer(op['path']);
    switch (op['op']) {
      case 'add':
        add(path, clone(op['value']));
        break;
      case 'remove':
        remove(path);
        break;
      case 'replace':
        remove(path);
        add(path, clone(op['value']));
        break;
      case 'move':
        add(path, remove(pointer(String(op['from']))));
        break;
      case 'copy':
        add(path, clone(read(pointer(String(op['from'])))));
        break;
      case 'test':
        if (JSON.stringify(read(path)) !== JSON.stringify(op['value'])) throw new ApiStatusError('Invalid', `json patch: test failed at ${op['path']}`);
        break;
      default:
        throw new ApiStatusError('BadRequest', `json patch: unknown operation ${JSON.stringify(op['op'])}`);
    }
  }
  return doc;
}

/**
 * The merge key of a list by its field name and where it sits (the `patchMergeKey` tags of
 * k8s.io/api); lists without one are replaced whole, as the API server does.
 */
function mergeKeyOf(path: readonly string[]): string | undefined {
  const field = path[path.length - 1];
  const parent = path[path.length - 2];
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'volumes':
    case 'env':
    case 'imagePullSecrets':
      return 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'volumeDevices':
      return 'devicePath';
    case 'hostAliases':
      return 'ip';
    case 'conditions':
      return 'type';
    case 'ownerReferences':
      return 'uid';
    case 'ports':
      // Service ports merge by port, container ports by containerPort.
      return parent === 'spec' && !path.includes('template') ? 'port' : 'containerPort';
    default:
      return undefined;
  }
}

/** Lists of scalars that merge as sets (patchStrategy: merge). */
const MERGED_SCALAR_LISTS = new Set(['finalizers']);

export function strategicMergePatch(target: Json, patch: Json, path: readonly string[] = []): Json {
  if (!isObj(patch)) return patch;
  if (patch['$patch'] === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return rest;
  }
  if (patch['$patch'] === 'delete') return undefined;
  const out: Obj = isObj(target) ? { ...target } : {};
  const retain = Array.isArray(patch['$retainKeys']) ? new Set(patch['$retainKeys'] as string[]) : undefined;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[field]) && Array.isArray(v)) out[field] = (out[field] as Json[]).filter((x) => !v.includes(x));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const here = [...path, k];
    if (Array.isArray(v)) out[k] = mergeList(Array.isArray(out[k]) ? (out[k] as Json[]) : [], v, here);
    else if (isObj(v)) {
      const merged = strategicMergePatch(out[k], v, here);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  if (retain) for (const k of Object.keys(out)) if (!retain.has(k) && !Object.hasOwn(patch, k)) delete out[k];
  return out;
}

function mergeList(current: readonly Json[], patch: readonly Json[], path: readonly string[]): Json[] {
  const field = path[path.length - 1]!;
  if (MERGED_SCALAR_LISTS.has(field)) return [...new Set([...current, ...patch])];
  const key = mergeKeyOf(path);
  if (key === undefined) {
    if (patch.some((e) => isObj(e) && e['$patch'] === 'replace')) return patch.filter((e) => !(isObj(e) && e['$patch'] === 'replace'));
    return patch.filter((e) => !(isObj(e) && '$patch' in e));
  }
  if (patch.some((e) => isObj(e) && e['$patch'] === 'replace' && Object.keys(e).length === 1)) {
    return patch.filter((e) => !(isObj(e) && e['$patch'] === 'replace'));
  }
  const out = [...current];
  for (const element of patch) {
    if (!isObj(element)) throw new ApiStatusError('BadRequest', `strategic merge patch: ${path.join('.')} elements must be objects with "${key}"`);
    const at = out.findIndex((e) => isObj(e) && e[key] === element[key]);
    if (element['$patch'] === 'delete') {
      if (at >= 0) out.splice(at, 1);
      continue;
    }
    if (at >= 0) out[at] = strategicMergePatch(out[at], element, path);
    else out.push(strategicMergePatch({}, element, path));
  }
  return out;
}
