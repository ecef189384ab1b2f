import type { Snapshot } from '../cluster/snapshot.js';

/** The data plane's view of one probe against one backend node. */
export interface ProbeStatusLike {
  readonly loadBalancer: string;
  readonly probe: string;
  readonly node: string;
  readonly state: 'up' | 'down';
  readonly consecutiveSuccesses: number;
  readonly consecutiveFailures: number;
  readonly lastResult?: string;
  readonly lastChange?: string | number;
  /** False while the node's state is unknown (the probes have not answered numberOfProbes times alike). */
  readonly settled?: boolean;
}

/** Azure-shaped load balancers (frontends, rules, probes) with each probe's state per node. */
export function loadBalancerView(snapshot: Snapshot, status: readonly ProbeStatusLike[]) {
  return {
    kind: 'LoadBalancerList',
    apiVersion: 'aks-emu/v1',
    items: snapshot.loadBalancers.map((lb) => ({
      name: lb.name,
      type: lb.internal ? 'internal' : 'public',
      sku: 'Standard',
      frontendIPConfigurations: lb.frontends.map((f) => ({
        name: f.name,
        privateIPAddress: lb.internal ? f.ip : undefined,
        publicIPAddress: lb.internal ? undefined : f.ip,
        service: f.serviceKey,
      })),
      backendAddressPools: [{ name: 'kubernetes', nodes: lb.backendPool }],
      loadBalancingRules: lb.rules.map((r) => ({
        name: r.name,
        frontend: `${r.frontendIP}:${r.frontendPort}`,
        protocol: r.protocol,
        backendPort: r.backendPort,
        probe: r.probeName ?? null,
        loadDistribution: r.distribution,
        idleTimeoutInMinutes: r.idleTimeoutMinutes,
        enableTcpReset: r.enableTcpReset,
        enableFloatingIP: r.enableFloatingIP,
        sourceRanges: r.sourceRanges,
        service: r.serviceKey,
      })),
      probes: lb.probes.map((p) => ({
        name: p.name,
        protocol: p.protocol,
        port: p.port,
        requestPath: p.requestPath,
        intervalInSeconds: p.intervalInSeconds,
        numberOfProbes: p.numberOfProbes,
        backends: status
          .filter((s) => s.loadBalancer === lb.name && s.probe === p.name)
          .map((s) => ({
            node: s.node,
            state: s.state,
            ...(s.settled === false ? { settled: false } : {}),
            consecutiveSuccesses: s.consecutiveSuccesses,
            consecutiveFailures: s.consecutiveFailures,
            lastResult: s.lastResult,
          })),
      })),
    })),
  };
}
