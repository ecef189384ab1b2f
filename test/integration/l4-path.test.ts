import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';
import { connectOutcome, echo, httpGet } from '../helpers/net.js';
import { HTTP_AND_ECHO_PORTS, HTTP_AND_ECHO_SERVICE_PORTS, webApp } from '../helpers/web-manifests.js';

const MANIFESTS = `
apiVersion: v1
kind: Pod
metadata: { name: client, labels: { app: client } }
spec:
  containers: [{ name: shell, image: busybox }]
---
${webApp({ replicas: 3, image: 'example/web:1', containerPorts: HTTP_AND_ECHO_PORTS, type: 'LoadBalancer', servicePorts: HTTP_AND_ECHO_SERVICE_PORTS })}
---
apiVersion: v1
kind: Service
metadata: { name: web-internal }
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata: { name: nothing-behind }
spec:
  type: NodePort
  selector: { app: absent }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata:
  name: sticky
  annotations:
    service.beta.kubernetes.io/azure-load-balancer-tcp-idle-timeout: "4"
spec:
  type: LoadBalancer
  sessionAffinity: ClientIP
  selector: { app: web }
  ports: [{ port: 8080, targetPort: 8080 }]
`;

describe('the embedded L4 path from manifests', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    // 1/600: the 4-minute idle timeout becomes 400 ms, the 5 s probe interval 8 ms.
    cluster = await startCluster({ manifests: MANIFESTS, config: { addresses: addressBlock(0) }, timeScale: 1 / 600, seed: 7 });
  });
  afterAll(() => cluster?.stop());

  it('spreads new connections through the LB frontend over all three pods, round robin', async () => {
    const url = cluster.service('web').url();
    const pods = [];
    for (let i = 0; i < 9; i++) pods.push((await echo(url)).pod);
    for (let i = 0; i < 9; i += 3) expect(new Set(pods.slice(i, i + 3)).size).toBe(3);
  });

  it('shows the pod the node address as source under externalTrafficPolicy Cluster', async () => {
    const nodeAddresses = cluster.nodes.map((n) => n.address);
    const seen = await echo(cluster.service('web').url());
    expect(nodeAddresses).toContain(seen.remoteAddress);
  });

  it('opens every NodePort on every node', async () => {
    const web = cluster.service('web');
    for (const node of cluster.nodes) {
      const seen = await echo(`http://${node.address}:${web.nodePort(80)}/`);
      expect(seen.pod).toMatch(/^web-/);
    }
  });

  it('refuses a ClusterIP to the host and answers it from a pod address', async () => {
    const svc = cluster.service('web-internal');
    expect(await connectOutcome(svc.clusterIP, 80)).not.toBe('connected');
    const client = cluster.pod('client');
    const seen = await echo(`http://${svc.clusterIP}/`, { localAddress: client.ip });
    expect(seen.remoteAddress).toBe(client.ip);
  });

  it('refuses at once when a Service has no endpoints', async () => {
    const svc = cluster.service('nothing-behind');
    const node = cluster.nodes[0]!;
    expect(await connectOutcome(node.address, svc.nodePort(80))).toBe('ECONNREFUSED');
    expect(await connectOutcome(svc.clusterIP, 80, { localAddress: node.address })).toBe('ECONNREFUSED');
  });

  it('keeps a client on one pod with sessionAffinity ClientIP', async () => {
    const url = cluster.service('sticky').url();
    const pods = new Set<string>();
    for (let i = 0; i < 5; i++) pods.add((await echo(url)).pod);
    expect(pods.size).toBe(1);
  });

  it('carries 50 MB byte-exact both ways through LB, node and pod', async () => {
    const web = cluster.service('web');
    const payload = randomBytes(50 * 1024 * 1024);
    const socket = connect({ host: web.loadBalancerIP!, port: 9000 });
    const received = createHash('sha256');
    let length = 0;
    socket.on('data', (c: Buffer) => {
      received.update(c);
      length += c.length;
    });
    const closed = new Promise<void>((resolve, reject) => {
      socket.on('end', () => resolve());
      socket.on('error', reject);
    });
    socket.end(payload);
    await closed;
    expect(length).toBe(payload.length);
    expect(received.digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
  });

  it('keeps bytes a client sends before the upstream is dialled, and releases flows closed at once', async () => {
    const web = cluster.service('web');
    const echoes = await Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        const socket = connect({ host: web.loadBalancerIP!, port: 9000 });
        socket.end(`hello ${i}`);
        let got = '';
        socket.on('data', (c: Buffer) => (got += c));
        return new Promise<string>((resolve, reject) => {
          socket.on('end', () => resolve(got));
          socket.on('error', reject);
        });
      }),
    );
    expect(echoes).toEqual(Array.from({ length: 40 }, (_, i) => `hello ${i}`));
    // Like a TCP health probe: connect, then close without a byte.
    await Promise.all(
      Array.from(
        { length: 20 },
        () =>
          new Promise<void>((resolve) => {
            const socket = connect({ host: web.loadBalancerIP!, port: 9000 }, () => socket.destroy());
            socket.on('close', () => resolve());
          }),
      ),
    );
    await expect.poll(() => cluster.stats().activeConnections, { timeout: 5_000 }).toBe(0);
  });

  it('resets both ends when a flow stays idle past the LB idle timeout', async () => {
    const sticky = cluster.service('sticky');
    const socket = connect({ host: sticky.loadBalancerIP!, port: 8080 });
    await new Promise((r) => socket.once('connect', r));
    const outcome = await new Promise<string>((resolve) => {
      socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      socket.on('close', () => resolve('closed'));
    });
    expect(outcome).toBe('ECONNRESET');
  });

  it('takes a stopped node out after the probe threshold and back after it starts', async () => {
    const victim = cluster.nodes[1]!.name;
    await cluster.stopNode(victim);
    await cluster.waitForProbe(victim, 'down');
    const url = cluster.service('web').url();
    for (let i = 0; i < 6; i++) {
      const res = await httpGet(url);
      expect(res.status).toBe(200);
    }
    await cluster.startNode(victim);
    await cluster.waitForProbe(victim, 'up');
  });
});

describe('startCluster with bad manifests', () => {
  it('reports the file, object and field, and leaves nothing listening', async () => {
    const bad = `apiVersion: v1
kind: Pod
metadata: { name: web, labels: { app: web } }
spec:
  containers: [{ name: web, image: web, ports: [{ containerPort: 8080 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: good }
spec:
  type: NodePort
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }]
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  type: NodePort
  selector: { app: web }
  ports: [{ port: 80, nodePort: 29999 }]
`;
    const addresses = addressBlock(1);
    await expect(startCluster({ manifests: bad, config: { addresses } })).rejects.toMatchObject({
      code: 'AKS_EMU_MANIFEST_INVALID',
      message: expect.stringContaining(
        'spec.ports[0].nodePort: Invalid value: 29999: provided port is not in the valid range. The range of valid ports is 30000-32767',
      ),
    });
    // The valid Service's NodePort on the first node (127.132.0.4) must not have been opened.
    expect(await connectOutcome('127.132.0.4', 30080)).toBe('ECONNREFUSED');
  });
});
