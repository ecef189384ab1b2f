import { describe, expect, it } from 'vitest';
import { allocate, buildSnapshot, type RuntimeFacts } from '../../src/cluster/index.js';
import type { Manifests } from '../../src/model/types.js';
import { config, container, deployment, endpointSlice, loadBalancer, manifests, probeSpec, seeded, service, workload } from './factories.js';

const A = 'service.beta.kubernetes.io/';
const NO_FACTS: RuntimeFacts = { stoppedNodes: [], notReadyNodes: [], podReadiness: {} };
const NOW = new Date('2025-01-02T03:04:05.000Z');
/** 'a' + uid c0ffee00-0000-4000-8000-000000000001 without dashes, cut to 32 characters. */
const FRONTEND = 'ac0ffee0000004000800000000000000';

function snapshotOf(m: Manifests, facts: RuntimeFacts = NO_FACTS, cfg = config()) {
  const { allocation, errors } = allocate(m, cfg, seeded(4));
  expect(errors).toEqual([]);
  return buildSnapshot({ manifests: m, config: cfg, allocation, facts, version: 7, now: NOW });
}

const store = () =>
  manifests({
    services: [
      loadBalancer('web', { ports: [{ name: 'http', port: 80, targetPort: 'http' }], uid: 'c0ffee00-0000-4000-8000-000000000001' }),
      loadBalancer('local', { externalTrafficPolicy: 'Local', annotations: { [`${A}azure-load-balancer-internal`]: 'true' } }),
      service('api', { ports: [{ port: 8080 }] }),
      service('db', { selector: undefined, ports: [{ name: 'sql', port: 5432 }] }),
      service('docs', { type: 'ExternalName', externalName: 'example.com', selector: undefined }),
      service('headless', { clusterIP: 'None', selector: { app: 'api' } }),
    ],
    workloads: [
      deployment('web', { replicas: 3, containers: [container('app', [{ name: 'http', containerPort: 8080 }])] }),
      deployment('api', { replicas: 1, containers: [container('app', [], { readinessProbe: probeSpec() })] }),
    ],
    endpointSlices: [endpointSlice('db', [{ addresses: ['10.1.0.5'] }], [{ name: 'sql', port: 5432 }])],
  });

