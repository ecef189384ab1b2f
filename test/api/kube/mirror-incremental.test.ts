/**
 * The write-back keeps the objects it writes per snapshot item (a snapshot built on the
 * previous one shares its unchanged items), and the store skips an object it was given
 * last time. Whatever the sequence of changes, the store must end up holding what a
 * write-back of snapshots built from scratch gives.
 */
import { describe, expect, it } from 'vitest';
import { mirrorChanges } from '../../../src/api/kube/mirror.js';
import { refOf, resourceOfKind } from '../../../src/api/kube/resources.js';
import { allocate, buildSnapshot, type Allocation, type RuntimeFacts } from '../../../src/cluster/index.js';
import type { Snapshot } from '../../../src/cluster/snapshot.js';
import { ObjectStore, type KubeObject } from '../../../src/cluster/store/index.js';
import type { Manifests } from '../../../src/model/types.js';
import { config, container, deployment, loadBalancer, manifests, probeSpec, seeded, service } from '../../cluster/factories.js';

const cfg = config();
const app = (name: string, replicas = 2) =>
  deployment(name, { replicas, containers: [container('app', [{ name: 'http', containerPort: 8080 }], { readinessProbe: probeSpec() })] });

/** The user's own Service objects, as kubectl would have written them. */
function userService(name: string, type: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { type, selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
  };
}

function newStore(): ObjectStore {
  const store = new ObjectStore({ now: () => new Date('2025-01-01T00:00:00Z'), newUid: (o) => `uid-${o.metadata.name}` });
  const r = resourceOfKind('v1', 'Service')!;
  store.commit(
    [userService('web', 'LoadBalancer'), userService('api', 'ClusterIP')].map((object) => ({
      op: 'put' as const,
      ref: refOf(r, 'default', object.metadata.name),
      owner: 'user' as const,
      object,
    })),
  );
  return store;
}

describe('the write-back of snapshots built on the previous one', () => {
  it('leaves the store as the write-back of snapshots built from scratch does, after every change', () => {
    const base = manifests({
      services: [loadBalancer('web', { selector: { app: 'web' } }), service('api', { selector: { app: 'api' } })],
      workloads: [app('web'), app('api')],
    });
    const withShop: Manifests = { ...base, services: [...base.services, loadBalancer('shop', { selector: { app: 'web' } })] };
    const scaled: Manifests = { ...withShop, workloads: [app('web'), app('api', 3)] };
    // Only the Service changes (its endpoints entry stays the same object): the Endpoints object carries its labels.
    const labelled: Manifests = {
      ...scaled,
      services: scaled.services.map((s) => (s.metadata.name === 'web' ? loadBalancer('web', { selector: { app: 'web' }, labels: { tier: 'front' } }) : s)),
    };
    const none: RuntimeFacts = { stoppedNodes: [], notReadyNodes: [], podReadiness: {} };
    const steps: { what: string; manifests: Manifests; ready: (pod: string) => boolean }[] = [
      { what: 'start, nothing Ready', manifests: base, ready: () => false },
      { what: 'every pod Ready', manifests: base, ready: () => true },
      { what: 'one pod not Ready', manifests: base, ready: (p) => !p.startsWith('default/web-') },
      { what: 'a LoadBalancer Service added', manifests: withShop, ready: () => true },
      { what: 'a Deployment scaled', manifests: scaled, ready: () => true },
      { what: 'the same again', manifests: scaled, ready: () => true },
      { what: 'a Service labelled', manifests: labelled, ready: () => true },
    ];
    const incremental = newStore();
    const scratch = newStore();
    let previous: Snapshot | undefined;
    let allocation: Allocation | undefined;
    const sliceOf = (changes: ReturnType<typeof mirrorChanges>, name: string) =>
      changes.find((c) => c.op === 'put' && c.ref.kind === 'EndpointSlice' && c.ref.name.startsWith(`${name}-`));
    let lastChanges: ReturnType<typeof mirrorChanges> | undefined;
    steps.forEach((step, i) => {
      const result = allocate(step.manifests, cfg, seeded(i + 1), allocation);
      allocation = result.allocation;
      const input = { manifests: step.manifests, config: cfg, allocation, facts: none, version: i + 1, now: new Date(Date.UTC(2025, 0, 1, 0, 0, i)) };
      const pods = buildSnapshot(input).pods.map((p) => `${p.namespace}/${p.name}`);
      const facts: RuntimeFacts = { ...none, podReadiness: Object.fromEntries(pods.map((p) => [p, step.ready(p)])) };
      const next = buildSnapshot({ ...input, facts, ...(previous === undefined ? {} : { previous }) });
      const created = () => '2025-01-01T00:00:00Z';
      const changes = mirrorChanges({ snapshot: next, manifests: step.manifests, created, entries: incremental.entries() });
      const events = incremental.commit(changes);
      // From scratch also in the objects the write-back keeps per workload: a copy of the manifests shares none of them.
      const freshManifests = structuredClone(step.manifests);
      const freshSnapshot = buildSnapshot({ ...input, manifests: freshManifests, facts });
      const freshEvents = scratch.commit(mirrorChanges({ snapshot: freshSnapshot, manifests: freshManifests, created, entries: scratch.entries() }));
      expect(
        events.map((e) => `${e.type} ${e.ref.kind} ${e.ref.name}`),
        step.what,
      ).toEqual(freshEvents.map((e) => `${e.type} ${e.ref.kind} ${e.ref.name}`));
      expect(JSON.stringify(incremental.entries()), step.what).toBe(JSON.stringify(scratch.entries()));
      // An unchanged Service's EndpointSlice is the object the write-back put last time, so it is not put again at all.
      if (step.what === 'a Deployment scaled') {
        expect(sliceOf(lastChanges!, 'web')).toBeDefined();
        expect(sliceOf(changes, 'web')).toBeUndefined();
        expect(changes.some((c) => c.op === 'put' && c.ref.kind === 'ReplicaSet' && c.ref.name.startsWith('api-'))).toBe(true);
      }
      // Nothing changed: no pod, Service, EndpointSlice, Endpoints or ReplicaSet is put again (nodes and namespaces are few; a Deployment whose status was replaced last time is made once more).
      if (step.what === 'the same again')
        expect(
          changes
            .filter((c) => c.ref.kind !== 'Node' && c.ref.kind !== 'Namespace' && c.ref.kind !== 'Deployment')
            .map((c) => `${c.op} ${c.ref.kind} ${c.ref.name}`),
        ).toEqual([]);
      if (step.what === 'a Service labelled') {
        expect(next.endpoints.find((e) => e.serviceKey === 'default/web')).toBe(previous!.endpoints.find((e) => e.serviceKey === 'default/web'));
        expect(incremental.get(refOf(resourceOfKind('v1', 'Endpoints')!, 'default', 'web'))!.object.metadata.labels).toEqual({ tier: 'front' });
      }
      previous = next;
      lastChanges = changes;
    });
  });
});
