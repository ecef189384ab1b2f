/**
 * How kube-proxy spread a Service port's connections over its endpoints (over every node),
 * and how the Azure LB spread a frontend's flows over the nodes: counts and shares a test
 * can assert on ("each of 3 pods got 1/3 ± 5 %"). Taken from the data plane's counters; a
 * `since` baseline turns totals into what happened in between.
 */
import type { DataPlaneStats } from '../dataplane/index.js';
import { AksEmuError } from '../errors/index.js';

export interface Share {
  readonly connections: number;
  /** connections / total (0 when there were none). */
  readonly share: number;
}

export interface Distribution {
  /** `namespace/name`. */
  readonly service: string;
  /** The Service port's name ('' for a single unnamed port). */
  readonly port: string;
  readonly total: number;
  /** Per pod name (endpoints without a pod under their `ip:port`). */
  readonly pods: Readonly<Record<string, Share>>;
  /** Per endpoint `ip:port`. */
  readonly endpoints: Readonly<Record<string, Share>>;
  /** Per node the LB sent the Service's flows to (LoadBalancer Services only). */
  readonly nodes: Readonly<Record<string, Share>>;
  /** The raw counts, for a later `since`. */
  readonly counts: {
    readonly endpoints: Readonly<Record<string, number>>;
    readonly pods: Readonly<Record<string, number>>;
    readonly nodes: Readonly<Record<string, number>>;
  };
}

function shares(counts: Readonly<Record<string, number>>): Record<string, Share> {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return Object.fromEntries(Object.entries(counts).map(([k, n]) => [k, { connections: n, share: total === 0 ? 0 : n / total }]));
}

function minus(now: Record<string, number>, before: Readonly<Record<string, number>> | undefined): Record<string, number> {
  if (before === undefined) return now;
  return Object.fromEntries(Object.entries(now).map(([k, n]) => [k, n - (before[k] ?? 0)]));
}

function add(map: Record<string, number>, key: string, n: number): void {
  map[key] = (map[key] ?? 0) + n;
}

export function distributionOf(stats: DataPlaneStats, service: string, port: string | undefined, since?: Distribution): Distribution {
  const ports = [...new Set(stats.endpoints.filter((e) => e.service === service).map((e) => e.port))];
  if (ports.length === 0) throw new AksEmuError('AKS_EMU_NOT_FOUND', `distribution: no endpoints of Service "${service}" have been programmed`);
  if (port === undefined && ports.length > 1) {
    throw new AksEmuError('AKS_EMU_USAGE', `distribution: Service "${service}" has ports ${ports.map((p) => `"${p}"`).join(', ')}: name one`);
  }
  const name = port ?? ports[0]!;
  if (!ports.includes(name))
    throw new AksEmuError('AKS_EMU_NOT_FOUND', `distribution: Service "${service}" has no port "${name}" (ports: ${ports.join(', ')})`);
  if (since !== undefined && (since.service !== service || since.port !== name)) {
    throw new AksEmuError('AKS_EMU_USAGE', `distribution: since is of ${since.service}:${since.port}, not ${service}:${name}`);
  }
  const endpoints: Record<string, number> = {};
  const pods: Record<string, number> = {};
  for (const e of stats.endpoints) {
    if (e.service !== service || e.port !== name) continue;
    add(endpoints, e.endpoint, e.connections);
    add(pods, e.pod === undefined ? e.endpoint : e.pod.slice(e.pod.indexOf('/') + 1), e.connections);
  }
  const nodes: Record<string, number> = {};
  const rulePort = `${service}:${name}`;
  for (const r of stats.rules) {
    if (r.servicePort !== rulePort) continue;
    for (const [node, n] of Object.entries(r.nodePicks)) add(nodes, node, n);
  }
  const counts = { endpoints: minus(endpoints, since?.counts.endpoints), pods: minus(pods, since?.counts.pods), nodes: minus(nodes, since?.counts.nodes) };
  return {
    service,
    port: name,
    total: Object.values(counts.endpoints).reduce((a, b) => a + b, 0),
    pods: shares(counts.pods),
    endpoints: shares(counts.endpoints),
    nodes: shares(counts.nodes),
    counts: since === undefined ? counts : { endpoints, pods, nodes },
  };
}
