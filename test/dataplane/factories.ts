/**
 * Snapshots built by hand for data-plane tests: one Service `default/web` of type
 * LoadBalancer on a few nodes, all on 127.B.x.y where B is the test file's own block:
 * nodes 127.B.0.(i+1), pods 127.B.(node+1).(10+k), ClusterIP 127.B.100.1, LB frontend
 * 127.B.200.1, clients from outside 127.B.250.x.
 */
import type {
  Endpoint,
  LoadBalancerInfo,
  LoadBalancerProbe,
  LoadBalancingRule,
  NodeInfo,
  PodInfo,
  ServiceInfo,
  Snapshot,
  SnapshotSettings,
} from '../../src/cluster/snapshot.js';
import { SERVICE_SPEC_DEFAULTS } from '../../src/model/defaults.js';

export const SERVICE_PORT = 8080;
export const NODE_PORT = 31080;
export const HEALTH_CHECK_NODE_PORT = 31090;
export const FRONTEND_PORT = 8080;
export const RULE = 'a1b2c3-TCP-8080';
export const PROBE = 'a1b2c3-TCP-8080';
export const LB = 'kubernetes';

export interface PodSpecInput {
  readonly node: number;
  /** Port the pod listens on (each pod of a test needs its own ip:port). */
  readonly port: number;
  readonly ready?: boolean;
  /** false: a client pod that no Service selects. */
  readonly endpoint?: boolean;
}

export interface WebInput {
  readonly block: number;
  readonly nodes?: number;
  /** Per node; missing entries run. */
  readonly running?: readonly boolean[];
  readonly pods: readonly PodSpecInput[];
  readonly service?: Partial<ServiceInfo>;
  readonly rule?: Partial<LoadBalancingRule>;
  /** null: the rule has no probe. */
  readonly probe?: Partial<LoadBalancerProbe> | null;
  readonly settings?: Partial<SnapshotSettings>;
  readonly version?: number;
}

export function nodeAddress(block: number, index: number): string {
  return `127.${block}.0.${index + 1}`;
}

export function nodeName(index: number): string {
  return `node-${index}`;
}

export function podIP(block: number, node: number, k: number): string {
  return `127.${block}.${node + 1}.${10 + k}`;
}

export function clusterIP(block: number): string {
  return `127.${block}.100.1`;
}

export function frontendIP(block: number): string {
  return `127.${block}.200.1`;
}

export function outsideClient(block: number, k = 1): string {
  return `127.${block}.250.${k}`;
}

export interface WebCluster {
  readonly snapshot: Snapshot;
  /** Pod name → its address, for the pods that are endpoints. */
  readonly endpointPods: readonly { name: string; ip: string; port: number; node: string }[];
  readonly clientPods: readonly { name: string; ip: string; node: string }[];
}

export function webCluster(input: WebInput): WebCluster {
  const { block } = input;
  const nodeCount = input.nodes ?? 3;
  const nodes: NodeInfo[] = Array.from({ length: nodeCount }, (_, i) => ({
    name: nodeName(i),
    index: i,
    address: nodeAddress(block, i),
    podCIDR: `127.${block}.${i + 1}.0/24`,
    labels: {},
    annotations: {},
    unschedulable: false,
    running: input.running?.[i] ?? true,
    ready: input.running?.[i] ?? true,
  }));
  const perNode = new Map<number, number>();
  const pods: PodInfo[] = [];
  const endpointPods: { name: string; ip: string; port: number; node: string }[] = [];
  const clientPods: { name: string; ip: string; node: string }[] = [];
  const endpoints: Endpoint[] = [];
  for (const p of input.pods) {
    const k = perNode.get(p.node) ?? 0;
    perNode.set(p.node, k + 1);
    const ip = podIP(block, p.node, k);
    const isEndpoint = p.endpoint ?? true;
    const name = isEndpoint ? `web-${p.node}-${k}` : `client-${p.node}-${k}`;
    const ready = p.ready ?? true;
    pods.push({
      namespace: 'default',
      name,
      uid: `uid-${name}`,
      nodeName: nodeName(p.node),
      ip,
      labels: isEndpoint ? { app: 'web' } : { app: 'client' },
      annotations: {},
      ownerKind: 'Pod',
      ownerName: name,
      containers: [],
      phase: 'Running',
      ready,
      runtime: { kind: 'echo' },
      source: { file: 'test.yaml', doc: 1 },
    });
    if (isEndpoint) {
      endpointPods.push({ name, ip, port: p.port, node: nodeName(p.node) });
      endpoints.push({ ip, port: p.port, nodeName: nodeName(p.node), podNamespace: 'default', podName: name, ready, serving: ready, terminating: false });
    } else {
      clientPods.push({ name, ip, node: nodeName(p.node) });
    }
  }
  const service: ServiceInfo = {
    namespace: 'default',
    name: 'web',
    uid: 'uid-web',
    type: 'LoadBalancer',
    clusterIP: clusterIP(block),
    ports: [{ name: 'http', protocol: 'TCP', port: SERVICE_PORT, targetPort: 'http', nodePort: NODE_PORT }],
    selector: { app: 'web' },
    ...SERVICE_SPEC_DEFAULTS,
    loadBalancer: { internal: false, loadBalancerName: LB, frontendName: 'a1b2c3', ip: frontendIP(block) },
    labels: {},
    annotations: {},
    source: { file: 'test.yaml', doc: 2 },
    ...input.service,
  };
  const probe: LoadBalancerProbe | undefined =
    input.probe === null ? undefined : { name: PROBE, protocol: 'Tcp', port: NODE_PORT, intervalInSeconds: 5, numberOfProbes: 2, ...input.probe };
  const rule: LoadBalancingRule = {
    name: RULE,
    frontendName: 'a1b2c3',
    frontendIP: frontendIP(block),
    frontendPort: FRONTEND_PORT,
    protocol: 'TCP',
    backendPort: NODE_PORT,
    serviceKey: 'default/web',
    servicePortName: 'http',
    probeName: probe?.name,
    distribution: 'round-robin',
    idleTimeoutMinutes: 4,
    enableTcpReset: true,
    enableFloatingIP: false,
    sourceRanges: [],
    ...input.rule,
  };
  const loadBalancer: LoadBalancerInfo = {
    name: LB,
    internal: false,
    frontends: [{ name: 'a1b2c3', ip: frontendIP(block), serviceKey: 'default/web' }],
    rules: [rule],
    probes: probe === undefined ? [] : [probe],
    backendPool: nodes.map((n) => n.name),
  };
  const usable = endpoints.filter((e) => e.ready || service.publishNotReadyAddresses);
  const snapshot: Snapshot = {
    version: input.version ?? 1,
    generatedAt: new Date(0).toISOString(),
    settings: {
      timeScale: 1,
      endpointSelection: 'round-robin',
      nodeMonitorGracePeriodSeconds: 40,
      addresses: {
        nodeSubnet: `127.${block}.0.0/24`,
        podCIDR: `127.${block}.0.0/16`,
        serviceCIDR: `127.${block}.100.0/24`,
        publicFrontends: `127.${block}.200.0/24`,
      },
      ...input.settings,
    },
    nodes,
    pods,
    services: [service],
    endpoints: [{ serviceKey: 'default/web', ports: [{ name: 'http', protocol: 'TCP', endpoints, usable }] }],
    loadBalancers: [loadBalancer],
  };
  return { snapshot, endpointPods, clientPods };
}
