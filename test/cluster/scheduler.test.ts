import { describe, expect, it } from 'vitest';
import { nodeSpecs } from '../../src/cluster/nodes.js';
import { schedule } from '../../src/cluster/scheduler.js';
import { desiredPods } from '../../src/cluster/workload-pods.js';
import type { Workload } from '../../src/model/types.js';
import { config, deployment, manifests, workload } from './factories.js';

const nodes = nodeSpecs(config());
const podsOf = (...workloads: Workload[]) => desiredPods(manifests({ workloads }), nodes);
const nodeCounts = (placements: ReturnType<typeof schedule>) => {
  const counts: Record<string, number> = {};
  for (const p of Object.values(placements.pods)) if (p.nodeName) counts[p.nodeName] = (counts[p.nodeName] ?? 0) + 1;
  return counts;
};

describe('scheduler', () => {
  it('spreads replicas over the least-loaded nodes, ties broken by node order', () => {
    const pods = podsOf(deployment('web', { replicas: 4 }));
    const result = schedule(pods, nodes);
    expect(pods.map((p) => result.pods[`default/${p.name}`]!.nodeName)).toEqual(['node-0', 'node-1', 'node-2', 'node-0']);
  });

  it('spreads the replicas of one owner even when other pods load the nodes unevenly', () => {
    const pinned = podsOf(workload('Pod', 'p1', { nodeName: 'node-0' }), workload('Pod', 'p2', { nodeName: 'node-0' }));
    const web = podsOf(deployment('web', { replicas: 3 }));
    const result = schedule([...pinned, ...web], nodes);
    expect(new Set(web.map((p) => result.pods[`default/${p.name}`]!.nodeName)).size).toBe(3);
  });

  it('hands out pod addresses from .2 of each node /24, in order', () => {
    const pods = podsOf(deployment('web', { replicas: 4 }));
    const result = schedule(pods, nodes);
    expect(pods.map((p) => result.pods[`default/${p.name}`]!.ip)).toEqual(['127.244.0.2', '127.244.1.2', '127.244.2.2', '127.244.0.3']);
    expect(result.nextPodIP).toEqual({ 'node-0': 4, 'node-1': 3, 'node-2': 3 });
  });

  it('honours nodeName and leaves a pod naming an unknown node Pending', () => {
    const result = schedule(podsOf(workload('Pod', 'here', { nodeName: 'node-2' }), workload('Pod', 'nowhere', { nodeName: 'node-9' })), nodes);
    expect(result.pods['default/here']).toMatchObject({ nodeName: 'node-2', ip: '127.244.2.2' });
    expect(result.pods['default/nowhere']!.nodeName).toBeUndefined();
    expect(result.pods['default/nowhere']!.ip).toBeUndefined();
  });

  it('honours nodeSelector and leaves pods no node fits Pending', () => {
    const fits = workload('Pod', 'fits', { nodeSelector: { 'kubernetes.io/hostname': 'node-1', 'kubernetes.io/os': 'linux' } });
    const windows = workload('Pod', 'windows', { nodeSelector: { 'kubernetes.io/os': 'windows' } });
    const result = schedule(podsOf(fits, windows), nodes);
    expect(result.pods['default/fits']!.nodeName).toBe('node-1');
    expect(result.pods['default/windows']).toEqual({
      uid: expect.any(String),
      pending: {
        reason: 'Unschedulable',
        message:
          "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. " +
          'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
      },
    });
  });

  it('runs at most max-pods pods on a node and leaves the rest Pending with the scheduler message', () => {
    const pods = podsOf(deployment('web', { replicas: 5000 }));
    const result = schedule(pods, nodes, undefined, 110);
    expect(nodeCounts(result)).toEqual({ 'node-0': 110, 'node-1': 110, 'node-2': 110 });
    const pending = Object.values(result.pods).filter((p) => p.nodeName === undefined);
    expect(pending).toHaveLength(5000 - 330);
    for (const p of pending) {
      expect(p.ip).toBeUndefined();
      expect(p.pending).toEqual({
        reason: 'Unschedulable',
        message: '0/3 nodes are available: 3 Too many pods. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
      });
    }
  });

  it('counts each node under its first failing filter, sorted as kube-scheduler sorts them', () => {
    const filler = podsOf(deployment('filler', { replicas: 30 }));
    const pinned = podsOf(workload('Pod', 'pinned', { nodeSelector: { 'kubernetes.io/hostname': 'node-2' } }));
    const result = schedule([...filler, ...pinned], nodes, undefined, 10);
    expect(result.pods['default/pinned']!.pending!.message).toBe(
      "0/3 nodes are available: 1 Too many pods, 2 node(s) didn't match Pod's node affinity/selector. " +
        'preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.',
    );
  });

  it('has kubelet reject a pod bound by spec.nodeName to a full node (OutOfpods)', () => {
    const filler = podsOf(deployment('filler', { replicas: 30 }));
    const bound = podsOf(workload('Pod', 'bound', { nodeName: 'node-0' }), workload('Pod', 'nowhere', { nodeName: 'node-9' }));
    const result = schedule([...filler, ...bound], nodes, undefined, 10);
    expect(result.pods['default/bound']!.pending).toEqual({
      reason: 'OutOfpods',
      message: "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: 10, capacity: 10",
    });
    expect(result.pods['default/nowhere']).toEqual({ uid: expect.any(String) });
  });

  it('keeps re-applied pods on their node up to max-pods and reschedules the rest', () => {
    const pods = podsOf(deployment('web', { replicas: 9 }));
    const first = schedule(pods, nodes);
    const again = schedule(pods, nodes, first, 2);
    expect(nodeCounts(again)).toEqual({ 'node-0': 2, 'node-1': 2, 'node-2': 2 });
    const kept = pods.filter((p) => again.pods[`default/${p.name}`]!.nodeName === first.pods[`default/${p.name}`]!.nodeName);
    expect(kept).toHaveLength(6);
  });

  it('puts each DaemonSet pod on its own node', () => {
    const pods = podsOf(deployment('web', { replicas: 3 }), workload('DaemonSet', 'agent'));
    const result = schedule(pods, nodes);
    const agents = pods.filter((p) => p.ownerName === 'agent').map((p) => result.pods[`default/${p.name}`]!.nodeName);
    expect(agents).toEqual(['node-0', 'node-1', 'node-2']);
  });

  it('gives hostNetwork pods the node address without using a pod address', () => {
    const result = schedule(
      podsOf(workload('Pod', 'host', { hostNetwork: true, nodeName: 'node-1' }), workload('Pod', 'after', { nodeName: 'node-1' })),
      nodes,
    );
    expect(result.pods['default/host']!.ip).toBe('127.224.0.5');
    expect(result.pods['default/after']!.ip).toBe('127.244.1.2');
  });

  it('keeps node and address of pods placed before, and places new ones around them', () => {
    const first = schedule(podsOf(deployment('web', { replicas: 2 })), nodes);
    const pods = podsOf(deployment('web', { replicas: 2 }), deployment('api', { replicas: 1 }));
    const second = schedule(pods, nodes, first);
    for (const [key, placement] of Object.entries(first.pods)) expect(second.pods[key]).toEqual(placement);
    const api = pods.find((p) => p.ownerName.startsWith('api'))!;
    expect(second.pods[`default/${api.name}`]).toMatchObject({ nodeName: 'node-2', ip: '127.244.2.2' });
  });

  it('continues after the last address handed out instead of reusing a released one', () => {
    const first = schedule(podsOf(workload('Pod', 'a', { nodeName: 'node-0' })), nodes);
    const second = schedule(podsOf(workload('Pod', 'b', { nodeName: 'node-0' })), nodes, first);
    expect(second.pods['default/b']!.ip).toBe('127.244.0.3');
    expect(second.pods['default/a']).toBeUndefined();
  });

  it('moves a pod whose node no longer fits', () => {
    const first = schedule(podsOf(workload('Pod', 'a', { nodeName: 'node-0' })), nodes);
    const second = schedule(podsOf(workload('Pod', 'a', { nodeName: 'node-1' })), nodes, first);
    expect(second.pods['default/a']).toMatchObject({ nodeName: 'node-1', ip: '127.244.1.2' });
  });

  it('leaves pods Pending once a node has no pod address left', () => {
    const many = podsOf(deployment('web', { replicas: 254, nodeName: 'node-0' }));
    const result = schedule(many, nodes);
    expect(nodeCounts(result)).toEqual({ 'node-0': 253 });
    expect(Object.values(result.pods).filter((p) => p.nodeName === undefined)).toHaveLength(1);
  });
});
