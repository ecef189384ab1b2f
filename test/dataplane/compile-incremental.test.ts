/**
 * The data plane keeps each Service port's compiled route from one snapshot to the next
 * while the Service and its endpoints entry are the same objects (a snapshot built on the
 * previous one shares them). Whatever the sequence of changes, the tables must be what a
 * compile of the same snapshot from scratch gives, and a route must be kept only when
 * nothing it was made from changed.
 */
import { describe, expect, it } from 'vitest';
import { allocate, buildSnapshot, type Allocation, type RuntimeFacts } from '../../src/cluster/index.js';
import type { Snapshot } from '../../src/cluster/snapshot.js';
import type { Manifests } from '../../src/model/types.js';
import { ALL_ROLES, compile, type RetainedState, type Tables } from '../../src/dataplane/compile.js';
import { ConnectionTracker } from '../../src/dataplane/l4/connection-tracker.js';
import { Prober } from '../../src/dataplane/lb/prober.js';
import { HeldConnections } from '../../src/dataplane/node/held-connections.js';
import type { KubeProxy } from '../../src/dataplane/node/kube-proxy.js';
import type { ServicePortRoute } from '../../src/dataplane/node/service-port-route.js';
import { Retained } from '../../src/dataplane/retained.js';
import { Counters } from '../../src/dataplane/stats.js';
import { config, container, deployment, loadBalancer, manifests, seeded, service } from '../cluster/factories.js';
import { FakeClock } from './fake-clock.js';

const cfg = config();

function newState(): RetainedState {
  const clock = new FakeClock();
  const faults = { table: undefined };
  return {
    clock,
    random: seeded(7),
    startedAt: clock.now(),
    probeSource: undefined,
    tracker: new ConnectionTracker(),
    held: new HeldConnections(100),
    counters: new Counters(),
    prober: new Prober(clock, undefined, () => {}, faults),
    faults,
    selectors: new Retained(),
    balancers: new Retained(),
    distributions: new Retained(),
    idleTimeouts: new Retained(),
    roles: ALL_ROLES,
    localEndpoints: undefined,
  };
}

const app = (name: string, replicas = 2) => deployment(name, { replicas, containers: [container('app', [{ name: 'http', containerPort: 8080 }])] });

interface Step {
  readonly what: string;
  readonly manifests: Manifests;
  readonly facts: RuntimeFacts;
}

function steps(): Step[] {
  const base = manifests({
    services: [
      loadBalancer('web', { ports: [{ name: 'http', port: 80, targetPort: 'http' }] }),
      service('api', { ports: [{ port: 8080 }] }),
      loadBalancer('local', { selector: { app: 'api' }, externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 81, targetPort: 8080 }] }),
    ],
    workloads: [app('web'), app('api', 3)],
  });
  const facts: RuntimeFacts = { stoppedNodes: [], notReadyNodes: [], podReadiness: {} };
  const withShop = { ...base, services: [...base.services, loadBalancer('shop', { selector: { app: 'web' } })] };
  const apiModified = {
    ...withShop,
    services: withShop.services.map((s) =>
      s.metadata.name === 'api' ? service('api', { sessionAffinity: 'ClientIP', ports: [{ port: 9090, targetPort: 8080 }] }) : s,
    ),
  };
  const webRemoved = { ...apiModified, services: apiModified.services.filter((s) => s.metadata.name !== 'web') };
  const scaled = { ...webRemoved, workloads: [app('web'), app('api', 4)] };
  return [
    { what: 'start', manifests: base, facts },
    { what: 'a LoadBalancer Service added', manifests: withShop, facts },
    { what: 'a Service port and affinity modified', manifests: apiModified, facts },
    { what: 'a node stopped', manifests: apiModified, facts: { ...facts, stoppedNodes: ['node-1'] } },
    { what: 'the node back', manifests: apiModified, facts },
    { what: 'a Service removed', manifests: webRemoved, facts },
    { what: 'a Deployment scaled', manifests: scaled, facts },
    { what: 'the same snapshot again', manifests: scaled, facts },
  ];
}

