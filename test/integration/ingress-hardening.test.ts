/**
 * Issue 13 at the ingress, end to end through the controller's LB frontend: pipelining
 * cannot multiply upstream connections, a regex path cannot stall the process, absolute-form
 * requests route by their authority, and duplicate Host headers are refused.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';
import { pipeline, RawConnection, type EchoReply } from '../helpers/ingress-client.js';

const MANIFESTS = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: store }
spec:
  replicas: 1
  selector: { matchLabels: { app: store } }
  template:
    metadata: { labels: { app: store } }
    spec:
      containers: [{ name: store, image: store, ports: [{ name: http, containerPort: 8080 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: store }
spec:
  selector: { app: store }
  ports: [{ port: 80, targetPort: http }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: admin }
spec:
  replicas: 1
  selector: { matchLabels: { app: admin } }
  template:
    metadata: { labels: { app: admin } }
    spec:
      containers: [{ name: admin, image: admin, ports: [{ name: http, containerPort: 8080 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: admin }
spec:
  selector: { app: admin }
  ports: [{ port: 80, targetPort: http }]
---
apiVersion: v1
kind: Service
metadata: { name: other }
spec:
  type: LoadBalancer
  selector: { app: admin }
  ports: [{ port: 8081, targetPort: http }]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: store }
spec:
  ingressClassName: nginx
  rules:
    - host: store.example
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: store, port: { number: 80 } } } }
    - host: admin.example
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: admin, port: { number: 80 } } } }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: redos
  annotations: { nginx.ingress.kubernetes.io/use-regex: "true" }
spec:
  ingressClassName: nginx
  rules:
    - host: redos.example
      http:
        paths:
          - { path: "/(a+)+$", pathType: ImplementationSpecific, backend: { service: { name: store, port: { number: 80 } } } }
`;

/** IPv4 `a.b.c.d:port` as /proc/net/tcp writes it (little-endian hex). */
function procHex(address: string): string {
  const [ip = '', port = ''] = address.split(':');
  const hex = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, '0');
  return `${ip
    .split('.')
    .reverse()
    .map((b) => hex(Number(b), 2))
    .join('')}:${hex(Number(port), 4)}`;
}

/**
 * The client-side ends of every TCP socket (any state, TIME_WAIT too) between `from`
 * addresses and `to`. The netns also holds the probes' TIME_WAIT sockets: only lines
 * naming `to` are split.
 */
function upstreamSockets(from: ReadonlySet<string>, to: string): string[] {
  const target = procHex(to);
  const sources = new Set([...from].map((ip) => procHex(`${ip}:0`).split(':')[0]!));
  const ends: string[] = [];
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n')) {
    if (!line.includes(target)) continue;
    const [, local = '', remote = ''] = line.trim().split(/\s+/);
    const peer = local === target ? remote : remote === target ? local : '';
    if (sources.has(peer.split(':')[0]!)) ends.push(peer);
  }
  return ends;
}

/** Writes `request` and resolves with everything read until the server closes. */
function untilClose(ip: string, port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: ip, port }, () => socket.write(request));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

let cluster: Cluster;
let ingressIP: string;

beforeAll(async () => {
  cluster = await startCluster({ manifests: MANIFESTS, config: { addresses: addressBlock(9) }, timeScale: 1 / 20 });
  await cluster.waitFor((s) => s.pods.every((p) => p.ready), { what: 'every pod to be Ready' });
  ingressIP = cluster.service('ingress-nginx-controller', 'ingress-nginx').loadBalancerIP!;
});
afterAll(() => cluster?.stop());

function otherProbes() {
  return cluster.probeStatus().filter((p) => p.probe.endsWith('-TCP-8081'));
}

describe('pipelined requests on one client connection', () => {
  it('are proxied one at a time and in order: 1 MiB of GETs opens a bounded number of upstream sockets', { timeout: 120_000 }, async () => {
    await expect.poll(() => otherProbes().length > 0 && otherProbes().every((p) => p.state === 'up'), { timeout: 10_000 }).toBe(true);
    const store = cluster.pods({ app: 'store' })[0]!;
    const controllers = new Set(cluster.pods({}, 'ingress-nginx').map((p) => p.ip));
    const target = `${store.ip}:8080`;
    const pad = 'x'.repeat(200);
    const one = (i: number): string => `GET /p/${i} HTTP/1.1\r\nHost: store.example\r\nX-Pad: ${pad}\r\n\r\n`;
    const count = Math.ceil((1 << 20) / one(0).length);
    const requests = Array.from({ length: count }, (_, i) => one(i));
    const before = new Set(upstreamSockets(controllers, target));
    const rssBefore = process.memoryUsage().rss;
    const seen = new Set<string>();
    let peakRss = rssBefore;
    let probesDown = 0;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      probesDown += otherProbes().filter((p) => p.state !== 'up').length;
    }, 100);
    let replies;
    try {
      replies = await pipeline(ingressIP, 80, requests);
    } finally {
      clearInterval(sampler);
    }
    // Every socket opened since `before` is still open or in TIME_WAIT (60 s) on one side.
    for (const end of upstreamSockets(controllers, target)) if (!before.has(end)) seen.add(end);
    expect(replies).toHaveLength(count);
    replies.forEach((reply, i) => {
      expect(reply.status).toBe(200);
      expect((JSON.parse(reply.body) as EchoReply).path).toBe(`/p/${i}`);
    });
    // One client connection: one request upstream at a time, on a kept-alive connection.
    expect(seen.size).toBeGreaterThanOrEqual(1);
    expect(seen.size).toBeLessThanOrEqual(2);
    expect(probesDown).toBe(0);
    // Issue 13 saw 110 → 375 MB for this flood; what a client can queue is now one 64 KiB read.
    expect(peakRss - rssBefore).toBeLessThan(150 * 1024 * 1024);
  });
});

