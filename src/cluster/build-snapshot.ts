/**
 * Assembles the snapshot from the manifests, the allocation and the runtime facts. Pure
 * and deterministic: the same inputs give the same (deep-frozen) snapshot, every list in
 * a stable order, so the data plane can swap it in whole.
 */
import type { ClusterConfig } from '../config/types.js';
import { objectKey, type Manifests, type Service } from '../model/types.js';
import type { Allocation } from './allocate.js';
import { needsHealthCheckNodePort, needsNodePort, nodePortKey } from './allocators/node-port.js';
import { buildEndpoints } from './endpoints.js';
import { programmedByAzure } from './loadbalancer/frontends.js';
import { buildLoadBalancers } from './loadbalancer/load-balancers.js';
import { nodeInfos, nodeSpecs, type NodeMetas } from './nodes.js';
import { podInfos, type ChoosePodKind } from './pod-info.js';
import type { ContainerStatusInfo, ServiceInfo, ServiceLoadBalancerInfo, Snapshot } from './snapshot.js';
import { desiredPods } from './workload-pods.js';
import { clusterDnsIn } from './netpol/cluster-dns.js';
import { compileNetworkPolicies } from './netpol/table.js';

export interface RuntimeFacts {
  /** Node listeners down (the user stopped the node). */
  readonly stoppedNodes: readonly string[];
  /** Stopped longer than the grace period: pods there are not ready. */
  readonly notReadyNodes: readonly string[];
  /** `ns/pod` → result of readiness probes or a forced value; absent = no probe result yet. */
  readonly podReadiness: Readonly<Record<string, boolean>>;
  /** `ns/pod` → container statuses from runtimes that supervise containers (a process pod's). */
  readonly podStatuses?: Readonly<Record<string, readonly ContainerStatusInfo[]>>;
  /** Labels, annotations and cordon of the nodes, as written through the API. */
  readonly nodeMeta?: NodeMetas;
  /** `ns/pod` of the pods evicted so far: their controllers replace them under new names. */
  readonly evictedPods?: readonly string[];
}

export interface BuildSnapshotInput {
  readonly manifests: Manifests;
  readonly config: ClusterConfig;
  readonly allocation: Allocation;
  readonly facts: RuntimeFacts;
  readonly version: number;
  readonly now: Date;
  /** The pod-kind registry's choice per pod; every pod is an echo pod without it. */
  readonly choosePodKind?: ChoosePodKind;
  /**
   * The snapshot built before this one. A node, pod, Service, endpoints entry or load
   * balancer whose content is the same as one of it is that same frozen object, so work
   * downstream keyed by the object (tables, API objects) is done once per change of it.
   * The result is equal to a build without it.
   */
  readonly previous?: Snapshot;
}

function clusterIPOf(service: Service, allocation: Allocation): string {
  if (service.spec.type === 'ExternalName') return '';
  if (service.spec.clusterIP === 'None') return 'None';
  return allocation.clusterIPs[objectKey(service.metadata)] ?? '';
}

function loadBalancerOf(service: Service, allocation: Allocation): ServiceLoadBalancerInfo | undefined {
  if (!programmedByAzure(service)) return undefined;
  const f = allocation.frontends[objectKey(service.metadata)];
  if (!f) return undefined;
  return {
    internal: f.internal,
    loadBalancerName: f.loadBalancerName,
    frontendName: f.frontendName,
    ...(f.ip === undefined ? {} : { ip: f.ip }),
    ...(f.pendingReason === undefined ? {} : { pendingReason: f.pendingReason }),
  };
}

