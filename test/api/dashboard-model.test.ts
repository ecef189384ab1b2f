import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { allocate, buildSnapshot, type RuntimeFacts } from '../../src/cluster/index.js';
import { dashboardState, type DashboardInput, type DashboardStats, type FaultView } from '../../src/api/dashboard/model.js';
import { dataPlaneStats, handleDashboardRoute } from '../../src/api/dashboard/routes.js';
import { parseTarget } from '../../src/api/http/guard.js';
import { SseStream } from '../helpers/sse.js';
import type { ProbeStatusLike } from '../../src/api/load-balancer-view.js';
import type { Snapshot } from '../../src/cluster/snapshot.js';
import { config, container, deployment, loadBalancer, manifests, seeded, service } from '../cluster/factories.js';
import type { RouteRequests } from '../../src/api/dashboard/model.js';
import { buildConfig } from '../../src/config/load.js';
import { parseManifests } from '../../src/manifests/index.js';
import { ClusterState } from '../../src/runtime/cluster-state.js';
import { DASHBOARD_MANIFESTS } from '../helpers/dashboard-manifests.js';

const NO_FACTS: RuntimeFacts = { stoppedNodes: [], notReadyNodes: [], podReadiness: {} };

function snapshotOf(facts: RuntimeFacts = NO_FACTS): Snapshot {
  const m = manifests({
    services: [loadBalancer('web', { ports: [{ name: 'http', port: 80, targetPort: 8080 }] }), service('api', { ports: [{ port: 8080 }] })],
    workloads: [
      deployment('web', { replicas: 3, containers: [container('app', [{ containerPort: 8080 }])] }),
      deployment('api', { replicas: 1, containers: [container('app', [{ containerPort: 8080 }])] }),
    ],
  });
  const cfg = config();
  const { allocation, errors } = allocate(m, cfg, seeded(4));
  expect(errors).toEqual([]);
  return buildSnapshot({ manifests: m, config: cfg, allocation, facts, version: 3, now: new Date('2025-01-02T03:04:05.000Z') });
}

function probesUp(snapshot: Snapshot, down: readonly string[] = [], unsettled: readonly string[] = []): ProbeStatusLike[] {
  return snapshot.loadBalancers.flatMap((lb) =>
    lb.probes.flatMap((p) =>
      lb.backendPool.map((node) => ({
        loadBalancer: lb.name,
        probe: p.name,
        node,
        state: down.includes(node) ? ('down' as const) : ('up' as const),
        consecutiveSuccesses: 1,
        consecutiveFailures: 0,
        settled: !unsettled.includes(node),
      })),
    ),
  );
}

interface Traffic {
  /** Connections through the web rule, per node. */
  readonly picks: Readonly<Record<string, number>>;
  readonly ruleErrors?: number;
  /** Connections each web endpoint (ip:port) got, on node-0's kube-proxy. */
  readonly endpoints?: Readonly<Record<string, number>>;
  readonly refused?: number;
  /** Failed dials per web endpoint (ip:port). */
  readonly failures?: Readonly<Record<string, number>>;
}

function stats(snapshot: Snapshot, t: Traffic): Required<DashboardStats> {
  const lb = snapshot.loadBalancers[0]!;
  const rule = lb.rules[0]!;
  const picks = Object.values(t.picks).reduce((a, b) => a + b, 0);
  const rules: Required<DashboardStats>['rules'] = [
    {
      loadBalancer: lb.name,
      rule: rule.name,
      connections: picks + (t.ruleErrors ?? 0),
      nodePicks: t.picks,
      rejectedBySourceRange: 0,
      noHealthyBackend: t.ruleErrors ?? 0,
      backendUnreachable: 0,
    },
  ];
  const endpoints = t.endpoints ?? {};
  const servicePorts: Required<DashboardStats>['servicePorts'] = [
    {
      node: 'node-0',
      service: 'default/web',
      port: 'http',
      connections: Object.values(endpoints).reduce((a, b) => a + b, 0) + (t.refused ?? 0),
      endpointPicks: endpoints,
      dropped: 0,
      refused: t.refused ?? 0,
      connectFailures: 0,
    },
  ];
  const failures = Object.entries(t.failures ?? {}).map(([endpoint, connectFailures]) => ({ service: 'default/web', endpoint, connectFailures }));
  return { rules, servicePorts, endpoints: failures, activeConnections: 2 };
}

