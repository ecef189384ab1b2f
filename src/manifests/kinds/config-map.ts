/**
 * v1 ConfigMap: its `data` feeds containers' env (valueFrom.configMapKeyRef) and envFrom.
 * Keys are checked as ValidateConfigMap does; binaryData is kept out (it cannot be an
 * environment variable, and nothing else here mounts files).
 */
import type { ConfigMap } from '../../model/types.js';
import { readStringMap, type Obj } from '../read.js';
import type { Reporter } from '../reporter.js';
import { isConfigMapKey } from '../validation/names.js';
import type { Located } from './located.js';

export function readConfigMap(r: Reporter, object: Obj, located: Located): ConfigMap {
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(readStringMap(r, object, 'data', '') ?? {})) {
    r.invalidEach(`data[${key}]`, key, isConfigMapKey(key));
    data[key] = value;
  }
  return { kind: 'ConfigMap', ...located, data };
}
