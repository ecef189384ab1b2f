/**
 * The kinds aks-emu reads, with the one apiVersion each is served at (as on AKS today)
 * and the resource name kubectl prints in messages such as `services "web" already exists`.
 */

export type HandledKind =
  | 'Service'
  | 'Pod'
  | 'Endpoints'
  | 'Secret'
  | 'ConfigMap'
  | 'Namespace'
  | 'Deployment'
  | 'StatefulSet'
  | 'ReplicaSet'
  | 'ReplicationController'
  | 'DaemonSet'
  | 'EndpointSlice'
  | 'Ingress'
  | 'IngressClass'
  | 'NetworkPolicy'
  | 'GatewayClass'
  | 'Gateway'
  | 'HTTPRoute'
  | 'GRPCRoute'
  | 'TCPRoute'
  | 'TLSRoute'
  | 'ReferenceGrant';

interface KindInfo {
  readonly apiVersion: string;
  /** `<plural>.<group>` as kubectl names the resource. */
  readonly resource: string;
  readonly clusterScoped: boolean;
}

export const HANDLED_KINDS: Readonly<Record<HandledKind, KindInfo>> = {
  Service: { apiVersion: 'v1', resource: 'services', clusterScoped: false },
  Pod: { apiVersion: 'v1', resource: 'pods', clusterScoped: false },
  Endpoints: { apiVersion: 'v1', resource: 'endpoints', clusterScoped: false },
  Secret: { apiVersion: 'v1', resource: 'secrets', clusterScoped: false },
  ConfigMap: { apiVersion: 'v1', resource: 'configmaps', clusterScoped: false },
  Namespace: { apiVersion: 'v1', resource: 'namespaces', clusterScoped: true },
  Deployment: { apiVersion: 'apps/v1', resource: 'deployments.apps', clusterScoped: false },
  StatefulSet: { apiVersion: 'apps/v1', resource: 'statefulsets.apps', clusterScoped: false },
  ReplicaSet: { apiVersion: 'apps/v1', resource: 'replicasets.apps', clusterScoped: false },
  ReplicationController: { apiVersion: 'v1', resource: 'replicationcontrollers', clusterScoped: false },
  DaemonSet: { apiVersion: 'apps/v1', resource: 'daemonsets.apps', clusterScoped: false },
  EndpointSlice: { apiVersion: 'discovery.k8s.io/v1', resource: 'endpointslices.discovery.k8s.io', clusterScoped: false },
  Ingress: { apiVersion: 'networking.k8s.io/v1', resource: 'ingresses.networking.k8s.io', clusterScoped: false },
  IngressClass: { apiVersion: 'networking.k8s.io/v1', resource: 'ingressclasses.networking.k8s.io', clusterScoped: true },
  NetworkPolicy: { apiVersion: 'networking.k8s.io/v1', resource: 'networkpolicies.networking.k8s.io', clusterScoped: false },
  GatewayClass: { apiVersion: 'gateway.networking.k8s.io/v1', resource: 'gatewayclasses.gateway.networking.k8s.io', clusterScoped: true },
  Gateway: { apiVersion: 'gateway.networking.k8s.io/v1', resource: 'gateways.gateway.networking.k8s.io', clusterScoped: false },
  HTTPRoute: { apiVersion: 'gateway.networking.k8s.io/v1', resource: 'httproutes.gateway.networking.k8s.io', clusterScoped: false },
  GRPCRoute: { apiVersion: 'gateway.networking.k8s.io/v1', resource: 'grpcroutes.gateway.networking.k8s.io', clusterScoped: false },
  TCPRoute: { apiVersion: 'gateway.networking.k8s.io/v1alpha2', resource: 'tcproutes.gateway.networking.k8s.io', clusterScoped: false },
  TLSRoute: { apiVersion: 'gateway.networking.k8s.io/v1alpha2', resource: 'tlsroutes.gateway.networking.k8s.io', clusterScoped: false },
  ReferenceGrant: { apiVersion: 'gateway.networking.k8s.io/v1beta1', resource: 'referencegrants.gateway.networking.k8s.io', clusterScoped: false },
};

export function isHandledKind(kind: string): kind is HandledKind {
  return Object.hasOwn(HANDLED_KINDS, kind);
}

/** Skipped kinds that are cluster-scoped, so their notice shows no namespace. */
const CLUSTER_SCOPED_SKIPPED = new Set([
  'APIService',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'MutatingWebhookConfiguration',
  'Node',
  'PersistentVolume',
  'PriorityClass',
  'RuntimeClass',
  'StorageClass',
  'ValidatingWebhookConfiguration',
]);

export function isClusterScoped(kind: string): boolean {
  return isHandledKind(kind) ? HANDLED_KINDS[kind].clusterScoped : CLUSTER_SCOPED_SKIPPED.has(kind);
}
