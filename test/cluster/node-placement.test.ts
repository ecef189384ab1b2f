import { describe, expect, it } from 'vitest';
import { allocate } from '../../src/cluster/allocate.js';
import { buildLoadBalancers } from '../../src/cluster/loadbalancer/load-balancers.js';
import { defaultNodeMeta, excludedFromLoadBalancers, nodeSpecs, type NodeMetas } from '../../src/cluster/nodes.js';
import { schedule } from '../../src/cluster/scheduler.js';
import { desiredPods } from '../../src/cluster/workload-pods.js';
import { config, deployment, manifests, workload } from './factories.js';

const cordoned = (name: string): NodeMetas => ({ [name]: { ...defaultNodeMeta(name), unschedulable: true } });
const nodeOf = (placements: ReturnType<typeof schedule>, names: readonly string[]) => names.map((n) => placements.pods[`default/${n}`]?.nodeName);

describe('placement with cordoned nodes and evictions', () => {
  it('places no new pod on a cordoned node and keeps the pods already there', () => {
    const m = manifests({ workloads: [deployment('web', { replicas: 3 })] });
    const before = schedule(desiredPods(m, nodeSpecs(config())), nodeSpecs(config()));
    const nodes = nodeSpecs(config(), cordoned('node-0'));
    const three = desiredPods(m, nodes);
    const after = schedule(three, nodes, before);
    expect(
      nodeOf(
        after,
        three.map((p) => p.name),
      ),
    ).toEqual(
      nodeOf(
        before,
        three.map((p) => p.name),
      ),
    );

    const six = desiredPods(manifests({ workloads: [deployment('web', { replicas: 6 })] }), nodes);
    const scaled = schedule(six, nodes, before);
    const added = six.filter((p) => !three.some((q) => q.name === p.name)).map((p) => p.name);
    expect(added).toHaveLength(3);
    expect(nodeOf(scaled, added)).not.toContain('node-0');
  });

  it('keeps a placed pod on its node when the node loses the label its nodeSelector asked for (IgnoredDuringExecution)', () => {
    const pinned = workload('Pod', 'p', { nodeSelector: { 'kubernetes.io/hostname': 'node-1' } });
    const before = schedule(desiredPods(manifests({ workloads: [pinned] }), nodeSpecs(config())), nodeSpecs(config()));
    const { 'kubernetes.io/hostname': _h, ...labels } = defaultNodeMeta('node-1').labels;
    const nodes = nodeSpecs(config(), { 'node-1': { ...defaultNodeMeta('node-1'), labels } });
    expect(schedule(desiredPods(manifests({ workloads: [pinned] }), nodes), nodes, before).pods['default/p']!.nodeName).toBe('node-1');
    expect(schedule(desiredPods(manifests({ workloads: [pinned] }), nodes), nodes).pods['default/p']!.nodeName).toBeUndefined();
  });

  it('says a pod that fits nowhere else is Pending because the node was unschedulable', () => {
    const nodes = nodeSpecs(config({ nodes: ['node-0'] }), cordoned('node-0'));
    const result = schedule(desiredPods(manifests({ workloads: [workload('Pod', 'p', {})] }), nodes), nodes);
    expect(result.pods['default/p']!.pending).toEqual({
      reason: 'Unschedulable',
      message: '0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.',
    });
  });

  it('lets kubelet take a pod naming a cordoned node (spec.nodeName bypasses the scheduler)', () => {
    const nodes = nodeSpecs(config(), cordoned('node-1'));
    const result = schedule(desiredPods(manifests({ workloads: [workload('Pod', 'pinned', { nodeName: 'node-1' })] }), nodes), nodes);
    expect(result.pods['default/pinned']!.nodeName).toBe('node-1');
  });

  it("gives an evicted pod's replacement a new name, placed afresh off the cordoned node", () => {
    const m = manifests({ workloads: [deployment('web', { replicas: 3 })] });
    const first = allocate(m, config(), () => 0).allocation;
    const victim = Object.entries(first.pods).find(([, p]) => p.nodeName === 'node-0')![0];
    const facts = { nodeMeta: cordoned('node-0'), evictedPods: [victim] };
    const { [victim]: _gone, ...kept } = first.pods;
    const next = allocate(m, config(), () => 0, { ...first, pods: kept }, facts).allocation;
    expect(Object.keys(next.pods)).not.toContain(victim);
    expect(Object.keys(next.pods)).toHaveLength(3);
    expect(Object.values(next.pods).map((p) => p.nodeName)).not.toContain('node-0');
  });

  it('leaves nodes labelled exclude-from-external-load-balancers (or not managed by Azure) out of the backend pool, not cordoned ones', () => {
    const meta: NodeMetas = {
      'node-0': { ...defaultNodeMeta('node-0'), unschedulable: true },
      'node-1': {
        ...defaultNodeMeta('node-1'),
        labels: { ...defaultNodeMeta('node-1').labels, 'node.kubernetes.io/exclude-from-external-load-balancers': 'false' },
      },
    };
    const nodes = nodeSpecs(config(), meta);
    const [lb] = buildLoadBalancers([], allocate(manifests({}), config(), () => 0).allocation, config(), nodes);
    expect(lb!.backendPool).toEqual(['node-0', 'node-2']);
    expect(excludedFromLoadBalancers({ 'kubernetes.azure.com/managed': 'false' })).toBe(true);
    expect(excludedFromLoadBalancers({ 'kubernetes.azure.com/managed': 'true' })).toBe(false);
  });
});
