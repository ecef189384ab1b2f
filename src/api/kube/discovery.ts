/**
 * Discovery as kubectl reads it: /version, /api, /api/v1, /apis, /apis/<group>/<version>.
 * kubectl 1.32 first asks for aggregated discovery (apidiscovery.k8s.io/v2); an answer in
 * plain `application/json` makes it fall back to these per-group documents.
 */
import { kubernetesVersion } from '../version.js';
import { GROUPS, RESOURCES, groupVersion, verbsOf, type ResourceType } from './resources.js';

export function versionInfo() {
  const [major, minor] = kubernetesVersion.slice(1).split('.');
  return {
    major,
    minor,
    gitVersion: kubernetesVersion,
    gitCommit: 'aks-emu',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.23.0',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

export function apiVersions(serverAddress: string) {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

export function apiGroupList() {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: GROUPS.map((g) => apiGroup(g.name, g.versions)),
  };
}

/** One group's versions, the preferred (first) one first, as the API server lists them. */
export function apiGroup(name: string, versions: readonly string[]) {
  const gvs = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { kind: 'APIGroup', apiVersion: 'v1', name, versions: gvs, preferredVersion: gvs[0] };
}

function subresourceEntries(r: ResourceType) {
  return r.subresources.map((sub) => {
    switch (sub) {
      case 'status':
        return {
          name: `${r.plural}/status`,
          singularName: '',
          namespaced: r.namespaced,
          kind: r.kind,
          verbs: r.writable ? ['get', 'patch', 'update'] : ['get'],
        };
      case 'scale':
        return {
          name: `${r.plural}/scale`,
          singularName: '',
          namespaced: true,
          group: 'autoscaling',
          version: 'v1',
          kind: 'Scale',
          verbs: ['get', 'patch', 'update'],
        };
      case 'log':
        return { name: `${r.plural}/log`, singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] };
      case 'eviction':
        return { name: `${r.plural}/eviction`, singularName: '', namespaced: true, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] };
    }
  });
}

/** The APIResourceList of one group/version, or undefined when it is not served. */
export function apiResourceList(group: string, version: string) {
  const resources = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (resources.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupVersion({ group, version }),
    resources: resources.flatMap((r) => [
      {
        name: r.plural,
        singularName: r.singular,
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: verbsOf(r),
        ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
        ...(r.categories.length ? { categories: r.categories } : {}),
      },
      ...subresourceEntries(r),
    ]),
  };
}
