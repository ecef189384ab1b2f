import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';
import { kubectl, kubectlAvailable, kubectlOk, tempKubeconfig } from '../helpers/kubectl.js';
import { echo } from '../helpers/net.js';
import { webApp } from '../helpers/web-manifests.js';

const START = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: api }
spec:
  replicas: 2
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api, tier: backend } }
    spec:
      containers: [{ name: api, image: example/api:1, ports: [{ containerPort: 8080 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: api }
spec:
  selector: { app: api }
  ports: [{ port: 80, targetPort: 8080 }]
`;

const WEB = `
${webApp({ replicas: 2, image: 'example/web:1', containerPorts: '[{ containerPort: 8080 }]', readiness: true, type: 'LoadBalancer', servicePorts: '[{ port: 80, targetPort: 8080 }]' })}
`;

const BAD = `
apiVersion: v1
kind: Service
metadata: { name: bad }
spec:
  type: NodePort
  selector: { app: web }
  ports: [{ port: 80, nodePort: 29999 }]
`;

describe.runIf(kubectlAvailable())('kubectl against aks-emu', () => {
  let cluster: Cluster;
  let config: string;
  const k = (...args: string[]) => kubectl(config, args);
  const ok = (...args: string[]) => kubectlOk(config)(...args);

  beforeAll(async () => {
    cluster = await startCluster({ manifests: START, config: { addresses: addressBlock(16), ingress: { enabled: false } }, timeScale: 1 / 50 });
    config = tempKubeconfig(cluster.adminUrl!, cluster.adminToken!);
  });
  afterAll(() => cluster?.stop());

  it('lists Services with the columns kubectl shows, and pods with -o wide', async () => {
    const svc = await ok('get', 'svc', '-A');
    expect(svc.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/);
    expect(svc).toMatch(new RegExp(`default\\s+api\\s+ClusterIP\\s+${cluster.service('api').clusterIP.replace(/\./g, '\\.')}\\s+<none>\\s+80/TCP`));
    const pods = await ok('get', 'pods', '-o', 'wide', '-l', 'app=api');
    const pod = cluster.pods({ app: 'api' })[0]!;
    expect(pods).toMatch(new RegExp(`${pod.name}\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+${pod.ip.replace(/\./g, '\\.')}\\s+${pod.nodeName}`));
    expect(await ok('get', 'nodes')).toContain(cluster.nodes[0]!.name);
  });

  it('honours label and field selectors', async () => {
    const names = async (...args: string[]) => (await ok('get', 'pods', '-o', 'name', ...args)).trim().split('\n').filter(Boolean).sort();
    const api = cluster
      .pods({ app: 'api' })
      .map((p) => `pod/${p.name}`)
      .sort();
    expect(await names('-l', 'app in (api,other),tier=backend')).toEqual(api);
    expect(await names('-l', 'app!=api')).toEqual([]);
    expect(await names('-l', '!tier')).toEqual([]);
    expect(await names('-l', 'tier', '--field-selector', `spec.nodeName=${cluster.pods({ app: 'api' })[0]!.nodeName}`)).toContain(api[0]);
    expect(await names('--field-selector', 'status.phase!=Running')).toEqual([]);
  });

  it('applies, scales, waits, restarts and deletes a Deployment', async () => {
    const applied = await kubectl(config, ['apply', '-f', '-'], WEB);
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toContain('deployment.apps/web created');
    expect(applied.stdout).toContain('service/web created');
    const ip = (await ok('get', 'svc', 'web', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}')).trim();
    expect(ip).toMatch(/^127\./);
    await ok('wait', '--for=condition=Ready', 'pod', '-l', 'app=web', '--timeout=30s');
    await cluster.waitFor(() => cluster.serving(), { what: 'web serving' });
    const answer = await echo(`http://${ip}:80/`);
    expect(cluster.pods({ app: 'web' }).map((p) => p.name)).toContain(answer.pod);

    expect(await ok('scale', 'deploy/web', '--replicas', '4')).toContain('deployment.apps/web scaled');
    await ok('wait', '--for=condition=Ready', 'pod', '-l', 'app=web', '--timeout=30s');
    expect((await ok('get', 'pods', '-l', 'app=web', '-o', 'name')).trim().split('\n')).toHaveLength(4);
    expect(await ok('get', 'deploy', 'web')).toMatch(/web\s+4\/4\s+4\s+4/);

    const before = cluster.pods({ app: 'web' }).map((p) => p.name);
    await ok('rollout', 'restart', 'deploy/web');
    await ok('rollout', 'status', 'deploy/web', '--timeout=30s');
    const after = cluster.pods({ app: 'web' }).map((p) => p.name);
    expect(after).toHaveLength(4);
    expect(after.filter((n) => before.includes(n))).toEqual([]);

    expect(await ok('describe', 'svc', 'web')).toMatch(/LoadBalancer Ingress:\s+127\./);
    await ok('delete', 'deploy', 'web');
    expect(cluster.pods({ app: 'web' })).toEqual([]);
    expect((await k('get', 'pods', '-l', 'app=web')).stderr).toContain('No resources found');
    await ok('delete', 'svc', 'web');
  });

  it('rejects an invalid object in Kubernetes words and changes nothing', async () => {
    const version = cluster.snapshot.version;
    const services = cluster.snapshot.services.length;
    const r = await kubectl(config, ['apply', '-f', '-'], BAD);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'The Service "bad" is invalid: spec.ports[0].nodePort: Invalid value: 29999: provided port is not in the valid range. The range of valid ports is 30000-32767',
    );
    expect((await k('get', 'svc', 'bad')).stderr).toContain('services "bad" not found');
    expect(cluster.snapshot.services).toHaveLength(services);
    expect(cluster.snapshot.version).toBe(version);
  });

  it('labels and annotates, and streams changes to get -w', async () => {
    const watch = spawn('kubectl', ['--kubeconfig', config, '--cache-dir', join(config, '..', 'cache'), 'get', 'svc', '-w', '-l', 'watched=yes']);
    let out = '';
    watch.stdout.on('data', (c) => (out += c));
    try {
      await ok('label', 'svc', 'api', 'watched=yes');
      await ok('annotate', 'svc', 'api', 'note=hello');
      await expect.poll(() => out, { timeout: 20_000 }).toMatch(/api\s+ClusterIP/);
      expect(await ok('get', 'svc', 'api', '-o', 'jsonpath={.metadata.annotations.note}')).toBe('hello');
    } finally {
      watch.kill();
    }
  });

  it("shows a Secret's values when read by name and leaves them out of lists", async () => {
    const secret = await kubectl(config, ['apply', '-f', '-'], 'apiVersion: v1\nkind: Secret\nmetadata: { name: creds }\nstringData: { password: hunter2 }\n');
    expect(secret.stderr).toBe('');
    expect(Buffer.from(await ok('get', 'secret', 'creds', '-o', 'jsonpath={.data.password}'), 'base64').toString()).toBe('hunter2');
    const list = (await (await fetch(`${cluster.adminUrl}/api/v1/namespaces/default/secrets`)).json()) as {
      items: { metadata: { name: string }; data: Record<string, string> }[];
    };
    expect(list.items.find((i) => i.metadata.name === 'creds')!.data).toEqual({ password: '' });
  });

  it('refuses protobuf of a kind it does not decode with a 415 that says what to do instead', async () => {
    const r = await k('create', 'ingress', 'gen', '--rule=gen.example.com/=api:80');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'aks-emu reads protobuf only for v1/Namespace, v1/ConfigMap, v1/Secret, v1/Service, apps/v1/Deployment, not networking.k8s.io/v1/Ingress',
    );
    expect((await k('get', 'ing', 'gen')).stderr).toContain('not found');
  });

  it('answers an unknown resource type and a missing object as kubectl expects', async () => {
    expect((await k('get', 'gizmos')).stderr).toContain('the server doesn\'t have a resource type "gizmos"');
    expect((await k('get', 'svc', 'nope')).stderr).toContain('Error from server (NotFound): services "nope" not found');
  });
});
