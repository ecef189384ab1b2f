/**
 * OpenAPI v3 documents, as much as kubectl 1.32 reads: /openapi/v3 lists one document per
 * group/version, and each document's PATCH operations carry the GVK extension and the
 * `fieldValidation` parameter, so `kubectl apply/create` leave validation to the server
 * (what `aks-emu validate` checks) instead of downloading schemas. Kind schemas are not
 * served: `kubectl explain` has nothing to read (docs/kubectl.md).
 */
import { GROUPS, RESOURCES, groupVersion, verbsOf, type ResourceType } from './resources.js';

function docPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

const PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({
  name,
  in: 'query',
  schema: { type: name === 'force' ? 'boolean' : 'string' },
}));

function operations(r: ResourceType) {
  const gvk = { group: r.group, version: r.version, kind: r.kind };
  const op = (action: string) => ({
    operationId: `${action}${r.kind}`,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
    parameters: PARAMS,
    responses: { '200': { description: 'OK' } },
  });
  const prefix = `/${docPath(r.group, r.version)}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}`;
  const writable = verbsOf(r).includes('patch');
  return {
    [prefix]: { get: op('list'), ...(writable ? { post: op('post') } : {}) },
    [`${prefix}/{name}`]: { get: op('get'), ...(writable ? { put: op('put'), patch: op('patch'), delete: op('delete') } : {}) },
  };
}

export function openApiDocument(path: readonly string[]): unknown {
  if (path.length === 1 && path[0] === 'v3') {
    const versions = [{ name: '', version: 'v1' }, ...GROUPS];
    return {
      paths: Object.fromEntries(versions.map((g) => [docPath(g.name, g.version), { serverRelativeURL: `/openapi/v3/${docPath(g.name, g.version)}` }])),
    };
  }
  if (path[0] !== 'v3') return undefined;
  const rest = path.slice(1);
  const [group, version] =
    rest[0] === 'api' && rest.length === 2 ? ['', rest[1]!] : rest[0] === 'apis' && rest.length === 3 ? [rest[1]!, rest[2]!] : [undefined, undefined];
  if (group === undefined) return undefined;
  const resources = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (resources.length === 0) return undefined;
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes (aks-emu)', version: groupVersion({ group, version: version! }) },
    paths: Object.assign({}, ...resources.map(operations)),
    components: { schemas: {} },
  };
}
