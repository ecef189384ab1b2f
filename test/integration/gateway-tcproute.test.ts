/**
 * TCPRoute and TLSRoute (gateway.networking.k8s.io/v1alpha2) through a Gateway's Azure LB
 * frontend: a `protocol: TCP` listener splices each connection to a ready endpoint of the
 * route's backend, byte for byte; weights split connections; a `protocol: TLS` Passthrough
 * listener routes by the ClientHello's SNI to a TLS server whose own certificate the client
 * sees; status as Istio's controller sets it.
 *
 * Addresses: 127.250-253.0.0/16 (outside the addressBlock range, taken by no other file).
 */
import { connect } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type PeerCertificate, type Server as TlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/index.js';
import { generateSelfSignedCertificate } from '../../src/dataplane/ingress/index.js';

/** The TLS server behind the TLSRoute: outside the pod network, reached through a selectorless Service's EndpointSlice. */
const TLS_BACKEND = { ip: '127.250.250.250', port: 8443 };

const ADDRESSES = {
  nodeSubnet: '127.250.0.0/16',
  podCIDR: '127.251.0.0/16',
  serviceCIDR: '127.252.0.0/16',
  publicFrontends: '127.253.0.0/16',
};

const app = (name: string, port: string) => `---
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: tcp }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers:
        - name: app
          image: example/${name}
          ports: [{ name: ${port}, containerPort: 9000 }]
---
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: tcp }
spec:
  selector: { app: ${name} }
  ports: [{ name: ${port}, port: 7000, targetPort: 9000 }]
`;

const MANIFESTS = `apiVersion: v1
kind: Namespace
metadata: { name: tcp }
${app('bytes', 'tcp')}${app('blue', 'http')}${app('green', 'http')}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: tcp }
spec:
  gatewayClassName: istio
  listeners:
    - { name: echo, port: 9100, protocol: TCP }
    - { name: split, port: 9200, protocol: TCP }
    - { name: broken, port: 9300, protocol: TCP }
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: { name: echo, namespace: tcp }
spec:
  parentRefs: [{ name: gw, sectionName: echo }]
  rules: [{ backendRefs: [{ name: bytes, port: 7000 }] }]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: { name: split, namespace: tcp }
spec:
  parentRefs: [{ name: gw, port: 9200 }]
  rules: [{ backendRefs: [{ name: blue, port: 7000, weight: 3 }, { name: green, port: 7000, weight: 1 }] }]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: { name: broken, namespace: tcp }
spec:
  parentRefs: [{ name: gw, sectionName: broken }]
  rules: [{ backendRefs: [{ name: missing, port: 7000 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: secure, namespace: tcp }
spec: { ports: [{ name: tls, port: 8443 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: secure-1, namespace: tcp, labels: { kubernetes.io/service-name: secure } }
addressType: IPv4
endpoints: [{ addresses: ["${TLS_BACKEND.ip}"] }]
ports: [{ name: tls, port: ${TLS_BACKEND.port} }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: tls, namespace: tcp }
spec:
  gatewayClassName: istio
  listeners:
    - { name: passthrough, port: 8443, protocol: TLS, tls: { mode: Passthrough } }
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: { name: secure, namespace: tcp }
spec:
  parentRefs: [{ name: tls }]
  hostnames: ["*.secure.test"]
  rules: [{ backendRefs: [{ name: secure, port: 8443 }] }]
`;

/** A TLS handshake with `servername`; the peer certificate and the server's first line, or the error. */
function tlsHello(ip: string, servername: string): Promise<{ cert: PeerCertificate; line: string }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: ip, port: 8443, servername, rejectUnauthorized: false }, () => {
      const cert = socket.getPeerCertificate();
      socket.once('data', (d: Buffer) => {
        socket.end();
        resolve({ cert, line: d.toString('utf8') });
      });
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('closed before a reply')));
  });
}

/** Writes `data`, half-closes, and collects everything until the server closes; rejects on a reset. */
function exchange(ip: string, port: number, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: ip, port, allowHalfOpen: true }, () => socket.end(data));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      socket.end();
      resolve(Buffer.concat(chunks));
    });
  });
}

/** Like exchange, but a close without data (or a reset) resolves with what arrived. */
function exchangeTo(ip: string, port: number, data: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: ip, port }, () => socket.write(data));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => resolve(Buffer.concat(chunks)));
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

let cluster: Cluster;
let ip: string;
let tlsIp: string;
let tlsServer: TlsServer;

