import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';
import { connectOutcome, echo, httpGet } from '../helpers/net.js';

// One pod only, pinned to the first node: the other two nodes have no local endpoint.
const MANIFESTS = `
apiVersion: v1
kind: Pod
metadata: { name: solo, labels: { app: solo } }
spec:
  nodeName: aks-nodepool1-12345678-vmss000000
  containers:
    - name: app
      image: app
      ports: [{ containerPort: 8080 }]
      readinessProbe:
        httpGet: { path: /readyz, port: 8080 }
        periodSeconds: 1
        failureThreshold: 1
---
apiVersion: v1
kind: Service
metadata: { name: local }
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: { app: solo }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata:
  name: private
  annotations:
    service.beta.kubernetes.io/azure-load-balancer-internal: "true"
spec:
  type: LoadBalancer
  selector: { app: solo }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata: { name: allow-list }
spec:
  type: LoadBalancer
  loadBalancerSourceRanges: [127.99.0.0/16]
  selector: { app: solo }
  ports: [{ port: 80, targetPort: 8080 }]
`;

describe('traffic policies through the emulated LB', () => {
  let cluster: Cluster;
  const addresses = addressBlock(3);

  beforeAll(async () => {
    cluster = await startCluster({ manifests: MANIFESTS, config: { addresses }, timeScale: 1 / 20, seed: 11 });
    await cluster.waitFor((s) => s.pods.every((p) => p.ready), { what: 'the readiness probe to pass' });
    // ETP Local: the probe must take out the two nodes without a local pod.
    for (const node of cluster.nodes.slice(1)) await cluster.waitForProbe(node.name, 'down', { service: 'local' });
  });
  afterAll(() => cluster?.stop());

  it('preserves the client address under externalTrafficPolicy Local, through the LB', async () => {
    for (let i = 0; i < 4; i++) {
      const seen = await echo(cluster.service('local').url());
      expect(seen.remoteAddress).toBe('127.0.0.1');
      expect(seen.node).toBe(cluster.nodes[0]!.name);
    }
  });

  it('drops at a node without a local endpoint: the connection stays silent', async () => {
    const local = cluster.service('local');
    const res = httpGet(`http://${cluster.nodes[1]!.address}:${local.nodePort()}/`, { timeoutMs: 300 });
    await expect(res).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('answers the healthCheckNodePort as kube-proxy does on each node', async () => {
    const info = cluster.service('local').info;
    const hc = info.healthCheckNodePort!;
    const withPod = await httpGet(`http://${cluster.nodes[0]!.address}:${hc}/healthz`);
    expect(withPod.status).toBe(200);
    expect(withPod.headers['content-type']).toBe('application/json');
    expect(withPod.headers['x-content-type-options']).toBe('nosniff');
    expect(JSON.parse(withPod.body)).toEqual({ service: { namespace: 'default', name: 'local' }, localEndpoints: 1, serviceProxyHealthy: true });
    const without = await httpGet(`http://${cluster.nodes[2]!.address}:${hc}/anything`);
    expect(without.status).toBe(503);
    expect(JSON.parse(without.body).localEndpoints).toBe(0);
  });

  it('gives an internal LB a frontend from the node subnet and a public one from the public range', () => {
    const subnet = addresses.nodeSubnet.split('.').slice(0, 2).join('.');
    const pub = addresses.publicFrontends.split('.').slice(0, 2).join('.');
    expect(cluster.service('private').loadBalancerIP).toMatch(new RegExp(`^${subnet.replace('.', '\\.')}\\.`));
    expect(cluster.service('local').loadBalancerIP).toMatch(new RegExp(`^${pub.replace('.', '\\.')}\\.`));
    const lbs = cluster.snapshot.loadBalancers.map((lb) => [lb.name, lb.internal]);
    expect(lbs).toEqual(
      expect.arrayContaining([
        ['kubernetes', false],
        ['kubernetes-internal', true],
      ]),
    );
  });

  it('lets only loadBalancerSourceRanges clients through the frontend', async () => {
    const svc = cluster.service('allow-list');
    expect(await connectOutcome(svc.loadBalancerIP!, 80)).not.toBe('connected');
    const seen = await echo(svc.url(), { localAddress: '127.99.0.7' });
    expect(seen.pod).toBe('solo');
    // NodePorts are not filtered by the source ranges.
    expect((await echo(`http://${cluster.nodes[0]!.address}:${svc.nodePort()}/`)).pod).toBe('solo');
  });

  it('takes an unready pod out of the endpoints and refuses, then brings it back', async () => {
    await cluster.setPodReady('solo', false);
    await cluster.waitFor((s) => !s.pods[0]!.ready);
    expect(await connectOutcome(cluster.nodes[0]!.address, cluster.service('private').nodePort())).toBe('ECONNREFUSED');
    await cluster.setPodReady('solo', null);
    await cluster.waitFor((s) => s.pods[0]!.ready, { what: 'the probe to pass again' });
    expect((await echo(cluster.service('private').url())).pod).toBe('solo');
  });
});

describe('a real-world manifest set', () => {
  it('starts the AKS store demo and serves its store-front through the LB', async () => {
    const cluster = await startCluster({
      files: new URL('../fixtures/manifests/aks-store-all-in-one.yaml', import.meta.url).pathname,
      config: { addresses: addressBlock(4), ingress: { enabled: false } },
      timeScale: 1 / 20,
    });
    try {
      await cluster.waitFor((s) => s.pods.every((p) => p.ready), { what: 'every store pod to be Ready' });
      const front = cluster.service('store-front');
      expect(front.info.type).toBe('LoadBalancer');
      expect((await echo(front.url())).pod).toMatch(/^store-front-/);
    } finally {
      await cluster.stop();
    }
  });
});
