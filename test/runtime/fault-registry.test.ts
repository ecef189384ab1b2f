import { describe, expect, it } from 'vitest';
import { FaultRegistry, type FaultEffects } from '../../src/runtime/fault-registry.js';
import type { FaultRequest } from '../../src/faults/types.js';
import { FakeClock } from '../dataplane/fake-clock.js';

function setup() {
  const clock = new FakeClock();
  const calls: string[] = [];
  let published = 0;
  const effects: FaultEffects = {
    stopNode: async (name) => void calls.push(`stop ${name}`),
    startNode: async (name) => void calls.push(`start ${name}`),
    setPodReady: async (key, ready) => void calls.push(`ready ${key} ${String(ready)}`),
    crashPod: async (key, ms) => void calls.push(`crash ${key} ${ms}`),
    changed: () => void published++,
    log: (line) => void calls.push(`log ${line}`),
  };
  return { clock, calls, registry: new FaultRegistry(clock, effects), published: () => published };
}

const stopNode0: FaultRequest = { spec: { type: 'stop' }, target: { kind: 'node', namespace: '', name: 'node-0' }, params: {} };
const unready: FaultRequest = { spec: { type: 'unready' }, target: { kind: 'pod', namespace: 'shop', name: 'web-0' }, params: {}, forMs: 30_000 };
const reset: FaultRequest = { spec: { type: 'reset', fraction: 1 }, target: { kind: 'service', namespace: 'shop', name: 'web' }, params: { fraction: 1 } };

describe('the fault registry', () => {
  it('gives ids, applies what a fault sets and undoes it on removal', async () => {
    const { registry, calls, published } = setup();
    const fault = await registry.add(stopNode0);
    expect(fault).toMatchObject({ id: 'fault-1', type: 'stop', target: 'node/node-0', fired: 1 });
    expect(fault.expiresAt).toBeUndefined();
    expect(calls).toEqual(['stop node-0']);
    await registry.remove(fault.id);
    expect(calls).toEqual(['stop node-0', 'start node-0']);
    expect(registry.list()).toEqual([]);
    expect(published()).toBe(2);
  });

  it('expires a fault after its duration and undoes it', async () => {
    const { registry, calls, clock } = setup();
    const fault = await registry.add(unready);
    expect(Date.parse(fault.expiresAt!) - Date.parse(fault.createdAt)).toBe(30_000);
    clock.advance(29_999);
    expect(registry.list()).toHaveLength(1);
    clock.advance(1);
    await Promise.resolve();
    expect(registry.list()).toEqual([]);
    expect(calls).toEqual(['ready shop/web-0 false', 'ready shop/web-0 null']);
  });

  it('undoes a fact only when the last fault holding it goes', async () => {
    const { registry, calls } = setup();
    const a = await registry.add(stopNode0);
    const b = await registry.add(stopNode0);
    await registry.remove(a.id);
    expect(calls).toEqual(['stop node-0', 'stop node-0']);
    await registry.remove(b.id);
    expect(calls.at(-1)).toBe('start node-0');
  });

  it('counts firings and tells listeners', async () => {
    const { registry } = setup();
    const fault = await registry.add(reset);
    let changes = 0;
    registry.on('change', () => changes++);
    registry.active()[0]!.state.fire();
    registry.active()[0]!.state.fire();
    expect(registry.get(fault.id).fired).toBe(2);
    expect(changes).toBe(2);
  });

  it('answers NotFound for an unknown id and clears everything at once', async () => {
    const { registry } = setup();
    await expect(registry.remove('fault-9')).rejects.toMatchObject({ status: 404, reason: 'NotFound' });
    await registry.add(reset);
    await registry.add(reset);
    expect((await registry.clear()).map((f) => f.id)).toEqual(['fault-1', 'fault-2']);
    expect(registry.list()).toEqual([]);
  });

  it('forgets every fault at stop without undoing, and refuses new ones', async () => {
    const { registry, calls, clock } = setup();
    await registry.add(stopNode0);
    await registry.add(unready);
    registry.stop();
    clock.advance(60_000);
    expect(registry.list()).toEqual([]);
    expect(calls).toEqual(['stop node-0', 'ready shop/web-0 false']);
    await expect(registry.add(reset)).rejects.toMatchObject({ status: 503 });
  });
});