function input(snapshot: Snapshot, over: Partial<DashboardInput> = {}): DashboardInput {
  return {
    snapshot,
    probes: probesUp(snapshot),
    stats: stats(snapshot, { picks: {} }),
    faults: [],
    faultTypes: { node: ['stop'] },
    now: 10_000,
    ...over,
  };
}

const edge = (state: ReturnType<typeof dashboardState>['state'], from: string, to: string) => {
  const e = state.edges.find((x) => x.from === from && x.to === to);
  if (!e) throw new Error(`no edge ${from} → ${to} in ${state.edges.map((x) => x.id).join(', ')}`);
  return e;
};

describe('the dashboard graph', () => {
  it('draws the LB path frontend → rule → every pool node → the Service → its pods, and leaves idle ClusterIP Services unlinked from nodes', () => {
    const snapshot = snapshotOf();
    const { state } = dashboardState(input(snapshot), undefined);
    const lb = snapshot.loadBalancers[0]!;
    const frontend = `frontend:${lb.name}/${lb.frontends[0]!.name}`;
    const rule = `rule:${lb.name}/${lb.rules[0]!.name}`;
    expect(state.nodes.filter((n) => n.kind === 'frontend').map((n) => [n.label, n.faultTarget])).toEqual([[lb.frontends[0]!.ip, 'frontend/default/web']]);
    expect(edge(state, frontend, rule).status).toBe('ok');
    for (const node of ['node-0', 'node-1', 'node-2']) {
      expect(edge(state, rule, `node:${node}`).status).toBe('ok');
      expect(edge(state, `node:${node}`, 'service:default/web').status).toBe('ok');
    }
    const webPods = snapshot.pods.filter((p) => p.labels.app === 'web').map((p) => `pod:default/${p.name}`);
    expect(webPods).toHaveLength(3);
    expect(
      state.edges
        .filter((e) => e.from === 'service:default/web')
        .map((e) => e.to)
        .sort(),
    ).toEqual([...webPods].sort());
    expect(state.edges.some((e) => e.to === 'service:default/api' && e.from.startsWith('node:'))).toBe(false);
    expect(state.edges.filter((e) => e.from === 'service:default/api')).toHaveLength(1);
    expect(state.nodes.map((n) => n.kind)).toEqual(expect.arrayContaining(['frontend', 'rule', 'node', 'service', 'pod']));
  });

  it('turns counter differences between two samples into per-edge rates, and never a negative rate when a counter restarts', () => {
    const snapshot = snapshotOf();
    const lb = snapshot.loadBalancers[0]!;
    const rule = `rule:${lb.name}/${lb.rules[0]!.name}`;
    const web = snapshot.pods.find((p) => p.labels.app === 'web')!;
    const ep = `${web.ip}:8080`;
    const first = dashboardState(input(snapshot, { stats: stats(snapshot, { picks: { 'node-0': 10, 'node-1': 10 }, endpoints: { [ep]: 4 } }) }), undefined);
    expect(edge(first.state, rule, 'node:node-0').rate).toBe(0);
    expect(edge(first.state, rule, 'node:node-0').total).toBe(10);
    const second = dashboardState(
      input(snapshot, { now: 12_000, stats: stats(snapshot, { picks: { 'node-0': 30, 'node-1': 10, 'node-2': 4 }, endpoints: { [ep]: 10 } }) }),
      first.sample,
    );
    expect(second.state.intervalMs).toBe(2000);
    expect(edge(second.state, rule, 'node:node-0').rate).toBe(10);
    expect(edge(second.state, rule, 'node:node-1').rate).toBe(0);
    expect(edge(second.state, rule, 'node:node-2').rate).toBe(2);
    expect(edge(second.state, 'service:default/web', `pod:default/${web.name}`).rate).toBe(3);
    expect(edge(second.state, 'node:node-0', 'service:default/web').rate).toBe(3);
    const restarted = dashboardState(input(snapshot, { now: 13_000, stats: stats(snapshot, { picks: { 'node-0': 1 } }) }), second.sample);
    expect(edge(restarted.state, rule, 'node:node-0').rate).toBe(0);
  });

  it('marks failed connections since the last sample as errors on the edge that counted them', () => {
    const snapshot = snapshotOf();
    const lb = snapshot.loadBalancers[0]!;
    const frontend = `frontend:${lb.name}/${lb.frontends[0]!.name}`;
    const rule = `rule:${lb.name}/${lb.rules[0]!.name}`;
    const first = dashboardState(input(snapshot, { stats: stats(snapshot, { picks: {} }) }), undefined);
    const second = dashboardState(input(snapshot, { now: 11_000, stats: stats(snapshot, { picks: {}, ruleErrors: 5, refused: 2 }) }), first.sample);
    expect(edge(second.state, frontend, rule)).toMatchObject({ status: 'error', errors: 5, errorRate: 5 });
    expect(edge(second.state, 'node:node-0', 'service:default/web')).toMatchObject({ status: 'error', errors: 2, errorRate: 2 });
    const third = dashboardState(input(snapshot, { now: 12_000, stats: stats(snapshot, { picks: {}, ruleErrors: 5, refused: 2 }) }), second.sample);
    expect(edge(third.state, frontend, rule).status).toBe('ok');
  });

  it('colours a Service → pod edge whose dials failed since the last sample', () => {
    const snapshot = snapshotOf();
    const [a, b] = snapshot.pods.filter((p) => p.labels.app === 'web');
    const first = dashboardState(input(snapshot, { stats: stats(snapshot, { picks: {}, failures: { [`${a!.ip}:8080`]: 1 } }) }), undefined);
    const second = dashboardState(input(snapshot, { now: 11_000, stats: stats(snapshot, { picks: {}, failures: { [`${a!.ip}:8080`]: 4 } }) }), first.sample);
    expect(edge(second.state, 'service:default/web', `pod:default/${a!.name}`)).toMatchObject({ status: 'error', errors: 4, errorRate: 3 });
    expect(edge(second.state, 'service:default/web', `pod:default/${b!.name}`)).toMatchObject({ status: 'ok', errors: 0, errorRate: 0 });
  });

  it('shows a stopped node and its pods down, and a node whose probe fails as a down rule edge', () => {
    const snapshot = snapshotOf({ ...NO_FACTS, stoppedNodes: ['node-1'], notReadyNodes: ['node-1'] });
    const lb = snapshot.loadBalancers[0]!;
    const rule = `rule:${lb.name}/${lb.rules[0]!.name}`;
    const { state } = dashboardState(input(snapshot, { probes: probesUp(snapshot, ['node-1', 'node-2']) }), undefined);
    expect(state.nodes.find((n) => n.id === 'node:node-1')!.status).toBe('down');
    expect(edge(state, rule, 'node:node-1').status).toBe('down');
    expect(edge(state, rule, 'node:node-2').status).toBe('down');
    expect(edge(state, rule, 'node:node-0').status).toBe('ok');
    const onStopped = snapshot.pods.filter((p) => p.nodeName === 'node-1');
    expect(onStopped.length).toBeGreaterThan(0);
    for (const p of onStopped) expect(state.nodes.find((n) => n.id === `pod:default/${p.name}`)!.status).toBe('down');
  });

  it('shows a rule → node edge pending while its probe has not settled (a node that just started)', () => {
    const snapshot = snapshotOf();
    const lb = snapshot.loadBalancers[0]!;
    const rule = `rule:${lb.name}/${lb.rules[0]!.name}`;
    const { state } = dashboardState(input(snapshot, { probes: probesUp(snapshot, ['node-1'], ['node-0', 'node-1']) }), undefined);
    expect(edge(state, rule, 'node:node-0').status).toBe('pending');
    expect(edge(state, rule, 'node:node-1').status).toBe('pending');
    expect(edge(state, rule, 'node:node-2').status).toBe('ok');
  });

  it('lists the faults, marks the hop a fault names and turns the edges into it to fault', () => {
    const snapshot = snapshotOf();
    const lb = snapshot.loadBalancers[0]!;
    const rule = `rule:${lb.name}/${lb.rules[0]!.name}`;
    const faults: FaultView[] = [
      { id: 'f-1', type: 'stop', target: 'node/node-2', params: {}, createdAt: '2025-01-02T03:04:05.000Z', fired: 0 },
      { id: 'f-2', type: 'reset', target: 'service/default/web', params: { fraction: 1 }, createdAt: '2025-01-02T03:04:05.000Z', fired: 3 },
    ];
    const { state } = dashboardState(input(snapshot, { faults }), undefined);
    expect(state.faults).toEqual(faults);
    expect(state.faultsAvailable).toBe(true);
    expect(state.nodes.find((n) => n.id === 'node:node-2')).toMatchObject({ status: 'fault', faults: ['f-1'] });
    expect(state.nodes.find((n) => n.id === 'service:default/web')).toMatchObject({ status: 'fault', faults: ['f-2'] });
    expect(edge(state, rule, 'node:node-2').status).toBe('fault');
    expect(edge(state, rule, 'node:node-1').status).toBe('ok');
    expect(edge(state, 'node:node-0', 'service:default/web').status).toBe('fault');
    expect(dashboardState(input(snapshot, { faults: undefined }), undefined).state.faultsAvailable).toBe(false);
  });

  it("reads the container runtime's stats (the LB's rules and each node's Service ports) as one data plane's", () => {
    const snapshot = snapshotOf();
    const one = stats(snapshot, { picks: { 'node-0': 4 }, endpoints: { '1.2.3.4:8080': 4 } });
    const other = { ...one, servicePorts: one.servicePorts.map((p) => ({ ...p, node: 'node-1' })), activeConnections: 1 };
    const merged = dataPlaneStats({
      loadBalancer: { ...one, servicePorts: [], activeConnections: 3 },
      nodes: { 'node-0': one, 'node-1': other, 'node-2': undefined },
    });
    expect(merged!.rules).toEqual(one.rules);
    expect(merged!.servicePorts!.map((p) => p.node)).toEqual(['node-0', 'node-1']);
    expect(merged!.activeConnections).toBe(6);
    expect(dataPlaneStats(one)).toBe(one);
    expect(dataPlaneStats(undefined)).toBeUndefined();
    expect(dataPlaneStats('x')).toBeUndefined();
  });
});

