/**
 * Typed reads from parsed YAML. Kubernetes decodes manifests into Go structs, so a value
 * of the wrong type (`port: "eighty"`) is an error for that field; here it becomes an
 * Invalid field error with the field's path, and the read returns undefined so that the
 * caller can carry on. JSON null counts as absent, as it does for the API server.
 */
import type { IntOrString } from '../model/types.js';
import type { Reporter } from './reporter.js';

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `spec` + `ports` → `spec.ports`; an empty parent gives the bare key. */
export function child(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function present(parent: Obj, key: string): unknown {
  const v = parent[key];
  return v === null ? undefined : v;
}

/** Absent (or null): distinguishes "not given" from "given with the wrong type" after a read returned undefined. */
export function isAbsent(parent: Obj, key: string): boolean {
  return present(parent, key) === undefined;
}

/** The value if present and of the wanted type; reported and undefined if of another type. */
function readAs<T>(r: Reporter, parent: Obj, key: string, path: string, is: (v: unknown) => v is T, detail: string): T | undefined {
  const v = present(parent, key);
  if (v === undefined || is(v)) return v;
  r.invalid(child(path, key), v, detail);
  return undefined;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isIntOrString = (v: unknown): v is IntOrString => isInt(v) || isString(v);

export function readObj(r: Reporter, parent: Obj, key: string, path: string): Obj | undefined {
  return readAs(r, parent, key, path, isObj, 'must be an object');
}

export function readString(r: Reporter, parent: Obj, key: string, path: string): string | undefined {
  return readAs(r, parent, key, path, isString, 'must be a string');
}

export function readInt(r: Reporter, parent: Obj, key: string, path: string): number | undefined {
  return readAs(r, parent, key, path, isInt, 'must be an integer');
}

export function readBool(r: Reporter, parent: Obj, key: string, path: string): boolean | undefined {
  return readAs(r, parent, key, path, isBool, 'must be a boolean');
}

/** An int-or-string field (ports): an integer or a name. */
export function readIntOrString(r: Reporter, parent: Obj, key: string, path: string): IntOrString | undefined {
  return readAs(r, parent, key, path, isIntOrString, 'must be an integer or a string');
}

/** A list; absent reads as empty. */
export function readList(r: Reporter, parent: Obj, key: string, path: string): unknown[] {
  return readAs(r, parent, key, path, Array.isArray, 'must be a list') ?? [];
}

export interface Item {
  readonly item: Obj;
  readonly index: number;
  /** `spec.ports[2]` */
  readonly path: string;
}

/** A list of objects, each with its own path; items of another type are reported and dropped. */
export function readObjList(r: Reporter, parent: Obj, key: string, path: string): Item[] {
  const items: Item[] = [];
  readList(r, parent, key, path).forEach((item, index) => {
    const itemPath = `${child(path, key)}[${index}]`;
    if (isObj(item)) items.push({ item, index, path: itemPath });
    else r.invalid(itemPath, item, 'must be an object');
  });
  return items;
}

export function readStringList(r: Reporter, parent: Obj, key: string, path: string): string[] {
  const out: string[] = [];
  readList(r, parent, key, path).forEach((v, i) => {
    if (typeof v === 'string') out.push(v);
    else r.invalid(`${child(path, key)}[${i}]`, v, 'must be a string');
  });
  return out;
}

/** A map of strings (labels, annotations, selectors); absent reads as undefined. */
export function readStringMap(r: Reporter, parent: Obj, key: string, path: string): Record<string, string> | undefined {
  const m = readObj(r, parent, key, path);
  if (m === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) {
    if (typeof v === 'string') out[k] = v;
    else r.invalid(`${child(path, key)}[${k}]`, v, 'must be a string');
  }
  return out;
}
