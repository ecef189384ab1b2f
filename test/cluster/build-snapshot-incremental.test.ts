/**
 * A snapshot built with the previous one shares the items that did not change (the same
 * frozen objects) and must still equal a build from scratch, whatever the sequence of
 * changes: Services added, removed and modified, EndpointSlices, readiness, a node stopped.
 */
import { describe, expect, it } from 'vitest';
import { allocate, buildSnapshot, type Allocation, type RuntimeFacts } from '../../src/cluster/index.js';
import type { Snapshot } from '../../src/cluster/snapshot.js';
import type { Manifests } from '../../src/model/types.js';
import { config, container, deployment, endpointSlice, loadBalancer, manifests, probeSpec, seeded, service } from './factories.js';

const cfg = config();
const NO_FACTS: RuntimeFacts = { stoppedNodes: [], notReadyNodes: [], podReadiness: {} };

interface Step {
  readonly what: string;
  readonly manifests: Manifests;
  readonly facts: RuntimeFacts;
}

const app = (name: string) =>
  deployment(name, { replicas: 2, containers: [container('app', [{ name: 'http', containerPort: 8080 }], { readinessProbe: probeSpec() })] });

function steps(): Step[] {
  const base = manifests({
    services: [loadBalancer('web', { ports: [{ name: 'http', port: 80, targetPort: 'http' }] }), service('api', { ports: [{ port: 8080 }] })],
    workloads: [app('web'), app('api')],
    endpointSlices: [endpointSlice('db', [{ addresses: ['10.1.0.5'] }], [{ name: 'sql', port: 5432 }])],
  });
  const withDb = { ...base, services: [...base.services, service('db', { selector: undefined, ports: [{ name: 'sql', port: 5432 }] })] };
  const withShop = { ...withDb, services: [...withDb.services, loadBalancer('shop', { selector: { app: 'web' } })] };
  const apiModified = {
    ...withShop,
    services: withShop.services.map((s) => (s.metadata.name === 'api' ? service('api', { ports: [{ port: 9090, targetPort: 8080 }] }) : s)),
  };
  const sliceModified = { ...apiModified, endpointSlices: [endpointSlice('db', [{ addresses: ['10.1.0.6'], ready: false }], [{ name: 'sql', port: 5432 }])] };
  const webRemoved = { ...sliceModified, services: sliceModified.services.filter((s) => s.metadata.name !== 'web') };
  const scaled = {
    ...webRemoved,
    workloads: [app('web'), deployment('api', { replicas: 3, containers: [container('app', [{ name: 'http', containerPort: 8080 }])] })],
  };
  return [
    { what: 'start', manifests: base, facts: NO_FACTS },
    { what: 'a selector-less Service added', manifests: withDb, facts: NO_FACTS },
    { what: 'a LoadBalancer Service added', manifests: withShop, facts: NO_FACTS },
    { what: 'a Service port modified', manifests: apiModified, facts: NO_FACTS },
    { what: 'an EndpointSlice modified', manifests: sliceModified, facts: NO_FACTS },
    { what: 'a Service removed', manifests: webRemoved, facts: NO_FACTS },
    { what: 'a Deployment scaled', manifests: scaled, facts: NO_FACTS },
  ];
}

/** Readiness of every pod of the last snapshot, then of one pod only, then a node stopped and NotReady. */
function factSteps(last: Snapshot, m: Manifests): Step[] {
  const all = Object.fromEntries(last.pods.map((p) => [`${p.namespace}/${p.name}`, true]));
  const first = last.pods[0]!;
  const oneDown = { ...all, [`${first.namespace}/${first.name}`]: false };
  return [
    { what: 'every pod Ready', manifests: m, facts: { ...NO_FACTS, podReadiness: all } },
    { what: 'one pod not Ready', manifests: m, facts: { ...NO_FACTS, podReadiness: oneDown } },
    { what: 'a node stopped', manifests: m, facts: { ...NO_FACTS, podReadiness: oneDown, stoppedNodes: ['node-1'] } },
    { what: 'a node NotReady', manifests: m, facts: { ...NO_FACTS, podReadiness: oneDown, stoppedNodes: ['node-1'], notReadyNodes: ['node-1'] } },
    { what: 'the node back', manifests: m, facts: { ...NO_FACTS, podReadiness: oneDown } },
  ];
}

function run(sequence: readonly Step[], start?: { snapshot: Snapshot; allocation: Allocation }) {
  let previous = start?.snapshot;
  let allocation = start?.allocation;
  const built: { step: Step; incremental: Snapshot; scratch: Snapshot }[] = [];
  sequence.forEach((step, i) => {
    const result = allocate(step.manifests, cfg, seeded(i + 1), allocation);
    expect(result.errors, step.what).toEqual([]);
    allocation = result.allocation;
    const input = { manifests: step.manifests, config: cfg, allocation, facts: step.facts, version: i + 1, now: new Date(1_000 * i) };
    const incremental = buildSnapshot({ ...input, ...(previous === undefined ? {} : { previous }) });
    const scratch = buildSnapshot(input);
    built.push({ step, incremental, scratch });
    previous = incremental;
  });
  return { built, last: { snapshot: previous!, allocation: allocation! } };
}

describe('a snapshot built on the previous one', () => {
  it('equals a build from scratch after every change of a sequence', () => {
    const first = run(steps());
    const second = run(factSteps(first.last.snapshot, steps().at(-1)!.manifests), first.last);
    for (const { step, incremental, scratch } of [...first.built, ...second.built]) {
      expect(incremental, step.what).toStrictEqual(scratch);
      expect(JSON.stringify(incremental), step.what).toBe(JSON.stringify(scratch));
      expect(Object.isFrozen(incremental.pods[0]), step.what).toBe(true);
    }
  });

  it('shares what did not change and nothing that did', () => {
    const { built } = run(steps());
    const [, added, , modified] = built;
    const before = added!.incremental;
    const after = built[2]!.incremental; // a LoadBalancer Service added
    const api = (s: Snapshot) => s.services.find((x) => x.name === 'api')!;
    expect(api(after)).toBe(api(before));
    expect(after.pods).toEqual(before.pods);
    after.pods.forEach((p, i) => expect(p).toBe(before.pods[i]));
    // The modified Service is a new object, with the new port.
    expect(api(modified!.incremental)).not.toBe(api(after));
    expect(api(modified!.incremental).ports[0]!.port).toBe(9090);
    // A build from scratch shares nothing.
    expect(api(modified!.scratch)).not.toBe(api(modified!.incremental));
  });

  it("shares a pod until its readiness changes, then only that pod's endpoints change", () => {
    const first = run(steps());
    const { built } = run(factSteps(first.last.snapshot, steps().at(-1)!.manifests), first.last);
    const [allReady, oneDown] = built;
    const changed = oneDown!.incremental.pods.filter((p, i) => p !== allReady!.incremental.pods[i]);
    expect(changed.map((p) => p.ready)).toEqual([false]);
    const changedEndpoints = oneDown!.incremental.endpoints.filter((e, i) => e !== allReady!.incremental.endpoints[i]);
    expect(changedEndpoints.length).toBe(1);
  });
});
