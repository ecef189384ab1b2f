/**
 * How kube-proxy spread a Service's connections over its pods, from the data plane's
 * per-endpoint pick counters, with the pod names the snapshot gives the endpoint IPs.
 * Pure: the caller passes the snapshot and the counters.
 */
import type { Snapshot } from '../cluster/snapshot.js';

export interface EndpointDistribution {
  readonly service: string;
  /** Connections per pod (`ns/name`, or `ip:port` for an endpoint without a pod). */
  readonly counts: Readonly<Record<string, number>>;
  readonly total: number;
  /** Each pod's share of the total, 0..1. */
  readonly shares: Readonly<Record<string, number>>;
  /** True when every pod in `pods` (default: every ready endpoint now) got 1/n ± tolerance of the total. */
  evenWithin(tolerance: number, pods?: readonly string[]): boolean;
}

interface PickCounters {
  readonly service: string;
  readonly port: string;
  readonly endpointPicks: Readonly<Record<string, number>>;
}

export function endpointDistribution(
  snapshot: Snapshot,
  counters: readonly PickCounters[],
  serviceKey: string,
  port: string | number | undefined,
  since?: EndpointDistribution,
): EndpointDistribution {
  const service = snapshot.services.find((s) => `${s.namespace}/${s.name}` === serviceKey);
  const portName = port === undefined ? undefined : service?.ports.find((p) => p.name === port || p.port === port)?.name;
  const endpoints = snapshot.endpoints.find((e) => e.serviceKey === serviceKey)?.ports ?? [];
  const podOf = new Map<string, string>();
  const ready = new Set<string>();
  for (const p of endpoints) {
    if (portName !== undefined && p.name !== portName) continue;
    for (const e of p.endpoints) {
      const name = e.podName === undefined ? `${e.ip}:${e.port}` : `${e.podNamespace ?? ''}/${e.podName}`;
      podOf.set(`${e.ip}:${e.port}`, name);
      if (e.ready) ready.add(name);
    }
  }
  const counts: Record<string, number> = {};
  for (const c of counters) {
    if (c.service !== serviceKey || (portName !== undefined && c.port !== portName)) continue;
    for (const [endpoint, n] of Object.entries(c.endpointPicks)) {
      const name = podOf.get(endpoint) ?? endpoint;
      counts[name] = (counts[name] ?? 0) + n;
    }
  }
  if (since !== undefined) {
    for (const [name, n] of Object.entries(since.counts)) {
      if (counts[name] !== undefined) counts[name] -= n;
      if (counts[name] === 0) delete counts[name];
    }
  }
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const shares = Object.fromEntries(Object.entries(counts).map(([k, n]) => [k, total === 0 ? 0 : n / total]));
  return {
    service: serviceKey,
    counts,
    total,
    shares,
    evenWithin(tolerance, pods = [...ready]) {
      if (pods.length === 0 || total === 0) return false;
      const expected = 1 / pods.length;
      return pods.every((p) => Math.abs((shares[p] ?? 0) - expected) <= tolerance);
    },
  };
}
