import { describe, expect, it } from 'vitest';
import { nodeSpecs } from '../../src/cluster/nodes.js';
import { desiredPods } from '../../src/cluster/workload-pods.js';
import { config, container, deployment, manifests, workload } from './factories.js';

const nodes = nodeSpecs(config());
const NAME_ALPHABET = /^[bcdfghjklmnpqrstvwxz2456789]+$/;

describe('pods of workloads', () => {
  it('names Deployment pods <deployment>-<10-char hash>-<5-char suffix> and labels them with pod-template-hash', () => {
    const pods = desiredPods(manifests({ workloads: [deployment('web', { replicas: 3 })] }), nodes);
    expect(pods).toHaveLength(3);
    const [rs, hash] = /^(web-([a-z0-9]{10}))-[a-z0-9]{5}$/.exec(pods[0]!.name)!.slice(1);
    expect(hash).toMatch(NAME_ALPHABET);
    for (const pod of pods) {
      expect(pod.name).toMatch(new RegExp(`^${rs}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      expect(pod).toMatchObject({ ownerKind: 'ReplicaSet', ownerName: rs, labels: { app: 'web', 'pod-template-hash': hash } });
    }
    expect(new Set(pods.map((p) => p.name)).size).toBe(3);
  });

  it('derives the same names from the same manifests', () => {
    const a = desiredPods(manifests({ workloads: [deployment('web', { replicas: 2 })] }), nodes);
    const b = desiredPods(manifests({ workloads: [deployment('web', { replicas: 2 })] }), nodes);
    expect(a.map((p) => [p.name, p.uid])).toEqual(b.map((p) => [p.name, p.uid]));
  });

  it('changes the pod-template-hash when the pod template changes, as a rollout does', () => {
    const a = desiredPods(manifests({ workloads: [deployment('web')] }), nodes);
    const b = desiredPods(manifests({ workloads: [deployment('web', { containers: [container('app', [{ containerPort: 9090 }])] })] }), nodes);
    expect(a[0]!.name.slice(0, 14)).not.toBe(b[0]!.name.slice(0, 14));
  });

  it('names ReplicaSet pods <rs>-<5 chars>', () => {
    const [pod] = desiredPods(manifests({ workloads: [workload('ReplicaSet', 'front')] }), nodes);
    expect(pod!.name).toMatch(/^front-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('names StatefulSet pods by ordinal', () => {
    const pods = desiredPods(manifests({ workloads: [workload('StatefulSet', 'db', { replicas: 3 })] }), nodes);
    expect(pods.map((p) => p.name)).toEqual(['db-0', 'db-1', 'db-2']);
    expect(pods[1]!.labels['statefulset.kubernetes.io/pod-name']).toBe('db-1');
  });

  it('runs one DaemonSet pod on each node that matches its nodeSelector', () => {
    const all = desiredPods(manifests({ workloads: [workload('DaemonSet', 'agent')] }), nodes);
    expect(all.map((p) => p.boundNode)).toEqual(['node-0', 'node-1', 'node-2']);
    const one = desiredPods(manifests({ workloads: [workload('DaemonSet', 'agent', { nodeSelector: { 'kubernetes.io/hostname': 'node-1' } })] }), nodes);
    expect(one.map((p) => p.boundNode)).toEqual(['node-1']);
  });

  it('keeps a bare Pod name and uid', () => {
    const pod = workload('Pod', 'debug', { uid: '11111111-2222-4333-8444-555555555555' });
    expect(desiredPods(manifests({ workloads: [pod] }), nodes)).toMatchObject([
      { name: 'debug', uid: '11111111-2222-4333-8444-555555555555', ownerKind: 'Pod', ownerName: 'debug' },
    ]);
  });

  it('makes no pods for zero replicas', () => {
    expect(desiredPods(manifests({ workloads: [deployment('web', { replicas: 0 })] }), nodes)).toEqual([]);
  });
});
