/**
 * labelSelector and fieldSelector query parameters, parsed as the API server parses them
 * (k8s.io/apimachinery/pkg/labels and pkg/fields) and matched against stored objects.
 */
import { ApiStatusError } from '../../errors/index.js';
import type { KubeObject } from '../../cluster/store/index.js';

export type Requirement =
  | { readonly op: 'in'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'notin'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'exists'; readonly key: string }
  | { readonly op: 'doesnotexist'; readonly key: string };

export type LabelSelector = readonly Requirement[];

// A label key: an optional DNS-subdomain prefix and a name of at most 63 characters.
const KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

function bad(selector: string, why: string): ApiStatusError {
  return new ApiStatusError('BadRequest', `unable to parse requirement: ${why} (in selector ${JSON.stringify(selector)})`);
}

/** Splits on commas outside parentheses: `app in (a,b),tier=web`. */
function splitTerms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (text[i] === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

export function parseLabelSelector(text: string | null): LabelSelector {
  if (!text) return [];
  return splitTerms(text).map((term) => {
    const checkKey = (key: string) => {
      if (!KEY.test(key)) throw bad(text, `invalid label key "${key}"`);
      return key;
    };
    const checkValue = (value: string) => {
      if (!VALUE.test(value))
        throw bad(text, `invalid label value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'`);
      return value;
    };
    const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
    if (set) {
      const values = set[3]!.split(',').map((v) => checkValue(v.trim()));
      return { op: set[2] as 'in' | 'notin', key: checkKey(set[1]!), values };
    }
    const eq = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (eq) {
      const key = checkKey(eq[1]!);
      const value = checkValue(eq[3]!);
      return eq[2] === '!=' ? { op: 'notin', key, values: [value] } : { op: 'in', key, values: [value] };
    }
    if (term.startsWith('!')) return { op: 'doesnotexist', key: checkKey(term.slice(1).trim()) };
    return { op: 'exists', key: checkKey(term) };
  });
}

export function labelsMatch(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const l = labels ?? {};
  return selector.every((r) => {
    const has = Object.hasOwn(l, r.key);
    switch (r.op) {
      case 'in':
        return has && r.values.includes(l[r.key]!);
      case 'notin':
        return !has || !r.values.includes(l[r.key]!);
      case 'exists':
        return has;
      case 'doesnotexist':
        return !has;
    }
  });
}

export interface FieldRequirement {
  readonly field: string;
  readonly equal: boolean;
  readonly value: string;
}

/** The fields every kind supports, and the few more some kinds index (as the API server does). */
const FIELDS_BY_KIND: Record<string, readonly string[]> = {
  Pod: ['spec.nodeName', 'status.phase', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'status.podIP'],
  Event: ['involvedObject.kind', 'involvedObject.name', 'involvedObject.namespace', 'involvedObject.uid', 'reason', 'type', 'source'],
  Secret: ['type'],
  Node: ['spec.unschedulable'],
};

export function parseFieldSelector(text: string | null, kind: string): readonly FieldRequirement[] {
  if (!text) return [];
  return splitTerms(text).map((term) => {
    const m = /^([^!=\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw new ApiStatusError('BadRequest', `invalid selector: '${text}'; can't understand '${term}'`);
    const field = m[1]!;
    if (field !== 'metadata.name' && field !== 'metadata.namespace' && !(FIELDS_BY_KIND[kind] ?? []).includes(field)) {
      throw new ApiStatusError('BadRequest', `field label not supported: ${field}`);
    }
    return { field, equal: m[2] !== '!=', value: m[3]! };
  });
}

function fieldValue(object: KubeObject, path: string): string {
  let value: unknown = object;
  for (const part of path.split('.')) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export function fieldsMatch(selector: readonly FieldRequirement[], object: KubeObject): boolean {
  return selector.every((r) => (fieldValue(object, r.field) === r.value) === r.equal);
}