/** The dashboard test cluster's snapshot: an Ingress and an HTTPRoute to default/web-internal, with the ingress controller and a Gateway. */
function routedSnapshot(): Snapshot {
  const state = new ClusterState({
    config: buildConfig({ nodes: ['node-0', 'node-1'] }),
    manifests: parseManifests([{ file: 'dashboard.yaml', text: DASHBOARD_MANIFESTS }]).manifests,
    random: seeded(2),
    nodesReportAtStart: true,
    onChange: () => {},
    log: () => {},
  });
  return state.build();
}

describe('the dashboard graph of the L7 routes', () => {
  const snapshot = routedSnapshot();
  const controllers = snapshot.pods.filter((p) => p.runtime.kind === 'ingress-controller').map((p) => `${p.namespace}/${p.name}`);
  const gateway = snapshot.pods.find((p) => p.runtime.kind === 'gateway')!;
  const gatewayPod = `${gateway.namespace}/${gateway.name}`;
  const ingress = 'route:ingress/default/shop';
  const httpRoute = 'route:httproute/default/shop-route';
  const svc = 'service:default/web-internal';
  const row = (kind: string, route: string, pod: string, requests: number, errors = 0, service = 'default/web-internal'): RouteRequests => ({
    kind,
    namespace: 'default',
    route,
    service,
    pod,
    requests,
    errors,
  });

  it('turns the route counters of two samples into request rates on the controller → route → Service edges, per controller pod', () => {
    expect(controllers).toHaveLength(2);
    const [a, b] = controllers as [string, string];
    const first = dashboardState(
      input(snapshot, { routeRequests: [row('Ingress', 'shop', a, 10), row('Ingress', 'shop', b, 4), row('HTTPRoute', 'shop-route', gatewayPod, 6)] }),
      undefined,
    );
    expect(edge(first.state, `pod:${a}`, ingress)).toMatchObject({ total: 10, rate: 0, errors: 0, status: 'ok' });
    expect(edge(first.state, ingress, svc)).toMatchObject({ total: 14, rate: 0 });
    const second = dashboardState(
      input(snapshot, {
        now: 12_000,
        routeRequests: [
          row('Ingress', 'shop', a, 30),
          row('Ingress', 'shop', b, 4),
          // A request no Service took (the controller's own answer) counts on the pod's edge only.
          row('Ingress', 'shop', a, 2, 0, ''),
          row('HTTPRoute', 'shop-route', gatewayPod, 16),
          // GRPCRoutes and the default backend are not drawn.
          row('GRPCRoute', 'shop-route', gatewayPod, 1000),
          row('', '', a, 1000),
        ],
      }),
      first.sample,
    );
    expect(edge(second.state, `pod:${a}`, ingress)).toMatchObject({ total: 32, rate: 11, status: 'ok' });
    expect(edge(second.state, `pod:${b}`, ingress)).toMatchObject({ total: 4, rate: 0 });
    expect(edge(second.state, ingress, svc)).toMatchObject({ total: 34, rate: 10 });
    expect(edge(second.state, `pod:${gatewayPod}`, httpRoute)).toMatchObject({ total: 16, rate: 5 });
    expect(edge(second.state, httpRoute, svc)).toMatchObject({ total: 16, rate: 5 });
  });

  it('turns a route edge red for 5xx answers or aborted requests since the last sample, and back once they stop', () => {
    const [a] = controllers as [string];
    const first = dashboardState(input(snapshot, { routeRequests: [row('Ingress', 'shop', a, 10, 1)] }), undefined);
    // The first sample has no interval: errors before it are history, not a rate.
    expect(edge(first.state, `pod:${a}`, ingress).status).toBe('ok');
    const second = dashboardState(input(snapshot, { now: 11_000, routeRequests: [row('Ingress', 'shop', a, 14, 4)] }), first.sample);
    expect(edge(second.state, `pod:${a}`, ingress)).toMatchObject({ status: 'error', errors: 4, errorRate: 3 });
    expect(edge(second.state, ingress, svc)).toMatchObject({ status: 'error', errorRate: 3 });
    expect(edge(second.state, `pod:${gatewayPod}`, httpRoute).status).toBe('ok');
    const third = dashboardState(input(snapshot, { now: 12_000, routeRequests: [row('Ingress', 'shop', a, 20, 4)] }), second.sample);
    expect(edge(third.state, `pod:${a}`, ingress)).toMatchObject({ status: 'ok', rate: 6, errorRate: 0 });
  });

  it('leaves route edges without a rate where the runtime has no route counters', () => {
    const { state } = dashboardState(input(snapshot), undefined);
    expect(edge(state, ingress, svc).total).toBeUndefined();
    expect(edge(state, `pod:${controllers[0]!}`, ingress).rate).toBeUndefined();
  });
});

