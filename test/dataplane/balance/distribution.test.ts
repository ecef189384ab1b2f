import { describe, expect, it } from 'vitest';

import { backendNode, createDistribution, type BackendNode } from '../../../src/dataplane/balance/distribution.js';

const nodes: BackendNode[] = ['node-0', 'node-1', 'node-2'].map((name, i) => backendNode(name, `10.224.0.${i + 4}`));

function flows(count: number, portOf: (i: number) => number = (i) => 40000 + i) {
  return Array.from({ length: count }, (_, i) => ({ remoteAddress: `203.0.${i >> 8}.${i & 255}`, remotePort: portOf(i) }));
}

describe('LB distribution', () => {
  it('goes round robin over the healthy nodes', () => {
    const distribution = createDistribution('round-robin', '20.1.2.3', 80);
    expect([1, 2, 3, 4].map(() => distribution.pick(nodes, {})?.name)).toEqual(['node-0', 'node-1', 'node-2', 'node-0']);
  });

  it.each(['five-tuple', 'source-ip-protocol', 'source-ip'] as const)('%s keeps a flow key on one node', (mode) => {
    const distribution = createDistribution(mode, '20.1.2.3', 80);
    const flow = { remoteAddress: '203.0.113.7', remotePort: 51000 };
    const first = distribution.pick(nodes, flow)?.name;
    for (let i = 0; i < 20; i++) expect(distribution.pick(nodes, { ...flow })?.name).toBe(first);
  });

  it.each(['source-ip-protocol', 'source-ip'] as const)('%s ignores the source port', (mode) => {
    const distribution = createDistribution(mode, '20.1.2.3', 80);
    const picks = new Set(Array.from({ length: 50 }, (_, i) => distribution.pick(nodes, { remoteAddress: '203.0.113.7', remotePort: 50000 + i })?.name));
    expect(picks.size).toBe(1);
  });

  it('five-tuple spreads the source ports of one client over the nodes', () => {
    const distribution = createDistribution('five-tuple', '20.1.2.3', 80);
    const picks = new Set(Array.from({ length: 50 }, (_, i) => distribution.pick(nodes, { remoteAddress: '203.0.113.7', remotePort: 50000 + i })?.name));
    expect(picks.size).toBe(3);
  });

  it.each(['five-tuple', 'source-ip-protocol', 'source-ip'] as const)('%s spreads clients over every node', (mode) => {
    const distribution = createDistribution(mode, '20.1.2.3', 80);
    const counts = new Map<string, number>();
    for (const flow of flows(3000)) {
      const name = distribution.pick(nodes, flow)?.name ?? '';
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    expect([...counts.values()].every((n) => n > 800)).toBe(true);
  });

  it.each(['five-tuple', 'source-ip-protocol', 'source-ip'] as const)('%s moves only the keys of a node that leaves (rendezvous)', (mode) => {
    const distribution = createDistribution(mode, '20.1.2.3', 80);
    const all = flows(1000);
    const before = all.map((flow) => distribution.pick(nodes, flow)?.name);
    const remaining = nodes.filter((n) => n.name !== 'node-1');
    const after = all.map((flow) => distribution.pick(remaining, flow)?.name);
    const moved = all.filter((_, i) => before[i] !== after[i]).length;
    const onLeaver = before.filter((name) => name === 'node-1').length;
    expect(moved).toBe(onLeaver);
    expect(after).not.toContain('node-1');
  });

  it('finds no node in an empty pool', () => {
    expect(createDistribution('five-tuple', '20.1.2.3', 80).pick([], { remoteAddress: '1.2.3.4', remotePort: 1 })).toBeUndefined();
    expect(createDistribution('round-robin', '20.1.2.3', 80).pick([], {})).toBeUndefined();
  });
});
