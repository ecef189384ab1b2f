/**
 * The resources the Kubernetes API of aks-emu serves, with what discovery publishes for
 * each (verbs, shortNames, categories) as a v1.32 API server does.
 */
import type { ObjectRef } from '../../cluster/store/index.js';

export type Verb = 'create' | 'delete' | 'deletecollection' | 'get' | 'list' | 'patch' | 'update' | 'watch';

export interface ResourceType {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  /** Whether users may write it (false: aks-emu's controllers own every object of the kind). */
  readonly writable: boolean;
  readonly subresources: readonly ('status' | 'scale' | 'log' | 'eviction')[];
}

const ALL: readonly Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const READ: readonly Verb[] = ['get', 'list', 'watch'];

export function verbsOf(r: ResourceType): readonly Verb[] {
  // Nodes take label, annotation and cordon changes (node-writes.ts); they are never created or deleted.
  if (r.kind === 'Node') return ['get', 'list', 'patch', 'update', 'watch'];
  return r.writable ? ALL : READ;
}

function res(
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  shortNames: string[],
  options: { categories?: string[]; writable?: boolean; subresources?: ResourceType['subresources'] } = {},
): ResourceType {
  return {
    group,
    version,
    kind,
    plural,
    singular: kind.toLowerCase(),
    namespaced,
    shortNames,
    categories: options.categories ?? [],
    writable: options.writable ?? true,
    subresources: options.subresources ?? [],
  };
}

export const RESOURCES: readonly ResourceType[] = [
  res('', 'v1', 'Namespace', 'namespaces', false, ['ns'], { subresources: ['status'] }),
  res('', 'v1', 'Node', 'nodes', false, ['no'], { writable: false, subresources: ['status'] }),
  res('', 'v1', 'Service', 'services', true, ['svc'], { categories: ['all'], subresources: ['status'] }),
  res('', 'v1', 'Endpoints', 'endpoints', true, ['ep']),
  res('', 'v1', 'Pod', 'pods', true, ['po'], { categories: ['all'], subresources: ['status', 'log', 'eviction'] }),
  res('', 'v1', 'ConfigMap', 'configmaps', true, ['cm']),
  res('', 'v1', 'Secret', 'secrets', true, []),
  res('', 'v1', 'Event', 'events', true, ['ev'], { writable: false }),
  res('', 'v1', 'ReplicationController', 'replicationcontrollers', true, ['rc'], { categories: ['all'], subresources: ['status', 'scale'] }),
  res('apps', 'v1', 'Deployment', 'deployments', true, ['deploy'], { categories: ['all'], subresources: ['status', 'scale'] }),
  res('apps', 'v1', 'ReplicaSet', 'replicasets', true, ['rs'], { categories: ['all'], subresources: ['status', 'scale'] }),
  res('apps', 'v1', 'StatefulSet', 'statefulsets', true, ['sts'], { categories: ['all'], subresources: ['status', 'scale'] }),
  res('apps', 'v1', 'DaemonSet', 'daemonsets', true, ['ds'], { categories: ['all'], subresources: ['status'] }),
  res('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true, []),
  res('networking.k8s.io', 'v1', 'Ingress', 'ingresses', true, ['ing'], { subresources: ['status'] }),
  res('networking.k8s.io', 'v1', 'IngressClass', 'ingressclasses', false, []),
  res('networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies', true, ['netpol']),
];

export function groupVersion(r: Pick<ResourceType, 'group' | 'version'>): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

/** `services`, `deployments.apps`: the name the API server uses in its messages. */
export function qualifiedResource(r: Pick<ResourceType, 'group' | 'plural'>): string {
  return r.group === '' ? r.plural : `${r.plural}.${r.group}`;
}

export function resourceFor(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

export function resourceOfKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCES.find((r) => groupVersion(r) === apiVersion && r.kind === kind);
}

export function refOf(r: ResourceType, namespace: string, name: string): ObjectRef {
  return { group: r.group, kind: r.kind, namespace: r.namespaced ? namespace : '', name, resource: qualifiedResource(r) };
}

export const GROUPS: readonly { name: string; version: string }[] = [
  { name: 'apps', version: 'v1' },
  { name: 'discovery.k8s.io', version: 'v1' },
  { name: 'networking.k8s.io', version: 'v1' },
];
