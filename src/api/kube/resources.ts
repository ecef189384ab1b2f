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
  /**
   * Served from a CustomResourceDefinition (the Gateway API kinds, as AKS installs them):
   * PATCH takes JSON and merge patches and server-side apply, not strategic merge patch.
   */
  readonly custom: boolean;
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
  options: { categories?: string[]; writable?: boolean; subresources?: ResourceType['subresources']; custom?: boolean } = {},
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
    custom: options.custom ?? false,
  };
}

const GATEWAY_API = 'gateway.networking.k8s.io';

/** A Gateway API kind, as the upstream CRDs define it (category gateway-api, a status subresource but for ReferenceGrant). */
function gatewayApi(version: string, kind: string, plural: string, namespaced: boolean, shortNames: string[], status = true): ResourceType {
  return res(GATEWAY_API, version, kind, plural, namespaced, shortNames, { categories: ['gateway-api'], subresources: status ? ['status'] : [], custom: true });
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
  // The versions the manifests layer reads (src/manifests/kind-table.ts): the standard
  // channel's v1 and v1beta1, the experimental channel's v1alpha2 for TCPRoute and TLSRoute.
  gatewayApi('v1', 'GatewayClass', 'gatewayclasses', false, ['gc']),
  gatewayApi('v1', 'Gateway', 'gateways', true, ['gtw']),
  gatewayApi('v1', 'HTTPRoute', 'httproutes', true, []),
  gatewayApi('v1', 'GRPCRoute', 'grpcroutes', true, []),
  gatewayApi('v1beta1', 'ReferenceGrant', 'referencegrants', true, ['refgrant'], false),
  gatewayApi('v1alpha2', 'TCPRoute', 'tcproutes', true, []),
  gatewayApi('v1alpha2', 'TLSRoute', 'tlsroutes', true, []),
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

/** The API groups and their served versions, the preferred one first. */
export const GROUPS: readonly { name: string; versions: readonly string[] }[] = [
  { name: 'apps', versions: ['v1'] },
  { name: 'discovery.k8s.io', versions: ['v1'] },
  { name: 'networking.k8s.io', versions: ['v1'] },
  { name: GATEWAY_API, versions: ['v1', 'v1beta1', 'v1alpha2'] },
];
