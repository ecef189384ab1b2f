/**
 * v1 Secret: `data` is base64 (as the API stores it), `stringData` is plain text that
 * the API server encodes and merges over `data`. Both end up as base64 in the model.
 */
import type { Secret } from '../../model/types.js';
import { readString, readStringMap, type Obj } from '../read.js';
import type { Reporter } from '../reporter.js';
import { isConfigMapKey } from '../validation/names.js';
import type { Located } from './located.js';

const BASE64_CHAR = /[A-Za-z0-9+/]/;

/** Where Go's base64.StdEncoding would stop: the byte offset of the first bad input, or -1. */
function base64ErrorOffset(s: string): number {
  const padding = s.length - s.replace(/=+$/, '').length;
  const body = s.length - padding;
  for (let i = 0; i < body; i++) if (!BASE64_CHAR.test(s[i] ?? '')) return i;
  if (padding > 2 || s.length % 4 !== 0) return s.length - (s.length % 4 || padding);
  return -1;
}

/** Keys a Secret type requires (ValidateSecret). */
const REQUIRED_KEYS: Readonly<Record<string, readonly string[]>> = {
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
};

export function readSecret(r: Reporter, object: Obj, located: Located): Secret {
  const type = readString(r, object, 'type', '') || 'Opaque';
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(readStringMap(r, object, 'data', '') ?? {})) {
    r.invalidEach(`data[${key}]`, key, isConfigMapKey(key));
    const offset = base64ErrorOffset(value);
    if (offset >= 0) r.invalid(`data[${key}]`, '<secret data>', `illegal base64 data at input byte ${offset}`);
    else data[key] = value;
  }
  for (const [key, value] of Object.entries(readStringMap(r, object, 'stringData', '') ?? {})) {
    r.invalidEach(`stringData[${key}]`, key, isConfigMapKey(key));
    data[key] = Buffer.from(value, 'utf8').toString('base64');
  }
  const required = Object.hasOwn(REQUIRED_KEYS, type) ? (REQUIRED_KEYS[type] ?? []) : [];
  for (const key of required) if (data[key] === undefined) r.required(`data[${key}]`);
  return { kind: 'Secret', ...located, type, data };
}
