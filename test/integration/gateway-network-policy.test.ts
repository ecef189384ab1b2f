/**
 * NetworkPolicy on a Gateway pod's gRPC (h2c) and TCPRoute upstream connections: a denied
 * connect is a SYN nobody answers, so the gateway waits Istio's connect timeout (10 s) and
 * then answers as Envoy does for an upstream connect timeout: UNAVAILABLE (grpc-status 14)
 * for a gRPC call, a reset for a TCPRoute connection that was held open and silent until
 * then. An allow rule for the gateway's namespace repairs both.
 *
 * Addresses: 127.104-107.0.0/16 (outside the addressBlock range, taken by no other file).
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/index.js';
import { grpcCall } from '../helpers/grpc.js';

const ADDRESSES = {
  nodeSubnet: '127.104.0.0/16',
  podCIDR: '127.105.0.0/16',
  serviceCIDR: '127.106.0.0/16',
  publicFrontends: '127.107.0.0/16',
};

/** A real h2c gRPC-shaped server (a process pod): answers every call with its pod name, then grpc-status 0. */
const GRPC_SERVER = `require('http2').createServer().on('stream', (s, h) => {
  s.resume();
  s.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  s.on('wantTrailers', () => s.sendTrailers({ 'grpc-status': '0' }));
  s.end(JSON.stringify({ pod: process.env.HOSTNAME, path: h[':path'] }));
}).listen(process.env.PORT, () => console.log('up'));`;

const deployment = (name: string, image: string, port: string, open: boolean) => `---
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: apps }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name}, from-gateway: "${open}" } }
    spec:
      containers: [{ name: app, image: ${image}, ports: [{ name: ${port}, containerPort: 9000 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: apps }
spec:
  selector: { app: ${name} }
  ports: [{ name: ${port}, port: 7000, targetPort: ${port} }]
`;

const grpcRule = (service: string, name: string) => `
    - matches: [{ method: { service: echo.${service} } }]
      backendRefs: [{ name: ${name}, port: 7000 }]`;

const tcpRoute = (name: string, listener: string) => `---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: { name: ${name}, namespace: apps }
spec:
  parentRefs: [{ name: gw, namespace: edge, sectionName: ${listener} }]
  rules: [{ backendRefs: [{ name: ${name}, port: 7000 }] }]
`;

/**
 * Every pod of `apps` is isolated (default deny); those labelled from-gateway=true take the
 * gateway's namespace on their named ports. Policies are in the manifests from the start
 * (cluster.apply keeps no Gateway API objects), so each path has an open and a closed twin.
 */
const MANIFESTS = `apiVersion: v1
kind: Namespace
metadata: { name: apps }
---
apiVersion: v1
kind: Namespace
metadata: { name: edge }
${deployment('grpc-open', 'test/grpc-echo:1', 'grpc', true)}${deployment('grpc-closed', 'test/grpc-echo:1', 'grpc', false)}${deployment('bytes-open', 'example/bytes', 'tcp', true)}${deployment('bytes-closed', 'example/bytes', 'tcp', false)}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: edge }
spec:
  gatewayClassName: istio
  listeners:
    - { name: http, port: 80, protocol: HTTP, allowedRoutes: { namespaces: { from: All } } }
    - { name: open, port: 9100, protocol: TCP, allowedRoutes: { namespaces: { from: All } } }
    - { name: closed, port: 9200, protocol: TCP, allowedRoutes: { namespaces: { from: All } } }
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: grpc, namespace: apps }
spec:
  parentRefs: [{ name: gw, namespace: edge, sectionName: http }]
  rules:${grpcRule('Open', 'grpc-open')}${grpcRule('Closed', 'grpc-closed')}
${tcpRoute('bytes-open', 'open')}${tcpRoute('bytes-closed', 'closed')}---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: default-deny, namespace: apps }
spec:
  podSelector: {}
  policyTypes: [Ingress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: from-gateway, namespace: apps }
spec:
  podSelector: { matchLabels: { from-gateway: "true" } }
  ingress:
    - from: [{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: edge } } }]
      ports: [{ port: grpc }, { port: tcp }]
`;

