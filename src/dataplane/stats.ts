/**
 * Counters of the forwarding core. The hot path increments fields of objects created at
 * compile time (kept across snapshot swaps by key); `stats()` copies them out.
 */
import { listenerGuard, type ListenerErrorCount } from './l4/listener-guard.js';
import { Retained } from './retained.js';

export interface RuleCounters {
  readonly loadBalancer: string;
  readonly rule: string;
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

export interface ServicePortCounters {
  readonly node: string;
  readonly service: string;
  readonly port: string;
  connections: number;
  readonly endpointPicks: Map<string, number>;
  /** Local traffic policy and no local endpoint: held silent. */
  dropped: number;
  /** No usable endpoint at all: reset. */
  refused: number;
  /** A dial to an endpoint failed and another one was tried. */
  retries: number;
  /** Every dial attempt failed: the client was reset. */
  connectFailures: number;
}

export interface GlobalCounters {
  /** ClusterIP connections from outside the cluster (neither a pod nor a node address). */
  rejectedOutsideCluster: number;
  /** Bytes read and thrown away by flows the LB silently dropped at idle timeout. */
  discardedBytes: number;
}

export interface LoadBalancingRuleStats extends Omit<RuleCounters, 'nodePicks'> {
  readonly nodePicks: Readonly<Record<string, number>>;
}

export interface ServicePortStats extends Omit<ServicePortCounters, 'endpointPicks'> {
  readonly endpointPicks: Readonly<Record<string, number>>;
}

export interface DataPlaneStats extends Readonly<GlobalCounters> {
  readonly rules: readonly LoadBalancingRuleStats[];
  readonly servicePorts: readonly ServicePortStats[];
  /** Client connections currently open (forwarded, dialing or held). */
  readonly activeConnections: number;
  /** Unexpected errors the listener guard caught, per listener, process-wide (listener-guard.ts). */
  readonly listenerErrors: readonly ListenerErrorCount[];
}

export class Counters {
  readonly global: GlobalCounters = { rejectedOutsideCluster: 0, discardedBytes: 0 };
  private readonly rules = new Retained<RuleCounters>();
  private readonly servicePorts = new Retained<ServicePortCounters>();

  rule(loadBalancer: string, rule: string): RuleCounters {
    return this.rules.get(`${loadBalancer}/${rule}`, () => ({
      loadBalancer,
      rule,
      connections: 0,
      nodePicks: new Map(),
      rejectedBySourceRange: 0,
      noHealthyBackend: 0,
      backendUnreachable: 0,
      inCluster: 0,
      idleTimeouts: 0,
    }));
  }

  servicePort(node: string, service: string, port: string): ServicePortCounters {
    return this.servicePorts.get(`${node}|${service}:${port}`, () => newServicePortCounters(node, service, port));
  }

  prune(): void {
    this.rules.prune();
    this.servicePorts.prune();
  }

  toStats(activeConnections: number): DataPlaneStats {
    return {
      ...this.global,
      rules: [...this.rules.values()].map((c) => ({ ...c, nodePicks: Object.fromEntries(c.nodePicks) })),
      servicePorts: [...this.servicePorts.values()].map((c) => ({
        ...c,
        endpointPicks: Object.fromEntries(c.endpointPicks),
      })),
      activeConnections,
      listenerErrors: listenerGuard.counts(),
    };
  }
}

export function newServicePortCounters(node: string, service: string, port: string): ServicePortCounters {
  return { node, service, port, connections: 0, endpointPicks: new Map(), dropped: 0, refused: 0, retries: 0, connectFailures: 0 };
}

export function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