function snapshots(sequence: readonly Step[]): { step: Step; snapshot: Snapshot }[] {
  let previous: Snapshot | undefined;
  let allocation: Allocation | undefined;
  return sequence.map((step, i) => {
    const result = allocate(step.manifests, cfg, seeded(i + 1), allocation);
    expect(result.errors, step.what).toEqual([]);
    allocation = result.allocation;
    const snapshot = buildSnapshot({
      manifests: step.manifests,
      config: cfg,
      allocation,
      facts: step.facts,
      version: i + 1,
      now: new Date(1_000 * i),
      ...(previous === undefined ? {} : { previous }),
    });
    previous = snapshot;
    return { step, snapshot };
  });
}

const routesOf = (proxy: KubeProxy) => (proxy as unknown as { routes: ReadonlyMap<string, ServicePortRoute> }).routes;
/** The probe twin of each route (made on the first probe: asking for it makes it). */
const probeRoutesOf = (proxy: KubeProxy): [string, ServicePortRoute][] => {
  const probeRoute = (proxy as unknown as { probeRoute: (key: string) => ServicePortRoute | undefined }).probeRoute;
  return [...routesOf(proxy).keys()].map((key) => [key, probeRoute(key)!]);
};

/** Everything a route decides with, without the retained objects' identity. */
function plain(route: ServicePortRoute) {
  const endpoint = (e: ServicePortRoute['all'][number]) => ({
    ip: e.ip,
    port: e.port,
    nodeName: e.nodeName,
    key: e.key,
    pod: e.pod,
    counter: e.counters?.endpoint,
  });
  return {
    externalTrafficPolicy: route.externalTrafficPolicy,
    internalTrafficPolicy: route.internalTrafficPolicy,
    all: route.all.map(endpoint),
    allByKey: [...route.allByKey.keys()],
    local: route.local.map(endpoint),
    localByKey: [...route.localByKey.keys()],
    counters: { node: route.counters.node, service: route.counters.service, port: route.counters.port },
  };
}

function plainTables(tables: Tables) {
  return {
    version: tables.version,
    listeners: [...tables.listeners.values()].map((l) => ({ key: l.key, kind: l.kind, description: l.description })),
    kubeProxies: [...tables.kubeProxies].map(([name, proxy]) => ({
      name,
      node: proxy.node,
      routes: [...routesOf(proxy)].map(([key, route]) => ({ key, route: plain(route) })),
      probeRoutes: probeRoutesOf(proxy).map(([key, route]) => ({ key, route: plain(route) })),
    })),
  };
}

/** A kept route must hold the retained objects the state holds now for its keys. */
function expectCurrentRetained(tables: Tables, state: RetainedState, what: string): void {
  for (const [node, proxy] of tables.kubeProxies) {
    for (const [key, route] of routesOf(proxy)) {
      const [serviceKey, port] = [key.slice(0, key.lastIndexOf(':')), key.slice(key.lastIndexOf(':') + 1)];
      expect(route.counters, `${what}: ${node} ${key}`).toBe(state.counters.servicePort(node, serviceKey, port));
      expect(route.balancer, `${what}: ${node} ${key}`).toBe(state.balancers.get(`${node}|${key}`, () => undefined as never));
      for (const e of route.all)
        expect(e.counters, `${what}: ${node} ${key} ${e.key}`).toBe(state.counters.endpoint(serviceKey, port, e.key, e.pod, e.nodeName));
    }
  }
}