export function serviceInfo(service: Service, allocation: Allocation): ServiceInfo {
  const key = objectKey(service.metadata);
  const { spec, metadata } = service;
  const healthCheckNodePort = needsHealthCheckNodePort(service) ? allocation.healthCheckNodePorts[key] : undefined;
  const loadBalancer = loadBalancerOf(service, allocation);
  return {
    namespace: metadata.namespace,
    name: metadata.name,
    uid: metadata.uid,
    type: spec.type,
    clusterIP: clusterIPOf(service, allocation),
    ports: spec.ports.map((p) => {
      const nodePort = needsNodePort(service, p) ? allocation.nodePorts[nodePortKey(key, p)] : undefined;
      return {
        name: p.name,
        protocol: p.protocol,
        port: p.port,
        targetPort: p.targetPort,
        ...(nodePort === undefined ? {} : { nodePort }),
        ...(p.appProtocol === undefined ? {} : { appProtocol: p.appProtocol }),
      };
    }),
    ...(spec.selector === undefined ? {} : { selector: spec.selector }),
    sessionAffinity: spec.sessionAffinity,
    sessionAffinityTimeoutSeconds: spec.sessionAffinityTimeoutSeconds,
    externalTrafficPolicy: spec.externalTrafficPolicy,
    internalTrafficPolicy: spec.internalTrafficPolicy,
    ...(healthCheckNodePort === undefined ? {} : { healthCheckNodePort }),
    loadBalancerSourceRanges: spec.loadBalancerSourceRanges,
    publishNotReadyAddresses: spec.publishNotReadyAddresses,
    ...(spec.externalName === undefined ? {} : { externalName: spec.externalName }),
    ...(loadBalancer === undefined ? {} : { loadBalancer }),
    labels: metadata.labels,
    annotations: metadata.annotations,
    source: service.source,
  };
}

const byKey = <T extends { readonly namespace: string; readonly name: string }>(a: T, b: T): number => {
  const ka = objectKey(a);
  const kb = objectKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};

/** Object.freeze all the way down; the snapshot is shared by everything downstream. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** The JSON of frozen snapshot items, made once per item. */
const contentOfItem = new WeakMap<object, string>();

function contentKey(item: object): string {
  let key = contentOfItem.get(item);
  if (key === undefined) contentOfItem.set(item, (key = JSON.stringify(item)));
  return key;
}

/**
 * The items as frozen copies, each the previous snapshot's item of the same content when
 * there is one. Content is compared as JSON: snapshot items are plain JSON data.
 */
function shared<T extends object>(items: readonly T[], previous: readonly T[] | undefined): T[] {
  const before = new Map<string, T>();
  for (const item of previous ?? []) before.set(contentKey(item), item);
  return items.map((item) => {
    const key = JSON.stringify(item);
    const same = before.get(key);
    if (same !== undefined) return same;
    // structuredClone: the inputs stay the caller's; the snapshot freezes only its own objects.
    const copy = deepFreeze(structuredClone(item));
    contentOfItem.set(copy, key);
    return copy;
  });
}

export function buildSnapshot(input: BuildSnapshotInput): Snapshot {
  const { manifests, config, allocation, facts } = input;
  const nodes = nodeInfos(config, facts);
  const specs = nodeSpecs(config, facts.nodeMeta);
  const pods = podInfos(desiredPods(manifests, specs, facts.evictedPods), allocation.pods, nodes, facts, input.choosePodKind).sort(byKey);
  const services = manifests.services.map((s) => serviceInfo(s, allocation)).sort(byKey);
  const clusterDns = clusterDnsIn(config.addresses.serviceCIDR);
  const networkPolicy = compileNetworkPolicies({
    policies: manifests.networkPolicies ?? [],
    namespaces: manifests.namespaces,
    pods,
    nodes,
    ...(clusterDns === undefined ? {} : { clusterDns }),
  });
  const previous = input.previous;
  // structuredClone: the manifests stay the caller's; the snapshot freezes only its own objects.
  return deepFreeze({
    version: input.version,
    generatedAt: input.now.toISOString(),
    settings: {
      timeScale: config.timeScale,
      endpointSelection: config.endpointSelection,
      nodeMonitorGracePeriodSeconds: config.nodeMonitorGracePeriodSeconds,
      addresses: { ...config.addresses },
    },
    nodes: shared(nodes, previous?.nodes),
    pods: shared(pods, previous?.pods),
    services: shared(services, previous?.services),
    endpoints: shared(buildEndpoints(manifests.services, pods, manifests.endpointSlices), previous?.endpoints),
    loadBalancers: shared(buildLoadBalancers(manifests.services, allocation, config, specs), previous?.loadBalancers),
    ...(networkPolicy === undefined ? {} : { networkPolicy: structuredClone(networkPolicy) }),
  });
}
