/**
 * Issue 13 at the ingress, end to end through the controller's LB frontend: pipelining
 * cannot multiply upstream connections, a regex path cannot stall the process, absolute-form
 * requests route by their authority, and duplicate Host headers are refused.
 */
import { readFileSync } from 'node:fs';
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

/** IPv4 `a.b.c.d:port` from /proc/net/tcp's little-endian hex. */
function procAddress(hex: string): string {
  const [ip = '', port = ''] = hex.split(':');
  const bytes = [6, 4, 2, 0].map((i) => parseInt(ip.slice(i, i + 2), 16));
  return `${bytes.join('.')}:${parseInt(port, 16)}`;
}

/** The controller-side ends of every TCP socket between `from` addresses and `to` (any state, TIME_WAIT too). */
function upstreamSockets(from: ReadonlySet<string>, to: string): string[] {
  const ends: string[] = [];
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const [, local = '', remote = ''] = line.trim().split(/\s+/);
    if (!local) continue;
    const l = procAddress(local);
    const r = procAddress(remote);
    if (r === to && from.has(l.split(':')[0]!)) ends.push(l);
    else if (l === to && from.has(r.split(':')[0]!)) ends.push(r);
  }
  return ends;
}

let cluster: Cluster;
let ingressIP: string;

beforeAll(async () => {
  cluster = await startCluster({ manifests: MANIFESTS, config: { addresses: addressBlock(9) }, timeScale: 1 / 100 });
  await cluster.waitFor((s) => s.pods.every((p) => p.ready), { what: 'every pod to be Ready' });
  ingressIP = cluster.service('ingress-nginx-controller', 'ingress-nginx').loadBalancerIP!;
});
afterAll(() => cluster?.stop());

function otherProbes() {
  return cluster.probeStatus().filter((p) => p.probe.endsWith('-TCP-8081'));
}

describe('pipelined requests on one client connection', () => {
  it('are proxied one at a time and in order: 1 MiB of GETs opens a bounded number of upstream sockets', async () => {
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
      for (const end of upstreamSockets(controllers, target)) if (!before.has(end)) seen.add(end);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      probesDown += otherProbes().filter((p) => p.state !== 'up').length;
    }, 20);
    let replies;
    try {
      replies = await pipeline(ingressIP, 80, requests);
    } finally {
      clearInterval(sampler);
    }
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
    expect(peakRss - rssBefore).toBeLessThan(100 * 1024 * 1024);
  });
});
