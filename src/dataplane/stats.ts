/**
 * Counters of the forwarding core. The hot path increments fields of objects created at
 * compile time (kept across snapshot swaps by key); `stats()` copies them out.
 */
import { listenerGuard, type ListenerErrorCount } from './l4/listener-guard.js';
import { Histogram } from './observe/histogram.js';
import { Retained } from './retained.js';

/**
 * What every hop a connection crossed learns when it closes (observe/flow.ts): flows open
 * now, bytes from and to the client, and how long the connection lived.
 */
export interface FlowTotals {
  active: number;
  /** Bytes read from the client. */
  receivedBytes: number;
  /** Bytes written to the client. */
  sentBytes: number;
  readonly duration: Histogram;
}

function flowTotals(): FlowTotals {
  return { active: 0, receivedBytes: 0, sentBytes: 0, duration: new Histogram() };
}

export interface RuleCounters extends FlowTotals {
  readonly loadBalancer: string;
  readonly rule: string;
  /** `namespace/name:portName` of the Service port behind the rule. */
  servicePort: string;
  /** Every connection the frontend accepted, whatever happened to it next. */
  connections: number;
  readonly nodePicks: Map<string, number>;
  rejectedBySourceRange: number;
  noHealthyBackend: number;
  /** The picked node was not running: the client was reset as a dead VM would. */
  backendUnreachable: number;
  /** Pod or node clients: kube-proxy on their node took the flow, the Azure LB never saw it. */
  inCluster: number;
  idleTimeouts: number;
}

export interface ServicePortCounters extends FlowTotals {
  readonly node: string;
  readonly service: string;
  readonly port: string;
  connections: number;
  /**
   * Connections per endpoint key; made on the first pick (countEndpointPick): of the
   * 13,000 counters of 1,000 Service ports on 13 nodes most never pick an endpoint.
   */
  endpointPicks: Map<string, number> | undefined;
  /** Held silent: Local traffic policy and no local endpoint, or a NetworkPolicy (counted in policyDrops too). */
  dropped: number;
  /** Of `dropped`: a NetworkPolicy dropped the flow at the endpoint. */
  policyDrops: number;
  /** No usable endpoint at all: reset. */
  refused: number;
  /** A dial to an endpoint failed and another one was tried. */
  retries: number;
  /** Every dial attempt failed: the client was reset. */
  connectFailures: number;
  /** From kube-proxy's decision to a connected endpoint (0 for a hand-over). */
  readonly connectDuration: Histogram;
}

/** One endpoint (pod IP:port) of one Service port, over every node that sends to it. */
export interface EndpointCounters extends FlowTotals {
  /** `namespace/name`. */
  readonly service: string;
  readonly port: string;
  /** `ip:port`. */
  readonly endpoint: string;
  /** `namespace/name` of the pod behind it, when the EndpointSlice names one. */
  readonly pod: string | undefined;
  readonly node: string | undefined;
  /** Flows kube-proxy sent here (every dial attempt counts). */
  connections: number;
  /** Dial attempts to this endpoint that failed. */
  connectFailures: number;
}

/** One bound address:port (an LB frontend, a NodePort on one node, a ClusterIP port). */
export interface ListenerCounters extends FlowTotals {
  readonly role: string;
  readonly address: string;
  readonly port: number;
  connections: number;
}

export interface GlobalCounters {
  /** ClusterIP connections from outside the cluster (neither a pod nor a node address). */
  rejectedOutsideCluster: number;
  /** Bytes read and thrown away by flows the LB silently dropped at idle timeout. */
  discardedBytes: number;
}

export interface LoadBalancingRuleStats extends Omit<RuleCounters, 'nodePicks' | 'duration'> {
  readonly nodePicks: Readonly<Record<string, number>>;
}

export interface ServicePortStats extends Omit<ServicePortCounters, 'endpointPicks' | 'duration' | 'connectDuration'> {
  readonly endpointPicks: Readonly<Record<string, number>>;
}

export type EndpointStats = Omit<EndpointCounters, 'duration'>;

