/**
 * Each fault kind's effect on a real client: bytes delayed, throttled or cut, flows reset
 * or held, pods hung, crashed or slow to start, ingress and HTTPRoute rules answering for
 * the backend. Lower bounds only where time is the effect (a delay is at least its
 * delay); the bandwidth row is the issue's ±20 %.
 */
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';
import { echo, httpGet } from '../helpers/net.js';
import { FAULT_MANIFESTS, outcome } from '../helpers/fault-cluster.js';
import { gatewayRoute } from '../helpers/web-manifests.js';

const MANIFESTS = `${FAULT_MANIFESTS}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web-fast
  annotations:
    nginx.ingress.kubernetes.io/proxy-read-timeout: "1"
spec:
  ingressClassName: nginx
  rules:
    - host: fast.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: { service: { name: web, port: { number: 80 } } }
---
${gatewayRoute({ gateway: 'edge', route: 'web', host: 'web.example.com', service: 'web' })}
`;

/** Sends `bytes` to a TCP echo and resolves with everything that came back and when. */
function echoBytes(
  host: string,
  port: number,
  bytes: number,
  options: { localAddress?: string } = {},
): Promise<{ received: number; firstLength: number; firstAt: number; lastAt: number; how: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, localAddress: options.localAddress });
    let received = 0;
    let firstAt = 0;
    let firstLength = 0;
    let lastAt = 0;
    socket.on('connect', () => socket.write(Buffer.alloc(bytes, 7)));
    socket.on('data', (c: Buffer) => {
      if (received === 0) {
        firstAt = performance.now();
        firstLength = c.length;
      }
      received += c.length;
      lastAt = performance.now();
      if (received >= bytes) socket.end();
    });
    let how = 'closed';
    socket.on('error', (err: NodeJS.ErrnoException) => (how = err.code ?? 'error'));
    socket.on('close', () => resolve({ received, firstLength, firstAt, lastAt, how }));
  });
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

