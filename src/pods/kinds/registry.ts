/**
 * The one registry of pod kinds. Each kind lives in its own file and registers itself
 * (as Caddy's modules do): a name, an optional pure `choose` that claims a pod for the
 * kind (the first claim in `order` wins; the echo pod takes the rest), and `create`,
 * which makes the runtime that serves the pod. Both runtimes use it: the control plane
 * asks `choosePodKind` while building the snapshot, so the choice travels in PodInfo,
 * and whoever runs a pod (the embedded cluster, a node container) asks `createPodRuntime`.
 */
import type { DnsRecord } from '../../cluster/dns.js';
import type { DesiredPod } from '../../cluster/workload-pods.js';
import type { PodInfo, PodKind, PodKindName, ServiceInfo } from '../../cluster/snapshot.js';
import type { Manifests } from '../../model/types.js';
import type { ClusterConfig } from '../../config/types.js';
import type { Clock } from '../../dataplane/clock.js';
import type { Router } from '../../dataplane/ingress/index.js';
import type { PodRuntime } from '../pod-runtime.js';
import type { GatewayRouters } from '../gateway.js';
import type { L7Observe } from '../../dataplane/observe/l7-observe.js';
import type { NetpolGate } from '../../dataplane/netpol-gate.js';
import type { FaultHolder } from '../../faults/compile.js';

/** What a kind may look at when it chooses: the pod and the cluster's configuration. */
export interface ChooseContext {
  readonly config: ClusterConfig;
  /** What the cluster runs (ConfigMaps and Secrets for a container's env). */
  readonly manifests: Manifests;
}

/** What a runtime needs from where the pod runs. */
export interface PodKindContext {
  readonly nodeName: string;
  /** The node's InternalIP; undefined where the runtime does not know it yet. */
  readonly nodeAddress: string | undefined;
  /** The ingress controller's current router (undefined with the controller off). */
  getRouter(): Router | undefined;
  /** The Gateways' current routers, per Gateway and listener port. */
  readonly gateways: GatewayRouters;
  readonly clock: Clock;
  readonly timeScale: number;
  log(line: string): void;
  /** The Services of the latest snapshot (a container's Service variables are read when it starts). */
  services(): readonly ServiceInfo[];
  /** The cluster DNS names of the latest snapshot (Services and headless Services' pods). */
  dnsRecords(): readonly DnsRecord[];
  /** The runtime's containerStatuses() changed. */
  statusChanged(): void;
  /** The latest snapshot's NetworkPolicies (undefined: none), for pods that dial other pods. */
  networkPolicy?(): NetpolGate | undefined;
  /** The node's container engine, where pods of the `container` kind can run. */
  readonly containers?: ContainerPodFactory;
  /** The cluster's trace store and L7 route counters, where the runtime keeps them. */
  readonly observe?: L7Observe;
  /** Active faults, for the L7 pods' Ingress and HTTPRoute faults. */
  readonly faults?: FaultHolder;
  /** The cluster DNS a process pod's resolver queries (the embedded runtime's kube-dns listener). */
  clusterDns?(): { readonly address: string; readonly port: number } | undefined;
}

/** Makes the runtime of a `container` pod on this node (src/runtime/container/container-host.ts). */
export interface ContainerPodFactory {
  createPod(pod: PodOfKind<'container'>, ctx: PodKindContext): PodRuntime;
}

export type PodOfKind<K extends PodKindName> = PodInfo & { readonly runtime: Extract<PodKind, { kind: K }> };

export interface PodKindDefinition<K extends PodKindName> {
  readonly name: K;
  /** Kinds that choose are asked in ascending order; the first claim wins. */
  readonly order: number;
  choose?(pod: DesiredPod, ctx: ChooseContext): Extract<PodKind, { kind: K }> | undefined;
  create(pod: PodOfKind<K>, ctx: PodKindContext): PodRuntime;
}

type AnyDefinition = { [K in PodKindName]: PodKindDefinition<K> }[PodKindName];

const definitions = new Map<PodKindName, AnyDefinition>();
let choosers: AnyDefinition[] = [];

export function registerPodKind<K extends PodKindName>(definition: PodKindDefinition<K>): void {
  if (definitions.has(definition.name)) throw new Error(`pod kind "${definition.name}" is registered twice`);
  const any = definition as unknown as AnyDefinition;
  definitions.set(definition.name, any);
  if (definition.choose) choosers = [...choosers, any].sort((a, b) => a.order - b.order);
}

const ECHO: PodKind = Object.freeze({ kind: 'echo' });

export function choosePodKind(pod: DesiredPod, ctx: ChooseContext): PodKind {
  for (const definition of choosers) {
    const chosen = definition.choose!(pod, ctx);
    if (chosen !== undefined) return chosen;
  }
  return ECHO;
}

export function createPodRuntime(pod: PodInfo, ctx: PodKindContext): PodRuntime {
  const definition = definitions.get(pod.runtime.kind);
  // A snapshot names only kinds this build registers; anything else is a bug, not bad input.
  if (definition === undefined) throw new Error(`pod ${pod.namespace}/${pod.name}: no pod kind "${pod.runtime.kind}" is registered`);
  return (definition.create as (pod: PodInfo, ctx: PodKindContext) => PodRuntime)(pod, ctx);
}

/** The registered kinds, for `get pods` and the docs. */
export function podKindNames(): PodKindName[] {
  return [...definitions.keys()];
}