export interface DataPlaneStats extends Readonly<GlobalCounters> {
  readonly rules: readonly LoadBalancingRuleStats[];
  readonly servicePorts: readonly ServicePortStats[];
  /** Per endpoint of each Service port, over all nodes: the distribution kube-proxy made. */
  readonly endpoints: readonly EndpointStats[];
  /** Client connections currently open (forwarded, dialing or held). */
  readonly activeConnections: number;
  /** Unexpected errors the listener guard caught, per listener, process-wide (listener-guard.ts). */
  readonly listenerErrors: readonly ListenerErrorCount[];
}

export class Counters {
  readonly global: GlobalCounters = { rejectedOutsideCluster: 0, discardedBytes: 0 };
  private readonly rules = new Retained<RuleCounters>();
  private readonly servicePorts = new Retained<ServicePortCounters>();
  private readonly endpointCounters = new Retained<EndpointCounters>();
  private readonly listenerCounters = new Retained<ListenerCounters>();

  rule(loadBalancer: string, rule: string, servicePort = ''): RuleCounters {
    const counters = this.rules.get(`${loadBalancer}/${rule}`, () => ({
      loadBalancer,
      rule,
      servicePort,
      connections: 0,
      nodePicks: new Map(),
      rejectedBySourceRange: 0,
      noHealthyBackend: 0,
      backendUnreachable: 0,
      inCluster: 0,
      idleTimeouts: 0,
      ...flowTotals(),
    }));
    counters.servicePort = servicePort;
    return counters;
  }

  endpoint(service: string, port: string, endpoint: string, pod: string | undefined, node: string | undefined): EndpointCounters {
    return this.endpointCounters.get(`${service}:${port}|${endpoint}|${pod ?? ''}`, () => ({
      service,
      port,
      endpoint,
      pod,
      node,
      connections: 0,
      connectFailures: 0,
      ...flowTotals(),
    }));
  }

  /** Kept while the listener is in the snapshot (its key: address:port:role). */
  listener(key: string, role: string, address: string, port: number): ListenerCounters {
    return this.listenerCounters.get(key, () => ({ role, address, port, connections: 0, ...flowTotals() }));
  }

  /** The counters behind /metrics (observe/metrics.ts), live: read them, do not change them. */
  live(): {
    readonly rules: Iterable<RuleCounters>;
    readonly servicePorts: Iterable<ServicePortCounters>;
    readonly endpoints: Iterable<EndpointCounters>;
    readonly listeners: Iterable<ListenerCounters>;
  } {
    return {
      rules: this.rules.values(),
      servicePorts: this.servicePorts.values(),
      endpoints: this.endpointCounters.values(),
      listeners: this.listenerCounters.values(),
    };
  }

  servicePort(node: string, service: string, port: string): ServicePortCounters {
    return this.servicePorts.get(`${node}|${service}:${port}`, () => newServicePortCounters(node, service, port));
  }

  prune(): void {
    this.rules.prune();
    this.servicePorts.prune();
    this.endpointCounters.prune();
    this.listenerCounters.prune();
  }

  toStats(activeConnections: number): DataPlaneStats {
    return {
      ...this.global,
      rules: [...this.rules.values()].map(({ duration: _, ...c }) => ({ ...c, nodePicks: Object.fromEntries(c.nodePicks) })),
      servicePorts: [...this.servicePorts.values()].map(({ duration: _, connectDuration: __, ...c }) => ({
        ...c,
        endpointPicks: c.endpointPicks === undefined ? {} : Object.fromEntries(c.endpointPicks),
      })),
      endpoints: [...this.endpointCounters.values()].map(({ duration: _, ...c }) => ({ ...c })),
      activeConnections,
      listenerErrors: listenerGuard.counts(),
    };
  }
}

export function newServicePortCounters(node: string, service: string, port: string): ServicePortCounters {
  return {
    node,
    service,
    port,
    connections: 0,
    endpointPicks: undefined,
    dropped: 0,
    policyDrops: 0,
    refused: 0,
    retries: 0,
    connectFailures: 0,
    connectDuration: new Histogram(),
    ...flowTotals(),
  };
}

export function increment(map: Map<string, number>, key: string, n = 1): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

/** Counts `n` connections to `endpoint` (its key) on a Service port of a node. */
export function countEndpointPick(counters: ServicePortCounters, endpoint: string, n = 1): void {
  increment((counters.endpointPicks ??= new Map()), endpoint, n);
}