describe('buildSnapshot', () => {
  it('carries version, time, settings and the nodes', () => {
    const snap = snapshotOf(store());
    expect(snap.version).toBe(7);
    expect(snap.generatedAt).toBe('2025-01-02T03:04:05.000Z');
    expect(snap.settings).toEqual({
      timeScale: 1,
      endpointSelection: 'round-robin',
      nodeMonitorGracePeriodSeconds: 40,
      addresses: { nodeSubnet: '127.224.0.0/16', podCIDR: '127.244.0.0/16', serviceCIDR: '127.10.0.0/16', publicFrontends: '127.20.0.0/16' },
    });
    expect(snap.nodes.map((n) => [n.name, n.address, n.running, n.ready])).toEqual([
      ['node-0', '127.224.0.4', true, true],
      ['node-1', '127.224.0.5', true, true],
      ['node-2', '127.224.0.6', true, true],
    ]);
  });

  it('shows Services with their allocated addresses and ports', () => {
    const snap = snapshotOf(store());
    const byName = Object.fromEntries(snap.services.map((s) => [s.name, s]));
    expect(snap.services.map((s) => s.name)).toEqual(['api', 'db', 'docs', 'headless', 'local', 'web']);
    expect(byName.web!.clusterIP).toMatch(/^127\.10\./);
    expect(byName.web!.ports[0]!.nodePort).toBeGreaterThanOrEqual(30000);
    expect(byName.web!.loadBalancer).toEqual({ internal: false, loadBalancerName: 'kubernetes', frontendName: FRONTEND, ip: '127.20.0.1' });
    expect(byName.local!.healthCheckNodePort).toBeGreaterThanOrEqual(30000);
    expect(byName.local!.loadBalancer).toMatchObject({ internal: true, loadBalancerName: 'kubernetes-internal', ip: '127.224.0.7' });
    expect(byName.headless!.clusterIP).toBe('None');
    expect(byName.docs).toMatchObject({ clusterIP: '', externalName: 'example.com' });
    expect(byName.api!.ports[0]).not.toHaveProperty('nodePort');
  });

  it('lists pods sorted by name with addresses and readiness', () => {
    const snap = snapshotOf(store());
    expect(snap.pods.map((p) => p.name)).toEqual([...snap.pods.map((p) => p.name)].sort());
    const api = snap.pods.find((p) => p.name.startsWith('api-'))!;
    expect(api).toMatchObject({ phase: 'Running', ready: false, runtime: { kind: 'echo' }, ownerKind: 'ReplicaSet' });
    const ready = snapshotOf(store(), { ...NO_FACTS, podReadiness: { [`default/${api.name}`]: true } });
    expect(ready.pods.find((p) => p.name === api.name)!.ready).toBe(true);
  });

  it('computes endpoints with named target ports and selector-less slices', () => {
    const snap = snapshotOf(store());
    const eps = Object.fromEntries(snap.endpoints.map((e) => [e.serviceKey, e]));
    expect(Object.keys(eps)).toEqual(['default/api', 'default/db', 'default/headless', 'default/local', 'default/web']);
    expect(eps['default/web']!.ports[0]!.usable.map((e) => e.port)).toEqual([8080, 8080, 8080]);
    expect(eps['default/api']!.ports[0]!.usable).toEqual([]);
    expect(eps['default/db']!.ports[0]!.usable.map((e) => `${e.ip}:${e.port}`)).toEqual(['10.1.0.5:5432']);
  });

  it('keeps pods of a stopped node in the endpoints until the node is NotReady', () => {
    const stopped = snapshotOf(store(), { ...NO_FACTS, stoppedNodes: ['node-0'] });
    expect(stopped.endpoints.find((e) => e.serviceKey === 'default/web')!.ports[0]!.usable).toHaveLength(3);
    const snap = snapshotOf(store(), { ...NO_FACTS, stoppedNodes: ['node-0'], notReadyNodes: ['node-0'] });
    const web = snap.endpoints.find((e) => e.serviceKey === 'default/web')!.ports[0]!;
    expect(web.endpoints).toHaveLength(3);
    expect(web.usable.map((e) => e.nodeName)).toEqual(expect.not.arrayContaining(['node-0']));
    expect(web.usable).toHaveLength(2);
  });

  it('programs the load balancers with frontends, rules, probes and every node in the backend pool', () => {
    const snap = snapshotOf(store());
    expect(snap.loadBalancers.map((lb) => [lb.name, lb.internal])).toEqual([
      ['kubernetes', false],
      ['kubernetes-internal', true],
    ]);
    const [pub, internal] = snap.loadBalancers;
    expect(pub!.backendPool).toEqual(['node-0', 'node-1', 'node-2']);
    expect(pub!.frontends).toEqual([{ name: FRONTEND, ip: '127.20.0.1', serviceKey: 'default/web' }]);
    expect(pub!.rules.map((r) => [r.name, r.frontendPort, r.backendPort, r.probeName])).toEqual([[`${FRONTEND}-TCP-80`, 80, 80, `${FRONTEND}-TCP-80`]]);
    const nodePort = snap.services.find((s) => s.name === 'web')!.ports[0]!.nodePort;
    expect(pub!.probes).toEqual([{ name: `${FRONTEND}-TCP-80`, protocol: 'Tcp', port: nodePort, intervalInSeconds: 5, numberOfProbes: 2 }]);
    const hcnp = snap.services.find((s) => s.name === 'local')!.healthCheckNodePort;
    expect(internal!.probes).toMatchObject([{ protocol: 'Http', port: hcnp, requestPath: '/healthz' }]);
  });

  it('keeps the public load balancer with an empty configuration when no Service uses it', () => {
    const snap = snapshotOf(manifests());
    expect(snap.loadBalancers).toEqual([
      { name: 'kubernetes', internal: false, frontends: [], rules: [], probes: [], backendPool: ['node-0', 'node-1', 'node-2'] },
    ]);
  });

  it('shows a pending frontend without rules', () => {
    const taken = [loadBalancer('first', { loadBalancerIP: '127.20.0.9' }), loadBalancer('web', { loadBalancerIP: '127.20.0.9' })];
    const snap = snapshotOf(manifests({ services: taken }));
    expect(snap.services[1]!.loadBalancer).toMatchObject({ pendingReason: expect.stringContaining('127.20.0.9') });
    expect(snap.services[1]!.loadBalancer).not.toHaveProperty('ip');
    expect(snap.loadBalancers[0]!.rules.map((r) => r.serviceKey)).toEqual(['default/first']);
  });

  it('is deep-frozen and leaves the manifests unfrozen', () => {
    const m = store();
    const snap = snapshotOf(m);
    expect(Object.isFrozen(snap)).toBe(true);
    expect(Object.isFrozen(snap.pods[0]!.labels)).toBe(true);
    expect(Object.isFrozen(snap.loadBalancers[0]!.rules[0])).toBe(true);
    expect(Object.isFrozen(m.services[0]!.metadata.labels)).toBe(false);
  });

  it('gives the same snapshot for the same inputs', () => {
    const m = store();
    const { allocation } = allocate(m, config(), seeded(4));
    const build = () => buildSnapshot({ manifests: m, config: config(), allocation, facts: NO_FACTS, version: 1, now: NOW });
    expect(build()).toEqual(build());
  });

  it('shows unschedulable pods as Pending', () => {
    const snap = snapshotOf(manifests({ workloads: [workload('Pod', 'lost', { nodeSelector: { disk: 'ssd' } })] }));
    expect(snap.pods).toMatchObject([{ name: 'lost', phase: 'Pending', nodeName: '', ip: '', ready: false }]);
  });
});
