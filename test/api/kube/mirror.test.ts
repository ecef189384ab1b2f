import { describe, expect, it } from 'vitest';
import { mirrorChanges } from '../../../src/api/kube/mirror.js';
import { allocate, buildSnapshot, type RuntimeFacts } from '../../../src/cluster/index.js';
import { ObjectStore, type KubeObject } from '../../../src/cluster/store/index.js';
import type { Manifests } from '../../../src/model/types.js';
import { config, container, deployment, manifests, probeSpec, seeded, service } from '../../cluster/factories.js';

const m: Manifests = manifests({
  services: [service('api', { ports: [{ port: 8080 }] })],
  workloads: [deployment('api', { replicas: 1, containers: [container('app', [], { readinessProbe: probeSpec() })] })],
});
const cfg = config();
const { allocation } = allocate(m, cfg, seeded(4));

function snapshotAt(iso: string, facts: RuntimeFacts) {
  return buildSnapshot({ manifests: m, config: cfg, allocation, facts, version: 1, now: new Date(iso) });
}

type Condition = { type: string; status: string; lastUpdateTime: string; lastTransitionTime: string };

function mirrorInto(store: ObjectStore, snapshot: ReturnType<typeof snapshotAt>) {
  return store.commit(mirrorChanges({ snapshot, manifests: m, created: () => '2025-01-01T00:00:00Z', entries: store.entries() }));
}

function available(store: ObjectStore): Condition {
  const d = store.list('apps', 'Deployment').find((e) => e.ref.name === 'api')!.object as KubeObject & { status: { conditions: Condition[] } };
  return d.status.conditions.find((c) => c.type === 'Available')!;
}

describe("the controllers' write-back", () => {
  it('leaves a Deployment alone while its conditions say the same thing, and moves their times when they change', () => {
    const store = new ObjectStore({ now: () => new Date('2025-01-01T00:00:00Z'), newUid: (o) => `uid-${o.metadata.name}` });
    const pod = () => snapshotAt('2025-01-01T00:00:00.000Z', { stoppedNodes: [], notReadyNodes: [], podReadiness: {} }).pods[0]!;
    const key = `${pod().namespace}/${pod().name}`;
    mirrorInto(store, snapshotAt('2025-01-01T00:00:01.000Z', { stoppedNodes: [], notReadyNodes: [], podReadiness: { [key]: false } }));
    expect(available(store)).toMatchObject({ status: 'False', lastTransitionTime: '2025-01-01T00:00:01.000Z' });

    // A later snapshot that changes nothing for the Deployment: no write, no watch event.
    const again = mirrorInto(store, snapshotAt('2025-01-01T00:00:02.000Z', { stoppedNodes: [], notReadyNodes: [], podReadiness: { [key]: false } }));
    expect(again.filter((e) => e.ref.kind === 'Deployment')).toEqual([]);

    // The pod turns Ready: the condition flips, and both of its times move.
    const flipped = mirrorInto(store, snapshotAt('2025-01-01T00:00:03.000Z', { stoppedNodes: [], notReadyNodes: [], podReadiness: { [key]: true } }));
    expect(flipped.filter((e) => e.ref.kind === 'Deployment')).toHaveLength(1);
    expect(available(store)).toMatchObject({ status: 'True', lastUpdateTime: '2025-01-01T00:00:03.000Z', lastTransitionTime: '2025-01-01T00:00:03.000Z' });
  });
});