beforeAll(async () => {
  const pair = await generateSelfSignedCertificate({ commonName: 'backend.secure.test', dnsNames: ['*.secure.test'], keyType: 'ec' });
  tlsServer = createTlsServer({ cert: pair.certPem, key: pair.keyPem }, (s) => s.end(`hello ${s.servername ?? ''}\n`));
  await new Promise<void>((resolve) => tlsServer.listen(TLS_BACKEND.port, TLS_BACKEND.ip, resolve));
  cluster = await startCluster({ manifests: MANIFESTS, config: { addresses: ADDRESSES }, timeScale: 1 / 20, admin: false });
  await cluster.waitFor((s) => s.gateway?.gatewayStatuses['tcp/gw']?.conditions.some((c) => c.type === 'Programmed' && c.status === 'True') === true, {
    what: 'Gateway tcp/gw Programmed',
  });
  ip = cluster.gateway('gw', 'tcp').address!;
  await cluster.waitFor((s) => s.gateway?.gatewayStatuses['tcp/tls']?.conditions.some((c) => c.type === 'Programmed' && c.status === 'True') === true, {
    what: 'Gateway tcp/tls Programmed',
  });
  tlsIp = cluster.gateway('tls', 'tcp').address!;
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await new Promise((resolve) => tlsServer?.close(resolve));
});

describe('TCPRoute through the Azure LB frontend', () => {
  it('echoes bytes unmodified through a TCP listener', async () => {
    const data = Buffer.alloc(200_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff;
    const back = await exchange(ip, 9100, data);
    expect(back.equals(data)).toBe(true);
  });

  it('splits connections by backendRef weight (3:1)', async () => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < 200; i++) {
      const reply = await exchange(ip, 9200, Buffer.from('GET / HTTP/1.1\r\nHost: tcp.test\r\nConnection: close\r\n\r\n'));
      const text = reply.toString('utf8');
      const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { pod: string };
      const app = body.pod.split('-')[0] ?? '';
      counts[app] = (counts[app] ?? 0) + 1;
    }
    expect((counts.blue ?? 0) + (counts.green ?? 0)).toBe(200);
    expect(counts.blue).toBeGreaterThan(120);
    expect(counts.blue).toBeLessThan(180);
  });

  it('resets connections to a route whose backend does not resolve', async () => {
    await expect(exchange(ip, 9300, Buffer.from('hello'))).rejects.toThrow(/ECONNRESET|socket hang up/);
  });

  it('passes TLS through by SNI: the client sees the backend server and its certificate', async () => {
    const { cert, line } = await tlsHello(tlsIp, 'app.secure.test');
    expect(cert.subject.CN).toBe('backend.secure.test');
    expect(line).toBe('hello app.secure.test\n');
  });

  it('closes a TLS connection whose SNI matches no TLSRoute', async () => {
    await expect(tlsHello(tlsIp, 'other.test')).rejects.toThrow();
  });

  it('closes a connection that does not open with a ClientHello', async () => {
    const reply = await exchangeTo(tlsIp, 8443, Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    expect(reply.length).toBe(0);
  });

  it('reports the TLS listener and the TLSRoute as Istio does', () => {
    const gw = cluster.snapshot.gateway!.gatewayStatuses['tcp/tls']!;
    expect(gw.listeners[0]).toMatchObject({ supportedKinds: [{ group: 'gateway.networking.k8s.io', kind: 'TLSRoute' }], attachedRoutes: 1 });
    const route = cluster.snapshot.gateway!.routeStatuses['TLSRoute/tcp/secure']!.parents[0]!;
    expect(route.conditions.map((c) => [c.type, c.status])).toEqual([
      ['Accepted', 'True'],
      ['ResolvedRefs', 'True'],
    ]);
  });

  it('reports listener and route status as Istio does', () => {
    const s = cluster.snapshot;
    const gw = s.gateway!.gatewayStatuses['tcp/gw']!;
    for (const l of gw.listeners) {
      expect(l.supportedKinds).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'TCPRoute' }]);
      expect(l.attachedRoutes).toBe(1);
      expect(l.conditions.find((c) => c.type === 'Accepted')?.status).toBe('True');
      expect(l.conditions.find((c) => c.type === 'Programmed')?.status).toBe('True');
    }
    const echo = s.gateway!.routeStatuses['TCPRoute/tcp/echo']!.parents[0]!;
    expect(echo.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Accepted', 'True', 'Accepted'],
      ['ResolvedRefs', 'True', 'ResolvedRefs'],
    ]);
    const broken = s.gateway!.routeStatuses['TCPRoute/tcp/broken']!.parents[0]!;
    expect(broken.conditions.find((c) => c.type === 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'BackendNotFound' });
    const svc = cluster.service('gw-istio', 'tcp');
    expect(svc.info.ports.map((p) => p.port)).toEqual(expect.arrayContaining([9100, 9200, 9300]));
  });
});