describe('what each fault kind does to a client', () => {
  let cluster: Cluster;
  let lbIP: string;
  let url: string;

  beforeAll(async () => {
    cluster = await startCluster({ manifests: MANIFESTS, config: { addresses: addressBlock(11) }, timeScale: 1 / 20, seed: 5 });
    await cluster.waitFor((s) => s.pods.every((p) => p.ready), { what: 'every pod Ready' });
    for (const node of cluster.nodes) await cluster.waitForPool(node.name, true, { service: 'web' });
    lbIP = cluster.service('web').loadBalancerIP!;
    url = cluster.service('web').url();
  });
  afterEach(() => cluster.clearFaults());
  afterAll(() => cluster?.stop());

  it('latency holds each response at least the delay, and only on the faulted port', async () => {
    const fault = await cluster.addFault({ type: 'latency', target: 'service/default/web', params: { delay: '300ms', jitter: '20ms', port: 'http' } });
    const slow = await timed(() => echo(url));
    expect(slow.ms).toBeGreaterThanOrEqual(280);
    expect(slow.value.pod).toMatch(/^web-/);
    const bytes = await echoBytes(lbIP, 9000, 1000);
    expect(bytes.received).toBe(1000);
    expect(cluster.faults().find((f) => f.id === fault.id)!.fired).toBe(1);
  });

  it('bandwidth limits a flow to its rate within ±20 %', async () => {
    await cluster.addFault({ type: 'bandwidth', target: 'frontend/default/web', params: { rate: 200, port: 9000 } });
    const size = 300_000;
    const result = await echoBytes(lbIP, 9000, size);
    expect(result.received).toBe(size);
    // From the first chunk on: connection set-up is not the link's time.
    const rate = (size - result.firstLength) / ((result.lastAt - result.firstAt) / 1000);
    expect(rate).toBeGreaterThan(200_000 * 0.8);
    expect(rate).toBeLessThan(200_000 * 1.2);
  });

  it('a frontend fault acts on clients outside the cluster only, as in-cluster ones never reach the Azure LB', async () => {
    await cluster.addFault({ type: 'reset', target: 'frontend/default/web', params: { port: 'http' } });
    expect(await outcome(url)).toBe('ECONNRESET');
    const inside = cluster.pods({ app: 'web' })[0]!;
    expect((await echo(url, { localAddress: inside.ip })).pod).toMatch(/^web-/);
  });

  it('close-after ends the flow once that many bytes came back', async () => {
    await cluster.addFault({ type: 'close-after', target: 'nodeport/default/web', params: { bytes: 1000 } });
    const node = cluster.nodes[0]!;
    const result = await echoBytes(node.address, cluster.service('web').nodePort(9000), 5000);
    expect(result.received).toBe(1000);
  });

  it('an idle-timeout override resets a flow that went quiet', async () => {
    await cluster.addFault({ type: 'idle-timeout', target: 'frontend/default/web', params: { timeout: '200ms', port: 9000 } });
    const socket: Socket = connect({ host: lbIP, port: 9000 });
    const echoed = new Promise<void>((resolve) => socket.once('data', () => resolve()));
    const ended = new Promise<string>((resolve) => {
      socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      socket.on('close', () => resolve('closed'));
    });
    socket.write('ping');
    await echoed;
    expect(await ended).toBe('ECONNRESET');
  });

  it('SNAT exhaustion drops one client past N open flows silently (no reset, no answer), not another client', async () => {
    const fault = await cluster.addFault({ type: 'snat-exhaustion', target: 'frontend/default/web', params: { ports: 2, port: 9000 } });
    const open: Socket[] = [];
    const opened = (localAddress: string) =>
      new Promise<Socket>((resolve) => {
        const socket = connect({ host: lbIP, port: 9000, localAddress });
        socket.once('data', () => resolve(socket));
        socket.on('error', () => {});
        socket.on('connect', () => socket.write('x'));
      });
    try {
      open.push(await opened('127.0.0.1'), await opened('127.0.0.1'));
      // The third flow is never answered: its bytes go nowhere and nothing closes it.
      const third = connect({ host: lbIP, port: 9000, localAddress: '127.0.0.1' });
      open.push(third);
      let heard = '';
      third.on('data', () => (heard ||= 'data'));
      third.on('error', (err: NodeJS.ErrnoException) => (heard ||= err.code ?? 'error'));
      third.on('close', () => (heard ||= 'close'));
      third.on('connect', () => third.write('x'));
      await cluster.waitForFault(fault.id, 1);
      const other = await echoBytes(lbIP, 9000, 10, { localAddress: '127.0.0.2' });
      expect(other.received).toBe(10);
      await expect(httpGet(`http://${lbIP}:9000/`, { localAddress: '127.0.0.1', timeoutMs: 400 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      expect(heard).toBe('');
      const closed = new Promise((resolve) => open[0]!.once('close', resolve));
      open[0]!.destroy();
      await closed;
      await cluster.waitFor(() => true);
      const again = await echoBytes(lbIP, 9000, 10, { localAddress: '127.0.0.1' });
      expect(again.received).toBe(10);
    } finally {
      for (const s of open) s.destroy();
    }
  });

  it('partition takes the node out of the LB pool while clients inside reach its NodePort', async () => {
    const node = cluster.nodes[0]!;
    const fault = await cluster.addFault({ type: 'partition', target: `node/${node.name}` });
    await cluster.waitForPool(node.name, false, { service: 'web' });
    expect((await echo(`http://${node.address}:${cluster.service('web').nodePort(80)}/`)).pod).toMatch(/^web-/);
    for (let i = 0; i < 4; i++) expect(await outcome(url)).toBe('200');
    expect(cluster.faults().find((f) => f.id === fault.id)!.fired).toBeGreaterThan(0);
    await cluster.removeFault(fault.id);
    await cluster.waitForPool(node.name, true, { service: 'web' });
  });

  it('partition stalls a flow already through the node, which carries on when it heals', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ status: number; remoteAddress: string }>((resolve, reject) => {
        const req = request(url, { agent }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, remoteAddress: (JSON.parse(body) as { remoteAddress: string }).remoteAddress }));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      const first = await get();
      const node = cluster.nodes.find((n) => n.address === first.remoteAddress)!;
      const fault = await cluster.addFault({ type: 'partition', target: `node/${node.name}` });
      let answered = false;
      const second = get().then((r) => ((answered = true), r));
      await cluster.waitForPool(node.name, false, { service: 'web' });
      expect(answered).toBe(false);
      await cluster.removeFault(fault.id);
      expect(await second).toEqual({ status: 200, remoteAddress: node.address });
      await cluster.waitForPool(node.name, true, { service: 'web' });
    } finally {
      agent.destroy();
    }
  });

  it('a slow node delays what it forwards, and only that', async () => {
    const [slowNode, fastNode] = cluster.nodes;
    const fault = await cluster.addFault({ type: 'slow', target: `node/${slowNode!.name}`, params: { delay: '150ms' } });
    const nodePort = cluster.service('web').nodePort(80);
    const slow = await timed(() => echo(`http://${slowNode!.address}:${nodePort}/`));
    expect(slow.ms).toBeGreaterThanOrEqual(290);
    expect(cluster.faults()[0]!.fired).toBe(1);
    await echo(`http://${fastNode!.address}:${nodePort}/`);
    expect(cluster.faults().find((f) => f.id === fault.id)!.fired).toBe(1);
    // The ingress controller reaches pods without kube-proxy: a pod on the slow node answers it late too.
    for (const pod of cluster.pods({}, 'ingress-nginx')) await cluster.waitForPool(pod.nodeName, true, { service: 'ingress-nginx/ingress-nginx-controller' });
    const ingressIP = cluster.service('ingress-nginx-controller', 'ingress-nginx').loadBalancerIP!;
    const byNode = new Map<string, number>();
    for (let i = 0; i < 3; i++) {
      const r = await timed(() => echo(`http://${ingressIP}/`, { headers: { host: 'web.example.com' } }));
      byNode.set(r.value.node, r.ms);
    }
    expect(byNode.get(slowNode!.name)).toBeGreaterThanOrEqual(290);
  });

  it('a hung pod accepts and never answers, while its siblings do', async () => {
    const hung = cluster.pods({ app: 'web' })[1]!;
    await cluster.addFault({ type: 'hang', target: `pod/default/${hung.name}` });
    const outcomes = await Promise.all(
      [0, 1, 2].map(() =>
        httpGet(url, { timeoutMs: 1500 }).then(
          (r) => (JSON.parse(r.body) as { pod: string }).pod,
          (e: NodeJS.ErrnoException) => e.code,
        ),
      ),
    );
    expect(outcomes.filter((o) => o === 'ETIMEDOUT')).toHaveLength(1);
    expect(outcomes.filter((o) => o?.startsWith('web-'))).toHaveLength(2);
    expect(outcomes).not.toContain(hung.name);
  });

  it('a hung pod behind an ingress times out the read and the controller retries a sibling', async () => {
    for (const pod of cluster.pods({}, 'ingress-nginx')) await cluster.waitForPool(pod.nodeName, true, { service: 'ingress-nginx/ingress-nginx-controller' });
    const ingressIP = cluster.service('ingress-nginx-controller', 'ingress-nginx').loadBalancerIP!;
    const hung = cluster.pods({ app: 'web' })[0]!;
    const fault = await cluster.addFault({ type: 'hang', target: `pod/default/${hung.name}` });
    // Each controller pod round-robins over the three pods: within 12 requests one lands on the hung pod.
    const fired = () => cluster.faults().find((f) => f.id === fault.id)!.fired;
    const pods: string[] = [];
    for (let i = 0; i < 12 && fired() === 0; i++) pods.push((await echo(`http://${ingressIP}/`, { headers: { host: 'fast.example.com' } })).pod);
    expect(pods).not.toContain(hung.name);
    expect(fired()).toBeGreaterThanOrEqual(1);
  });

  it('a crashed pod drops its connections and serves again after the restart delay', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await new Promise<{ pod: string; socket: Socket }>((resolve, reject) => {
        const req = request(url, { agent }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ pod: (JSON.parse(body) as { pod: string }).pod, socket: req.socket! }));
        });
        req.on('error', reject);
        req.end();
      });
      const closed = new Promise<void>((resolve) => first.socket.once('close', () => resolve()));
      await cluster.addFault({ type: 'crash', target: `pod/default/${first.pod}`, params: { restartAfter: '300ms' } });
      await closed;
      await cluster.waitForEndpoints('web', 2);
      const meanwhile = new Set<string>();
      for (let i = 0; i < 3; i++) meanwhile.add((await echo(url)).pod);
      expect(meanwhile.has(first.pod)).toBe(false);
      await cluster.waitForEndpoints('web', 3);
      const after = new Set<string>();
      for (let i = 0; i < 3; i++) after.add((await echo(url)).pod);
      expect(after.has(first.pod)).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it('slow start delays new connections to that pod only', async () => {
    const pod = cluster.pods({ app: 'web' })[2]!;
    await cluster.addFault({ type: 'slow-start', target: `pod/default/${pod.name}`, params: { delay: '400ms', window: '1m' } });
    const times = new Map<string, number>();
    for (let i = 0; i < 3; i++) {
      const r = await timed(() => echo(url));
      times.set(r.value.pod, r.ms);
    }
    expect(times.get(pod.name)).toBeGreaterThanOrEqual(350);
  });

  it('ingress faults: a delay, an aborted response and a slow body', async () => {
    const ingressIP = cluster.service('ingress-nginx-controller', 'ingress-nginx').loadBalancerIP!;
    const host = { host: 'web.example.com' };
    // Earlier node faults took nodes out of every pool; the controller's come back on their own probes.
    for (const pod of cluster.pods({}, 'ingress-nginx')) await cluster.waitForPool(pod.nodeName, true, { service: 'ingress-nginx/ingress-nginx-controller' });
    const delay = await cluster.addFault({ type: 'delay', target: 'ingress/default/web', params: { delay: '250ms' } });
    expect((await timed(() => echo(`http://${ingressIP}/`, { headers: host }))).ms).toBeGreaterThanOrEqual(240);
    await cluster.removeFault(delay.id);
    const abort = await cluster.addFault({ type: 'abort', target: 'ingress/default/web' });
    expect(await outcome(`http://${ingressIP}/`, host)).toBe('ECONNRESET');
    await cluster.removeFault(abort.id);
    await cluster.addFault({ type: 'slow-body', target: 'ingress/default/web', params: { rate: 100 } });
    const body = await timed(() => httpGet(`http://${ingressIP}/anything?size=50000`, { headers: host }));
    expect(body.value.body.length).toBe(50_000);
    expect(body.ms).toBeGreaterThanOrEqual(400);
  });

  it('an HTTPRoute status fault answers 503 for a fraction 1 of requests through the Gateway', async () => {
    await cluster.waitFor((s) => s.gateway?.gatewayStatuses['default/edge']?.conditions.some((c) => c.type === 'Programmed' && c.status === 'True') === true, {
      what: 'Gateway default/edge Programmed',
    });
    const gw = cluster.gateway('edge').address!;
    expect(await outcome(`http://${gw}/`, { host: 'web.example.com' })).toBe('200');
    const fault = await cluster.addFault({ type: 'status', target: 'httproute/default/web', params: { code: 503, fraction: 1 } });
    expect(await outcome(`http://${gw}/`, { host: 'web.example.com' })).toBe('503');
    expect(await outcome(`http://${gw}/`, { host: 'web.example.com' })).toBe('503');
    expect((await cluster.waitForFault(fault.id, 2)).fired).toBe(2);
  });
});