type TcpOutcome = { readonly connected: boolean; readonly reply: Buffer; readonly end: 'reset' | 'closed'; readonly elapsedMs: number };

/** Connects, writes `data`, and collects what comes back until the connection ends (a reset included). */
function tcpExchange(ip: string, port: number, data: string): Promise<TcpOutcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let connected = false;
    let end: TcpOutcome['end'] = 'closed';
    const socket = connect({ host: ip, port }, () => {
      connected = true;
      socket.write(data);
    });
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (Buffer.concat(chunks).length >= data.length) socket.end();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET') end = 'reset';
    });
    socket.on('close', () => resolve({ connected, reply: Buffer.concat(chunks), end, elapsedMs: Date.now() - started }));
  });
}

/** The connect timeout a dropped upstream waits (Istio's default), less the timers' slack. */
const HELD_AT_LEAST_MS = 9_000;

describe('NetworkPolicy on a Gateway’s gRPC and TCPRoute upstreams', () => {
  let cluster: Cluster;
  let ip: string;
  const lines: string[] = [];
  const call = (service: string) => grpcCall(`${ip}:80`, 'grpc.example', `/echo.${service}/Ping`);

  beforeAll(async () => {
    cluster = await startCluster({
      manifests: MANIFESTS,
      workloads: [{ image: 'test/grpc-echo*', command: ['node', '-e', GRPC_SERVER] }],
      config: { addresses: ADDRESSES },
      timeScale: 1 / 20,
      admin: false,
      log: (line) => lines.push(line),
    });
    await cluster.waitFor((s) => s.pods.every((p) => p.ready), { what: 'every pod ready' });
    await cluster.waitFor((s) => s.gateway?.gatewayStatuses['edge/gw']?.conditions.some((c) => c.type === 'Programmed' && c.status === 'True') === true, {
      what: 'Gateway edge/gw Programmed',
    });
    ip = cluster.gateway('gw', 'edge').address!;
  }, 60_000);
  afterAll(() => cluster?.stop());

  it('an allowed upstream answers: the gRPC call reaches its pod, the TCP bytes come back', async () => {
    expect(cluster.snapshot.networkPolicy?.policies.map((p) => p.key)).toEqual(['apps/default-deny', 'apps/from-gateway']);
    const answer = await call('Open');
    expect(answer).toMatchObject({ status: 200, grpcStatus: '0' });
    expect(JSON.parse(answer.body)).toMatchObject({ pod: expect.stringMatching(/^grpc-open-/), path: '/echo.Open/Ping' });
    const tcp = await tcpExchange(ip, 9100, 'ping');
    expect(tcp.reply.toString()).toBe('ping');
  });

  it('a denied upstream connect is dropped: UNAVAILABLE after the connect timeout; a silent TCP connection, then a reset', async () => {
    const started = Date.now();
    const [grpc, tcp] = await Promise.all([call('Closed'), tcpExchange(ip, 9200, 'ping')]);
    expect(grpc).toMatchObject({
      status: 200,
      grpcStatus: '14',
      grpcMessage: 'upstream connect error or disconnect/reset before headers. reset reason: connection timeout',
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(HELD_AT_LEAST_MS);
    // The client's connection was accepted and held: not a byte came back, then the reset.
    expect(tcp).toMatchObject({ connected: true, end: 'reset' });
    expect(tcp.reply.length).toBe(0);
    expect(tcp.elapsedMs).toBeGreaterThanOrEqual(HELD_AT_LEAST_MS);
    expect(lines.some((l) => l.includes('listener 9200: dial') && l.includes('dropped by NetworkPolicy'))).toBe(true);
  }, 30_000);
});
