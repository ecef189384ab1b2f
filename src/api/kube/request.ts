/**
 * A Kubernetes API request-path, resolved: `/api/v1/namespaces/default/pods/web/log` →
 * resource pods, namespace default, name web, subresource log.
 */
import { ApiStatusError } from '../../errors/index.js';
import { RESOURCES, resourceFor, type ResourceType } from './resources.js';

export type ApiPath =
  | { readonly type: 'group-version'; readonly group: string; readonly version: string }
  | {
      readonly type: 'resource';
      readonly resource: ResourceType;
      /** undefined: every namespace (lists and watches of a namespaced kind). */
      readonly namespace: string | undefined;
      readonly name: string | undefined;
      readonly subresource: string | undefined;
    };

function notFound(path: string): ApiStatusError {
  return new ApiStatusError('NotFound', `the server could not find the requested resource (${path})`);
}

/**
 * undefined when the path is not a resource this API serves (other routes may: the
 * Gateway API reads), a NotFound for a served group's unknown resource or extra segments.
 */
export function resolveApiPath(segments: readonly string[], path: string): ApiPath | undefined {
  let group: string;
  let version: string;
  let rest: readonly string[];
  if (segments[0] === 'api' && segments.length >= 2) {
    group = '';
    version = segments[1]!;
    rest = segments.slice(2);
  } else if (segments[0] === 'apis' && segments.length >= 3) {
    group = segments[1]!;
    version = segments[2]!;
    rest = segments.slice(3);
  } else return undefined;
  if (!RESOURCES.some((r) => r.group === group && r.version === version)) return undefined;
  if (rest.length === 0) return { type: 'group-version', group, version };
  if (rest[0] === 'namespaces' && rest.length >= 3 && rest[2] !== 'status' && rest[2] !== 'finalize') {
    const resource = resourceFor(group, version, rest[2]!);
    if (!resource || !resource.namespaced || rest.length > 5) throw notFound(path);
    return { type: 'resource', resource, namespace: rest[1]!, name: rest[3], subresource: rest[4] };
  }
  const resource = resourceFor(group, version, rest[0]!);
  if (!resource || rest.length > 3) throw notFound(path);
  if (resource.namespaced && rest.length > 1) throw notFound(path);
  return { type: 'resource', resource, namespace: resource.namespaced ? undefined : '', name: rest[1], subresource: rest[2] };
}
