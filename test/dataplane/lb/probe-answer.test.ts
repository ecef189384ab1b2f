/**
 * LB probes answered in process (src/dataplane/lb/probe-answer.ts) against the same probes
 * on real sockets: every condition that can change a probe's outcome, each run both ways on
 * the same snapshot, faults and pods. The outcomes must be the same; the in-process run must
 * also have taken a socket exactly where the brief of probe-answer.ts says it must, so a
 * condition the in-process path ignored fails here either way.
 */
import { createServer, type Server, type Socket } from 'node:net';

import { describe, expect, it } from 'vitest';

import { compileNetworkPolicies } from '../../../src/cluster/netpol/table.js';
import type { Snapshot } from '../../../src/cluster/snapshot.js';
import type { LocalEndpoint, LocalEndpoints } from '../../../src/dataplane/index.js';
import { compileFaultTable, FaultState, type ActiveFault, type FaultHolder } from '../../../src/faults/compile.js';
import type { FaultSpec, FaultTarget } from '../../../src/faults/types.js';
import { load } from '../../manifests/helpers.js';
import { FakeClock } from '../fake-clock.js';
import { HEALTH_CHECK_NODE_PORT, NODE_PORT, nodeAddress, webCluster, type PodSpecInput, type WebInput } from '../factories.js';
import { useHarness } from '../harness.js';
import { waitFor } from '../net-helpers.js';

const BLOCK = 44;
const ROUNDS = 2;
const h = useHarness();

/** One pod per node, each an endpoint of default/web. */
const ONE_PER_NODE: readonly PodSpecInput[] = [
  { node: 0, port: 18080 },
  { node: 1, port: 18081 },
  { node: 2, port: 18082 },
];

const LOCAL_POLICY: Pick<WebInput, 'service' | 'probe'> = {
  service: { externalTrafficPolicy: 'Local', healthCheckNodePort: HEALTH_CHECK_NODE_PORT },
  probe: { protocol: 'Http', port: HEALTH_CHECK_NODE_PORT, requestPath: '/healthz' },
};

