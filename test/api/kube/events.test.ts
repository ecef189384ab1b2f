import { describe, expect, it } from 'vitest';
import { ObjectStore, type KubeObject } from '../../../src/cluster/store/index.js';
import { eventChanges, type EventRecord } from '../../../src/api/kube/events.js';

const probe = (node: string, state: 'up' | 'down'): EventRecord => ({
  involved: { apiVersion: 'v1', kind: 'Node', namespace: '', name: node },
  type: state === 'up' ? 'Normal' : 'Warning',
  reason: state === 'up' ? 'LoadBalancerProbeUp' : 'LoadBalancerProbeDown',
  message: `health probe marks this node ${state}`,
  component: 'aks-emu-load-balancer',
});

function newStore(): ObjectStore {
  let uid = 0;
  return new ObjectStore({ now: () => new Date(0), newUid: () => `uid-${++uid}` });
}

const events = (store: ObjectStore) =>
  store.list('', 'Event').map((e) => e.object as KubeObject & { reason: string; count: number; involvedObject: { name: string } });

describe('Events recorded in batches', () => {
  it('counts repeats within one batch and across batches on one Event, and keeps different ones apart', () => {
    const store = newStore();
    store.commit(eventChanges(store, [probe('node-0', 'up'), probe('node-0', 'up'), probe('node-1', 'up')], new Date(0)));
    store.commit(eventChanges(store, [probe('node-0', 'up'), probe('node-0', 'down')], new Date(0)));
    const byKey = Object.fromEntries(events(store).map((e) => [`${e.involvedObject.name}/${e.reason}`, e.count]));
    expect(byKey).toEqual({ 'node-0/LoadBalancerProbeUp': 3, 'node-1/LoadBalancerProbeUp': 1, 'node-0/LoadBalancerProbeDown': 1 });
  });

  it('drops the oldest Events past the limit of 1,000, counting a batch of new ones once each', () => {
    const store = newStore();
    const many = Array.from({ length: 1000 }, (_, i) => probe(`node-${i}`, 'up'));
    store.commit(eventChanges(store, many, new Date(0)));
    expect(events(store)).toHaveLength(1000);
    store.commit(eventChanges(store, [probe('late', 'down'), probe('late', 'down')], new Date(0)));
    const now = events(store);
    expect(now).toHaveLength(1000);
    expect(now.find((e) => e.involvedObject.name === 'late')?.count).toBe(2);
    expect(now.some((e) => e.involvedObject.name === 'node-0')).toBe(false);
    expect(now.some((e) => e.involvedObject.name === 'node-1')).toBe(true);
  });
});
