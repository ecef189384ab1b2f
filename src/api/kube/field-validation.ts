/**
 * Server-side field validation (`?fieldValidation=Strict|Warn|Ignore`, KEP 2885): fields the
 * kind's OpenAPI schema does not have are a 400 under Strict (what kubectl sends by default)
 * and a `Warning` header under Warn (the API server's default), in the API server's words.
 */
import type { ServerResponse } from 'node:http';
import { ApiStatusError } from '../../errors/index.js';
import { unknownFields } from '../../manifests/schema/kube-schemas.js';
import { kindSchema } from './openapi.js';
import type { ResourceType } from './resources.js';

export { unknownFields };

/** Applies the request's fieldValidation directive to a created, replaced or applied object. */
export function validateFields(r: ResourceType, object: unknown, directive: string | null, res: ServerResponse): void {
  const mode = directive ?? 'Warn';
  if (mode !== 'Strict' && mode !== 'Warn' && mode !== 'Ignore')
    throw new ApiStatusError('BadRequest', `fieldValidation must be one of "Ignore", "Warn" or "Strict", not ${JSON.stringify(mode)}`);
  if (mode === 'Ignore') return;
  const unknown = unknownFields(kindSchema(r), object).map((p) => `unknown field "${p}"`);
  if (unknown.length === 0) return;
  if (mode === 'Strict') {
    throw new ApiStatusError(
      'BadRequest',
      `${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: strict decoding error: ${unknown.join(', ')}`,
    );
  }
  res.setHeader(
    'Warning',
    unknown.map((u) => `299 - ${JSON.stringify(u)}`),
  );
}
