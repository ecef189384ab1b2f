import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';
import { HTTP_AND_ECHO_PORTS, HTTP_AND_ECHO_SERVICE_PORTS, webApp } from '../helpers/web-manifests.js';

// Every pod here is an in-process echo pod, so every flow is handed over, not dialled.
const MANIFESTS = `
${webApp({ replicas: 2, image: 'example/web:1', containerPorts: HTTP_AND_ECHO_PORTS, type: 'LoadBalancer', servicePorts: HTTP_AND_ECHO_SERVICE_PORTS })}
---
apiVersion: v1
kind: Pod
metadata: { name: solo, labels: { app: solo } }
spec:
  containers: [{ name: solo, image: solo, ports: [{ containerPort: 8080 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: solo }
spec:
  selector: { app: solo }
  ports: [{ port: 80, targetPort: 8080 }]
`;

interface Seen {
  readonly pod: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** The client's own source port. */
  readonly clientPort: number;
}

/** One GET on a raw connection, so the test knows the client's source port. */
function echoFrom(host: string, port: number, localAddress?: string): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, localAddress });
    let clientPort = 0;
    const chunks: Buffer[] = [];
    socket.on('connect', () => {
      clientPort = socket.localPort ?? 0;
      socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    });
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      resolve({ ...JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)), clientPort });
    });
  });
}

/** aks_emu_lb_probe_attempts_total by how the attempts were answered. */
function probeAttempts(cluster: Cluster): { inProcess: number; socket: number } {
  const text = cluster.metrics();
  const read = (answered: string): number => {
    const line = new RegExp(`^aks_emu_lb_probe_attempts_total\\{answered="${answered}"\\} (\\d+)$`, 'm').exec(text);
    if (line === null) throw new Error(`no aks_emu_lb_probe_attempts_total{answered="${answered}"} in /metrics`);
    return Number(line[1]);
  };
  return { inProcess: read('in_process'), socket: read('socket') };
}

/** Waits (bounded) until the probers have made `attempts` more attempts than `from` counted. */
async function moreAttempts(cluster: Cluster, from: { inProcess: number; socket: number }, attempts: number) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const now = probeAttempts(cluster);
    if (now.inProcess + now.socket - from.inProcess - from.socket >= attempts) return now;
    if (Date.now() > deadline) throw new Error(`fewer than ${attempts} probe attempts in 20 s: ${JSON.stringify({ from, now })}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the embedded runtime hands flows to in-process pods with the effects of separate hops', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    // 1/600: the 4-minute idle timeout becomes 400 ms.
    cluster = await startCluster({ manifests: MANIFESTS, config: { addresses: addressBlock(20), ingress: { enabled: false } }, timeScale: 1 / 600, seed: 3 });
  });
  afterAll(() => cluster?.stop());

  it('shows the pod its node as source, the client port, and its own address through the LB', async () => {
    const web = cluster.service('web');
    const seen = await echoFrom(web.loadBalancerIP!, 80);
    const pod = cluster.pod(seen.pod);
    expect(cluster.nodes.map((n) => n.address)).toContain(seen.remoteAddress);
    expect(seen.remotePort).toBe(seen.clientPort);
    expect([seen.localAddress, seen.localPort]).toEqual([pod.ip, 8080]);
  });

  it('masquerades a pod reaching itself through its ClusterIP to its node', async () => {
    const solo = cluster.pod('solo');
    const node = cluster.nodes.find((n) => n.name === solo.nodeName)!;
    const seen = await echoFrom(cluster.service('solo').clusterIP, 80, solo.ip);
    expect([seen.pod, seen.remoteAddress, seen.localAddress]).toEqual(['solo', node.address, solo.ip]);
  });

  it('counts every LB connection and endpoint pick as dialled flows do', async () => {
    const before = cluster.stats();
    const web = cluster.service('web');
    const pods = new Set<string>();
    for (let i = 0; i < 4; i++) pods.add((await echoFrom(web.loadBalancerIP!, 80)).pod);
    expect(pods.size).toBe(2);
    const after = cluster.stats();
    const picks = (s: typeof after): number =>
      s.servicePorts
        .filter((p) => p.service === 'default/web' && p.port === 'http')
        .reduce((n, p) => n + Object.values(p.endpointPicks).reduce((a, b) => a + b, 0), 0);
    const accepted = (s: typeof after): number => s.rules.filter((r) => r.rule.endsWith('-TCP-80')).reduce((n, r) => n + r.connections, 0);
    expect(picks(after) - picks(before)).toBe(4);
    expect(accepted(after) - accepted(before)).toBe(4);
  });

  it('carries 50 MB byte-exact both ways and passes the half-close through', async () => {
    const payload = randomBytes(50 * 1024 * 1024);
    const socket = connect({ host: cluster.service('web').loadBalancerIP!, port: 9000 });
    socket.end(payload);
    // The pod ends its side once it has echoed everything after the client's FIN: iteration stops there.
    const back = createHash('sha256');
    let length = 0;
    for await (const chunk of socket as AsyncIterable<Buffer>) {
      back.update(chunk);
      length += chunk.length;
    }
    expect([length, back.digest('hex')]).toEqual([payload.length, createHash('sha256').update(payload).digest('hex')]);
  });

  it('resets an idle handed-over flow at the LB idle timeout and releases it', async () => {
    const idleTimeouts = (): number => cluster.stats().rules.reduce((n, r) => n + r.idleTimeouts, 0);
    const before = idleTimeouts();
    const socket = connect({ host: cluster.service('web').loadBalancerIP!, port: 9000 });
    await once(socket, 'connect');
    const [error] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNRESET');
    expect(idleTimeouts()).toBe(before + 1);
    await expect.poll(() => cluster.stats().activeConnections, { timeout: 5_000 }).toBe(0);
  });

  it('answers the LB probes of its echo pods in process, and opens probe sockets again while a fault sits on the path', async () => {
    // Every pod behind web is an echo pod and no fault is set: no probe needs a socket.
    const quiet = await moreAttempts(cluster, probeAttempts(cluster), 12);
    const settled = await moreAttempts(cluster, quiet, 12);
    expect(settled.socket).toBe(quiet.socket);
    expect(settled.inProcess).toBeGreaterThan(quiet.inProcess);
    const fault = await cluster.addFault({ type: 'latency', target: 'service/default/web', params: { delay: '1ms' } });
    try {
      const faulted = await moreAttempts(cluster, probeAttempts(cluster), 12);
      const later = await moreAttempts(cluster, faulted, 12);
      expect(later.socket).toBeGreaterThan(faulted.socket);
    } finally {
      await cluster.removeFault(fault.id);
    }
    expect(cluster.probeStatus().filter((s) => s.loadBalancer !== undefined && s.state !== 'up')).toEqual([]);
  });
});
