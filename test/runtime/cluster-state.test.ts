import { describe, expect, it } from 'vitest';
import { defaultNodeMeta } from '../../src/cluster/nodes.js';
import { defaultConfig } from '../../src/config/defaults.js';
import { parseManifests } from '../../src/manifests/index.js';
import { ClusterState } from '../../src/runtime/cluster-state.js';

const WEB = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: web, image: example/web:1 }] }
`;

function state(): ClusterState {
  const config = defaultConfig({ nodes: ['node-0', 'node-1', 'node-2'], ingress: { ...defaultConfig().ingress, enabled: false } });
  const s = new ClusterState({
    config,
    manifests: parseManifests([{ file: 'web.yaml', text: WEB }]).manifests,
    random: () => 0,
    nodesReportAtStart: true,
    onChange: () => {},
    log: () => {},
  });
  s.build();
  return s;
}

describe('ClusterState: node metadata and evictions', () => {
  it('cordons a node in the snapshot and keeps its pods there', () => {
    const s = state();
    const before = s.last!.pods.map((p) => [p.name, p.nodeName]);
    s.setNodeMeta('node-0', { ...defaultNodeMeta('node-0'), unschedulable: true });
    const snapshot = s.build();
    expect(snapshot.nodes.find((n) => n.name === 'node-0')!.unschedulable).toBe(true);
    expect(snapshot.pods.map((p) => [p.name, p.nodeName])).toEqual(before);
  });

  it('replaces an evicted pod under a new name, off the cordoned node, and refuses unknown pods and nodes', () => {
    const s = state();
    s.setNodeMeta('node-0', { ...defaultNodeMeta('node-0'), unschedulable: true });
    s.build();
    const victim = s.last!.pods.find((p) => p.nodeName === 'node-0')!;
    s.evictPod(`default/${victim.name}`);
    const pods = s.build().pods;
    expect(pods).toHaveLength(3);
    expect(pods.map((p) => p.name)).not.toContain(victim.name);
    expect(pods.filter((p) => p.nodeName === 'node-0')).toEqual([]);
    expect(() => s.evictPod('default/nope')).toThrow('pods "nope" not found in namespace "default"');
    expect(() => s.setNodeMeta('node-9', defaultNodeMeta('node-9'))).toThrow('nodes "node-9" not found');
  });
});