describe('an event stream whose sampling fails', () => {
  it('ends with an error event that says why, logs it, and leaves the server serving', async () => {
    const snapshot = snapshotOf();
    let calls = 0;
    const backend = {
      snapshot,
      probeStatus: () => probesUp(snapshot),
      stats: () => {
        if (++calls > 2) throw new Error('counters unavailable');
        return stats(snapshot, { picks: {} });
      },
    };
    const logged: string[] = [];
    const server = createServer((req, res) => {
      void handleDashboardRoute(backend, req.method ?? 'GET', { ...parseTarget(req.url ?? '/'), authenticated: false }, req, res, (line) => logged.push(line));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const { stream } = await SseStream.open(`${base}/aks-emu/v1/dashboard/events?interval=100`);
      const error = await stream.next((e) => (e.event === 'error' ? (JSON.parse(e.data) as { message: string }) : undefined));
      expect(error.message).toBe('counters unavailable');
      expect(stream.events.filter((e) => e.event === 'state')).toHaveLength(2);
      await stream.next(() => undefined).catch(() => undefined);
      expect(stream.ended).toBe(true);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatch(/^dashboard: sampling for an event stream failed, stream closed: Error: counters unavailable/);
      const page = await fetch(`${base}/dashboard`);
      expect(page.status).toBe(200);
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });
});