describe('the data plane compiled on the previous compile', () => {
  it('equals a compile from scratch after every change of a sequence', () => {
    const state = newState();
    for (const { step, snapshot } of snapshots(steps())) {
      const incremental = compile(snapshot, state);
      const scratch = compile(snapshot, newState());
      expect(plainTables(incremental), step.what).toEqual(plainTables(scratch));
      expectCurrentRetained(incremental, state, step.what);
    }
  });

  it('keeps the routes of what did not change and compiles again what did', () => {
    const state = newState();
    const built = snapshots(steps());
    const tables = built.map(({ snapshot }) => compile(snapshot, state));
    const route = (t: Tables, key: string, node = 'node-0') => routesOf(t.kubeProxies.get(node)!).get(key)!;
    const [start, added, modified, , , removed, scaled] = tables;
    // A Service added: every other route is the same object.
    expect(route(added!, 'default/web:http')).toBe(route(start!, 'default/web:http'));
    expect(route(added!, 'default/local:http')).toBe(route(start!, 'default/local:http'));
    // The modified Service is compiled again (its affinity and port changed); the others are kept.
    expect(route(modified!, 'default/api:')).not.toBe(route(added!, 'default/api:'));
    expect(route(modified!, 'default/shop:')).toBe(route(added!, 'default/shop:'));
    // A Deployment scaled: the routes of the Services over its pods are new, with the new endpoint.
    expect(route(scaled!, 'default/api:')).not.toBe(route(removed!, 'default/api:'));
    expect(route(scaled!, 'default/local:http').all.length).toBe(route(removed!, 'default/local:http').all.length + 1);
    expect(route(scaled!, 'default/shop:')).toBe(route(removed!, 'default/shop:'));
    // A kept route keeps its probe twin (made on the first probe, with a selection of its own); a route compiled again starts a new one.
    const probe = (t: Tables, key: string, node = 'node-0') =>
      (t.kubeProxies.get(node) as unknown as { probeRoute: (key: string) => ServicePortRoute | undefined }).probeRoute(key)!;
    expect(probe(start!, 'default/web:http')).toBe(probe(added!, 'default/web:http'));
    expect(probe(start!, 'default/web:http').balancer).not.toBe(route(start!, 'default/web:http').balancer);
    expect(probe(start!, 'default/web:http').counters).not.toBe(route(start!, 'default/web:http').counters);
    expect(probe(modified!, 'default/api:')).not.toBe(probe(added!, 'default/api:'));
    // The same snapshot compiled again keeps everything.
    const again = compile(built.at(-1)!.snapshot, state);
    for (const [key, r] of routesOf(again.kubeProxies.get('node-0')!)) expect(r, key).toBe(route(tables.at(-1)!, key));
  });

  it('compiles a kept route again when its retained balancer was pruned in between', () => {
    const state = newState();
    const [first] = snapshots(steps());
    const before = compile(first!.snapshot, state);
    // A compile of a snapshot without Services prunes every balancer and counter.
    compile({ ...first!.snapshot, services: [], endpoints: [], loadBalancers: [] }, state);
    const after = compile(first!.snapshot, state);
    const key = 'default/web:http';
    expect(routesOf(after.kubeProxies.get('node-0')!).get(key)).not.toBe(routesOf(before.kubeProxies.get('node-0')!).get(key));
    expectCurrentRetained(after, state, 'after the prune');
  });

  it("configures a kept route's balancer again when an older snapshot comes back", () => {
    const state = newState();
    const [, added, modified] = snapshots(steps());
    const api = (t: Tables) => routesOf(t.kubeProxies.get('node-0')!).get('default/api:')!;
    compile(added!.snapshot, state);
    // The modified api Service has ClientIP affinity: its balancer is configured with it.
    const sticky = api(compile(modified!.snapshot, state));
    const picks = (r: ServicePortRoute) => new Set([1, 2, 3].map(() => r.balancer.pick(r.all, r.allByKey, '10.9.0.1', false)?.key));
    expect(picks(sticky).size).toBe(1);
    // The older snapshot (no affinity) again: the same balancer, configured without affinity.
    const plainAgain = api(compile(added!.snapshot, state));
    expect(plainAgain.balancer).toBe(sticky.balancer);
    expect(picks(plainAgain).size).toBeGreaterThan(1);
  });
});
