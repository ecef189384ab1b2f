import { describe, expect, it } from 'vitest';
import { nodeInfos, nodeSpecs } from '../../src/cluster/nodes.js';
import { podInfos } from '../../src/cluster/pod-info.js';
import { schedule } from '../../src/cluster/scheduler.js';
import { desiredPods } from '../../src/cluster/workload-pods.js';
import type { Workload } from '../../src/model/types.js';
import { config, container, manifests, probeSpec, workload } from './factories.js';

const cfg = config();
const plain = workload('Pod', 'plain', { nodeName: 'node-0' });
const probed = workload('Pod', 'probed', { nodeName: 'node-1', containers: [container('app', [], { readinessProbe: probeSpec() })] });

function infos(workloads: Workload[], facts: { stoppedNodes?: string[]; notReadyNodes?: string[]; podReadiness?: Record<string, boolean> } = {}) {
  const pods = desiredPods(manifests({ workloads }), nodeSpecs(cfg));
  const nodes = nodeInfos(cfg, { stoppedNodes: facts.stoppedNodes ?? [], notReadyNodes: facts.notReadyNodes ?? [] });
  return podInfos(pods, schedule(pods, nodeSpecs(cfg)).pods, nodes, { podReadiness: facts.podReadiness ?? {} });
}
const readiness = (list: ReturnType<typeof infos>) => Object.fromEntries(list.map((p) => [p.name, p.ready]));

describe('pod readiness', () => {
  it('makes a pod without readinessProbe ready at once, and a probed one only after a passing result', () => {
    expect(readiness(infos([plain, probed]))).toEqual({ plain: true, probed: false });
    expect(readiness(infos([plain, probed], { podReadiness: { 'default/probed': true } }))).toEqual({ plain: true, probed: true });
  });

  it('lets a forced false make a pod without a probe unready', () => {
    expect(readiness(infos([plain], { podReadiness: { 'default/plain': false } }))).toEqual({ plain: false });
  });

  it('keeps pods of a stopped node Ready until the node goes NotReady, then makes them unready', () => {
    expect(readiness(infos([plain, probed], { stoppedNodes: ['node-0'], podReadiness: { 'default/probed': true } }))).toEqual({ plain: true, probed: true });
    expect(readiness(infos([plain], { stoppedNodes: ['node-0'], notReadyNodes: ['node-0'] }))).toEqual({ plain: false });
    expect(readiness(infos([probed], { notReadyNodes: ['node-1'], podReadiness: { 'default/probed': true } }))).toEqual({ probed: false });
  });

  it('shows unschedulable pods Pending, without node or address, never ready', () => {
    const [pod] = infos([workload('Pod', 'lost', { nodeName: 'nowhere' })]);
    expect(pod).toMatchObject({ phase: 'Pending', nodeName: '', ip: '', ready: false });
  });

  it('runs every pod on the echo runtime when no registry chooses', () => {
    expect(infos([plain]).map((p) => [p.phase, p.runtime, p.ip])).toEqual([['Running', { kind: 'echo' }, '127.244.0.2']]);
  });
});