const DENY_ALL = [{ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny', namespace: 'default' }, spec: { podSelector: {} } }];

interface Condition {
  readonly name: string;
  readonly web: Omit<WebInput, 'block'>;
  readonly faults?: readonly { readonly spec: FaultSpec; readonly target: FaultTarget }[];
  /** Pods of the snapshot whose runtime is gone (crashed, not yet out of the endpoints): nothing takes their flows in process. */
  readonly gone?: readonly string[];
  readonly networkPolicy?: boolean;
  /** A node whose NodePort another socket of this host holds, so the data plane cannot bind it. */
  readonly taken?: number;
  /** Per node, what the last probe said. */
  readonly details: readonly string[];
  /** Attempts the in-process run answered without a socket and with one (2 rounds × 3 nodes, less the ones a node fault fails). */
  readonly answers: { readonly inProcess: number; readonly socket: number };
}

const node1 = (spec: FaultSpec): Condition['faults'] => [{ spec, target: { kind: 'node', namespace: '', name: 'node-1' } }];
const ok = 'TCP handshake completed';

const CONDITIONS: readonly Condition[] = [
  { name: 'every node up, an in-process pod on each', web: { pods: ONE_PER_NODE }, details: [ok, ok, ok], answers: { inProcess: 6, socket: 0 } },
  {
    name: 'node stopped',
    web: { pods: ONE_PER_NODE, running: [true, false, true] },
    details: [ok, 'ECONNREFUSED', ok],
    answers: { inProcess: 4, socket: 2 },
  },
  {
    name: 'fail-probes fault',
    web: { pods: ONE_PER_NODE },
    faults: node1({ type: 'fail-probes' }),
    details: [ok, 'fail-probes (f0)', ok],
    answers: { inProcess: 4, socket: 0 },
  },
  { name: 'drain fault', web: { pods: ONE_PER_NODE }, faults: node1({ type: 'drain' }), details: [ok, 'drain (f0)', ok], answers: { inProcess: 4, socket: 0 } },
  {
    name: 'partition fault',
    web: { pods: ONE_PER_NODE },
    faults: node1({ type: 'partition' }),
    details: [ok, 'timed out', ok],
    answers: { inProcess: 4, socket: 0 },
  },
  {
    name: 'slow node fault on the path',
    web: { pods: ONE_PER_NODE },
    faults: node1({ type: 'slow', delayMs: 50, jitterMs: 0 }),
    details: [ok, ok, ok],
    answers: { inProcess: 4, socket: 2 },
  },
  {
    name: 'one pod unready',
    web: { pods: [{ node: 0, port: 18080, ready: false }, ONE_PER_NODE[1]!, ONE_PER_NODE[2]!] },
    details: [ok, ok, ok],
    answers: { inProcess: 6, socket: 0 },
  },
  {
    name: 'every pod unready',
    web: { pods: ONE_PER_NODE.map((p) => ({ ...p, ready: false })) },
    details: ['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED'],
    answers: { inProcess: 0, socket: 6 },
  },
  { name: 'no endpoints', web: { pods: [] }, details: ['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED'], answers: { inProcess: 0, socket: 6 } },
  { name: 'pod crashed, still an endpoint', web: { pods: ONE_PER_NODE }, gone: ['web-1-0'], details: [ok, ok, ok], answers: { inProcess: 0, socket: 6 } },
  {
    name: 'pod hang fault',
    web: { pods: ONE_PER_NODE },
    faults: [{ spec: { type: 'hang' }, target: { kind: 'pod', namespace: 'default', name: 'web-2-0' } }],
    details: [ok, ok, ok],
    answers: { inProcess: 0, socket: 6 },
  },
  {
    name: 'Service port fault',
    web: { pods: ONE_PER_NODE },
    faults: [{ spec: { type: 'reset', fraction: 1 }, target: { kind: 'service', namespace: 'default', name: 'web' } }],
    details: [ok, ok, ok],
    answers: { inProcess: 0, socket: 6 },
  },
  {
    name: 'NodePort fault',
    web: { pods: ONE_PER_NODE },
    faults: [{ spec: { type: 'blackhole', fraction: 1 }, target: { kind: 'nodeport', namespace: 'default', name: 'web' } }],
    details: [ok, ok, ok],
    answers: { inProcess: 0, socket: 6 },
  },
  {
    // The NodePort's spec is in the tables but its bind failed: the kernel gives the probe to the other socket.
    name: 'NodePort held by another socket',
    web: { pods: ONE_PER_NODE },
    taken: 1,
    details: [ok, ok, ok],
    answers: { inProcess: 4, socket: 2 },
  },
  {
    // kube-proxy drops the flow on a node without a local endpoint, after the NodePort completed the handshake.
    name: 'externalTrafficPolicy Local, a TCP probe of the NodePort',
    web: { pods: [{ node: 0, port: 18080 }], service: { externalTrafficPolicy: 'Local', healthCheckNodePort: HEALTH_CHECK_NODE_PORT } },
    details: [ok, ok, ok],
    answers: { inProcess: 2, socket: 4 },
  },
  {
    // LB probes are exempt from NetworkPolicy on the socket path (UpstreamDial), and so in process.
    name: 'NetworkPolicy denying every source, the probe’s too',
    web: { pods: ONE_PER_NODE },
    networkPolicy: true,
    details: [ok, ok, ok],
    answers: { inProcess: 6, socket: 0 },
  },
  {
    name: 'externalTrafficPolicy Local: healthCheckNodePort with and without a local endpoint',
    web: { pods: [{ node: 0, port: 18080 }], ...LOCAL_POLICY },
    details: ['HTTP 200', 'HTTP 503', 'HTTP 503'],
    answers: { inProcess: 6, socket: 0 },
  },
  {
    name: 'externalTrafficPolicy Local: the local endpoint unready',
    web: {
      pods: [
        { node: 0, port: 18080 },
        { node: 1, port: 18081, ready: false },
        { node: 2, port: 18082 },
      ],
      ...LOCAL_POLICY,
    },
    details: ['HTTP 200', 'HTTP 503', 'HTTP 200'],
    answers: { inProcess: 6, socket: 0 },
  },
  {
    name: 'externalTrafficPolicy Local: node stopped',
    web: { pods: ONE_PER_NODE, running: [true, false, true], ...LOCAL_POLICY },
    details: ['HTTP 200', 'ECONNREFUSED', 'HTTP 200'],
    answers: { inProcess: 4, socket: 2 },
  },
];

/** In-process pods: they take a handed-over socket and say nothing, as the echo pod does. */
class QuietPods implements LocalEndpoints {
  private readonly sockets = new Set<Socket>();
  private readonly endpoint: LocalEndpoint = {
    acceptForwarded: (socket) => {
      this.sockets.add(socket);
      socket.on('error', () => {});
      socket.once('close', () => this.sockets.delete(socket));
    },
    quietOnProbe: true,
  };

  constructor(private readonly ips: ReadonlySet<string>) {}

  lookup(ip: string): LocalEndpoint | undefined {
    return this.ips.has(ip) ? this.endpoint : undefined;
  }

  close(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}

function snapshotOf(condition: Condition): Snapshot {
  const { snapshot } = webCluster({ block: BLOCK, ...condition.web });
  if (condition.networkPolicy !== true) return snapshot;
  const networkPolicy = compileNetworkPolicies({
    policies: load(DENY_ALL).manifests.networkPolicies!,
    namespaces: [],
    pods: snapshot.pods,
    nodes: snapshot.nodes,
  });
  return { ...snapshot, ...(networkPolicy === undefined ? {} : { networkPolicy }) };
}

async function probeWith(condition: Condition, probesInProcess: boolean) {
  const snapshot = snapshotOf(condition);
  const clock = new FakeClock();
  const faults: ActiveFault[] = (condition.faults ?? []).map((f, i) => ({ id: `f${i}`, ...f, startedAt: clock.now(), state: new FaultState() }));
  const holder: FaultHolder = { table: compileFaultTable(faults, snapshot) };
  const gone = new Set(condition.gone ?? []);
  const pods = new QuietPods(new Set(snapshot.pods.filter((p) => !gone.has(p.name)).map((p) => p.ip)));
  h.defer(() => pods.close());
  let other: Server | undefined;
  if (condition.taken !== undefined) {
    const server = (other = createServer((socket) => {
      socket.on('error', () => {});
      socket.destroy();
    }));
    await new Promise<void>((resolve) => server.listen({ host: nodeAddress(BLOCK, condition.taken!), port: NODE_PORT }, resolve));
    h.defer(() => void server.close());
  }
  const started = h.start(snapshot, { clock, faults: holder, localEndpoints: pods, probesInProcess });
  if (condition.taken !== undefined) await expect(started).rejects.toThrow(/cannot listen/);
  else await started;
  const plane = h.plane;
  for (let n = 1; n <= ROUNDS; n++) {
    clock.advance(5000);
    await waitFor(() => plane.probeStatus().every((s) => s.probes >= n), `probe round ${n} (${condition.name})`);
  }
  const status = plane.probeStatus().map((s) => ({ node: s.node, state: s.state, lastResult: s.lastResult, lastDetail: s.lastDetail, probes: s.probes }));
  const answers = plane.probeAnswers();
  await plane.stop();
  h.forget();
  if (other !== undefined) {
    await new Promise((resolve) => other.close(resolve));
  }
  pods.close();
  return { status, answers };
}

describe('LB probes answered in process', () => {
  it.each(CONDITIONS)('$name: the same outcome as on sockets, a socket only where it must', async (condition) => {
    const bySocket = await probeWith(condition, false);
    const inProcess = await probeWith(condition, true);
    expect(bySocket.status.map((s) => s.lastDetail)).toEqual(condition.details);
    expect(inProcess.status).toEqual(bySocket.status);
    expect(bySocket.answers.inProcess).toBe(0);
    expect(inProcess.answers).toEqual(condition.answers);
  });

  it('answers a probe a turn of the event loop later, as a loopback socket would, not within the timer that started it', async () => {
    const snapshot = snapshotOf(CONDITIONS[0]!);
    const clock = new FakeClock();
    const pods = new QuietPods(new Set(snapshot.pods.map((p) => p.ip)));
    h.defer(() => pods.close());
    const plane = await h.start(snapshot, { clock, localEndpoints: pods });
    clock.advance(5000);
    expect(plane.probeStatus().map((s) => [s.attempting, s.probes])).toEqual([
      [true, 0],
      [true, 0],
      [true, 0],
    ]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(plane.probeStatus().map((s) => [s.attempting, s.probes, s.lastDetail])).toEqual([
      [false, 1, ok],
      [false, 1, ok],
      [false, 1, ok],
    ]);
    expect(plane.probeAnswers()).toEqual({ inProcess: 3, socket: 0 });
  });
});
