import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';
import { kubectl, kubectlAvailable, tempKubeconfig } from '../helpers/kubectl.js';
import { echo } from '../helpers/net.js';
import { webApp } from '../helpers/web-manifests.js';

const START = `
${webApp({ replicas: 3, image: 'example/web:1', containerPorts: '[{ containerPort: 8080 }]', readiness: true, type: 'LoadBalancer', servicePorts: '[{ port: 80, targetPort: 8080 }]' })}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent }
spec:
  selector: { matchLabels: { app: agent } }
  template:
    metadata: { labels: { app: agent } }
    spec:
      containers: [{ name: agent, image: example/agent:1, ports: [{ containerPort: 9000 }] }]
`;

const EXCLUDE = 'node.kubernetes.io/exclude-from-external-load-balancers';

describe.runIf(kubectlAvailable())('kubectl cordon, drain and node labels against aks-emu', () => {
  let cluster: Cluster;
  let config: string;
  const k = (...args: string[]) => kubectl(config, args);
  const ok = async (...args: string[]) => {
    const r = await k(...args);
    expect(r.stderr, `kubectl ${args.join(' ')}`).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  };
  const node = (i: number) => cluster.nodes[i]!.name;
  const webOn = (name: string) => cluster.pods({ app: 'web' }).filter((p) => p.nodeName === name);
  const lbIP = () => cluster.service('web').loadBalancerIP!;

  beforeAll(async () => {
    cluster = await startCluster({ manifests: START, nodes: 3, config: { addresses: addressBlock(29), ingress: { enabled: false } }, timeScale: 1 / 50 });
    config = tempKubeconfig(cluster.adminUrl!, cluster.adminToken!);
    await cluster.waitFor(() => cluster.serving(), { what: 'web serving' });
  });
  afterAll(() => cluster?.stop());

  it('cordon: the node shows SchedulingDisabled, keeps its pods, and a scale-up lands elsewhere', async () => {
    const n0 = node(0);
    const kept = webOn(n0).map((p) => p.name);
    expect(kept.length).toBeGreaterThan(0);
    expect(await ok('cordon', n0)).toContain(`node/${n0} cordoned`);
    expect(await ok('get', 'nodes')).toMatch(new RegExp(`${n0}\\s+Ready,SchedulingDisabled`));
    expect(await ok('get', 'node', n0, '-o', 'jsonpath={.spec.unschedulable}')).toBe('true');
    expect(await ok('get', 'events', '-A', '--field-selector', `involvedObject.name=${n0},reason=NodeNotSchedulable`)).toContain(
      `Node ${n0} status is now: NodeNotSchedulable`,
    );
    expect(webOn(n0).map((p) => p.name)).toEqual(kept);

    await ok('scale', 'deploy/web', '--replicas', '6');
    await cluster.waitFor(() => cluster.pods({ app: 'web' }).length === 6, { what: '6 web pods' });
    expect(webOn(n0).map((p) => p.name)).toEqual(kept);
    expect(cluster.pods({ app: 'web' }).filter((p) => p.nodeName === undefined)).toEqual([]);

    expect(await ok('uncordon', n0)).toContain(`node/${n0} uncordoned`);
    expect(await ok('get', 'nodes')).not.toContain('SchedulingDisabled');
    await ok('scale', 'deploy/web', '--replicas', '3');
    await cluster.waitFor(() => cluster.pods({ app: 'web' }).length === 3, { what: '3 web pods' });
  });

  it('refuses changes to node fields other than labels, annotations and unschedulable', async () => {
    const r = await k('patch', 'node', node(0), '-p', '{"spec":{"podCIDR":"10.9.9.0/24"}}');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`Node "${node(0)}" is invalid: spec.podCIDR: Forbidden: node updates may not change podCIDR`);
    const bad = await k('label', 'node', node(0), 'bad key=x');
    expect(bad.code).not.toBe(0);
    expect((await k('delete', 'node', node(0))).stderr).toContain('MethodNotAllowed');
  });

  it('drain: the pods of the node are replaced elsewhere, DaemonSet pods stay, the LB keeps answering', async () => {
    const n1 = node(1);
    await cluster.waitFor(() => webOn(n1).length > 0, { what: `a web pod on ${n1}` });
    const drained = webOn(n1).map((p) => p.name);
    const agent = cluster.pods({ app: 'agent' }).find((p) => p.nodeName === n1)!.name;
    const r = await k('drain', n1, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=60s');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`node/${n1} drained`);
    for (const name of drained) expect(r.stdout).toContain(`pod/${name} evicted`);

    expect(webOn(n1)).toEqual([]);
    const web = cluster.pods({ app: 'web' });
    expect(web).toHaveLength(3);
    expect(web.map((p) => p.name).filter((n) => drained.includes(n))).toEqual([]);
    expect(cluster.pods({ app: 'agent' }).find((p) => p.nodeName === n1)?.name).toBe(agent);
    expect((await k('get', 'pod', drained[0]!)).stderr).toContain(`pods "${drained[0]}" not found`);

    await ok('wait', '--for=condition=Ready', 'pod', '-l', 'app=web', '--timeout=30s');
    await cluster.waitFor(() => cluster.serving(), { what: 'web serving after drain' });
    for (let i = 0; i < 6; i++) expect(web.map((p) => p.name)).toContain((await echo(`http://${lbIP()}:80/`)).pod);
    await ok('uncordon', n1);
  });

  it('exclude-from-external-load-balancers takes the node out of the LB pool, and unlabelling brings it back', async () => {
    const n2 = node(2);
    const picks = () => cluster.stats().rules.reduce((sum, rule) => sum + (rule.nodePicks[n2] ?? 0), 0);
    await cluster.waitForProbe(n2, 'up', { service: 'web' });

    await ok('label', 'node', n2, `${EXCLUDE}=true`);
    await cluster.waitFor(() => cluster.probeStatus().every((p) => p.node !== n2), { what: `${n2} out of the probe set` });
    expect(cluster.snapshot.loadBalancers.every((lb) => !lb.backendPool.includes(n2))).toBe(true);
    const before = picks();
    for (let i = 0; i < 12; i++) await echo(`http://${lbIP()}:80/`);
    expect(picks()).toBe(before);

    await ok('label', 'node', n2, `${EXCLUDE}-`);
    await cluster.waitForProbe(n2, 'up', { service: 'web' });
    expect(cluster.snapshot.loadBalancers.every((lb) => lb.backendPool.includes(n2))).toBe(true);
    // A cordoned node stays in the pool: cloud-provider-azure excludes by label only.
    await ok('cordon', n2);
    expect(cluster.snapshot.loadBalancers.every((lb) => lb.backendPool.includes(n2))).toBe(true);
    await ok('uncordon', n2);
  });

  it('answers bad node writes and evictions with Kubernetes Statuses, changing nothing', async () => {
    const call = async (method: string, path: string, body: unknown, type = 'application/merge-patch+json') => {
      const res = await fetch(`${cluster.adminUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${cluster.adminToken}`, 'content-type': type },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as { reason?: string; message?: string } };
    };
    const version = cluster.snapshot.version;
    const n0 = node(0);
    expect(await call('PATCH', `/api/v1/nodes/${n0}`, { metadata: { labels: { a: 5 } } })).toMatchObject({ status: 422, body: { reason: 'Invalid' } });
    const typed = await call('PATCH', `/api/v1/nodes/${n0}`, { spec: { unschedulable: 'yes' } });
    expect(typed.body.message).toContain('spec.unschedulable: Invalid value: "yes": must be a boolean');
    expect((await call('PATCH', '/api/v1/nodes/nope', { spec: { unschedulable: true } })).body).toMatchObject({
      reason: 'NotFound',
      message: 'nodes "nope" not found',
    });
    expect((await call('PATCH', `/api/v1/nodes/${n0}`, '{not json')).status).toBe(400);
    expect((await call('POST', '/api/v1/nodes', { metadata: { name: 'extra' } }, 'application/json')).status).toBe(405);
    expect(cluster.snapshot.version).toBe(version);
    expect(cluster.nodes.every((n) => !n.unschedulable)).toBe(true);

    const evict = (name: string, body: unknown = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name } }) =>
      call('POST', `/api/v1/namespaces/default/pods/${name}/eviction`, body, 'application/json');
    expect((await evict('nope')).body).toMatchObject({ reason: 'NotFound', message: 'pods "nope" not found' });
    const pod = cluster.pods({ app: 'web' })[0]!.name;
    expect((await evict(pod, { kind: 'Pod' })).status).toBe(400);
    expect(cluster.pods({ app: 'web' }).map((p) => p.name)).toContain(pod);

    // Status in a write is the kubelet's and is ignored; the write itself is accepted.
    const statusWrite = await call('PATCH', `/api/v1/nodes/${n0}`, { status: { conditions: [] }, metadata: { annotations: { note: 'x' } } });
    expect(statusWrite.status).toBe(200);
    expect(await ok('get', 'node', n0, '-o', 'jsonpath={.metadata.annotations.note} {.status.conditions[0].type}')).toBe('x Ready');
  });
});