describe('the request-target and Host', () => {
  it('routes an absolute-form request by its authority and proxies origin-form, as nginx does', async () => {
    const conn = await RawConnection.open(ingressIP, 80);
    try {
      const reply = await conn.exchange('GET http://ADMIN.example:80/x?y=1 HTTP/1.1\r\nHost: store.example\r\n\r\n');
      expect(reply.status).toBe(200);
      const seen = JSON.parse(reply.body) as EchoReply;
      expect(seen.pod).toMatch(/^admin-/);
      expect(seen.path).toBe('/x?y=1');
      // The Host header goes upstream unchanged ($http_host), as ingress-nginx sends it.
      expect(seen.host).toBe('store.example');
      const plain = await conn.exchange('GET /x HTTP/1.1\r\nHost: store.example\r\n\r\n');
      expect((JSON.parse(plain.body) as EchoReply).pod).toMatch(/^store-/);
    } finally {
      conn.close();
    }
  });

  it('answers 400 and closes to two Host headers and to a request-target nginx does not accept', async () => {
    for (const request of [
      'GET / HTTP/1.1\r\nHost: store.example\r\nHost: admin.example\r\n\r\n',
      'GET * HTTP/1.1\r\nHost: store.example\r\n\r\n',
      'GET http://a b/ HTTP/1.1\r\nHost: store.example\r\n\r\n',
      'GET http://[x/ HTTP/1.1\r\nHost: store.example\r\n\r\n',
      'GET store.example:80 HTTP/1.1\r\nHost: store.example\r\n\r\n',
    ]) {
      // Read to the close: Node's own parser refuses some of these itself (a 400 without a body).
      const answer = await untilClose(ingressIP, 80, request);
      expect(answer, request).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer.toLowerCase(), request).toContain('connection: close');
    }
  });
});

describe('a regex path that backtracks catastrophically in a backtracking engine', () => {
  it('answers at once (RE2), and other Services keep serving meanwhile', async () => {
    const conn = await RawConnection.open(ingressIP, 80);
    const other = await RawConnection.open(ingressIP, 80);
    try {
      // Issue 13: 7 s for 31 bytes with RegExp, and everything else stalled; these are far longer.
      for (const n of [30, 5000]) {
        const [miss, elsewhere] = await Promise.all([
          conn.exchange(`GET /${'a'.repeat(n)}! HTTP/1.1\r\nHost: redos.example\r\n\r\n`),
          other.exchange('GET /still-here HTTP/1.1\r\nHost: store.example\r\n\r\n'),
        ]);
        expect(miss.status).toBe(404);
        expect((JSON.parse(elsewhere.body) as EchoReply).path).toBe('/still-here');
      }
      const hit = await conn.exchange(`GET /${'a'.repeat(5000)} HTTP/1.1\r\nHost: redos.example\r\n\r\n`);
      expect(hit.status).toBe(200);
    } finally {
      conn.close();
      other.close();
    }
  });
});

describe('ingress annotation values', () => {
  it('are checked before start as the admission webhook would: every bad one reported at once, with the Ingress and annotation', async () => {
    const annotations: Record<string, string> = {
      'proxy-connect-timeout': '5s',
      'proxy-read-timeout': '-1',
      'proxy-body-size': '8 megabytes',
      'canary-weight': 'half',
      'ssl-redirect': 'maybe',
      'backend-protocol': 'gopher',
      'whitelist-source-range': '10.0.0.0/8, 300.1.1.1/32',
      'custom-http-errors': '404,5xx',
      affinity: 'ip',
      'session-cookie-samesite': 'sometimes',
      'default-backend': 'Not_A_Service',
    };
    const yaml = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: knobs
  annotations:
${Object.entries(annotations)
  .map(([k, v]) => `    nginx.ingress.kubernetes.io/${k}: ${JSON.stringify(v)}`)
  .join('\n')}
spec:
  ingressClassName: nginx
  rules:
    - host: knobs.example
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: x, port: { number: 80 } } } }
---
apiVersion: v1
kind: Service
metadata: { name: x }
spec:
  type: NodePort
  ports: [{ port: 80, nodePort: 80 }]
`;
    // Block 9 is this file's running cluster: a manifest set that fails validation binds nothing.
    const err = await startCluster({ manifests: yaml, config: { addresses: addressBlock(9) } }).then(
      (c) => c.stop().then(() => new Error('started')),
      (e: Error & { code?: string }) => e,
    );
    expect(err).toMatchObject({ code: 'AKS_EMU_MANIFEST_INVALID' });
    const message = err.message;
    // The Service's error comes in the same pass.
    expect(message).toContain('spec.ports[0].nodePort');
    for (const [name, value] of Object.entries(annotations)) {
      expect(message).toContain(
        `The Ingress "knobs" is invalid: metadata.annotations[nginx.ingress.kubernetes.io/${name}]: Invalid value: ${JSON.stringify(value)}`,
      );
    }
  });
});
