/**
 * A conformance-style suite for the Gateway API path, end to end: real clients → the Azure
 * LB frontend of each Gateway's generated LoadBalancer Service → a node → the Gateway's
 * pod → echo pods. The cases follow the Gateway API conformance suite
 * (kubernetes-sigs/gateway-api conformance/tests: matching, precedence, hostnames,
 * weights, filters, redirects, rewrites, mirror, cross-namespace references, status),
 * written anew for aks-emu.
 *
 * Addresses: block 24 is the cluster; block 28 (from 127.240.200.0, clear of the CLI test's nodes and frontends) holds what lives outside it (a recording
 * backend behind a selector-less Service: the mirror target and a backend that hangs).
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- API JSON */
import { once } from 'node:events';
import { createServer as createH2Server, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSelfSignedCertificate } from '../../src/dataplane/ingress/self-signed-cert.js';
import { startCluster, type Cluster } from '../../src/index.js';
import { startBackend, type Backend } from '../fixtures/ingress/backends.js';
import { addressBlock } from '../helpers/addresses.js';
import { grpcCall } from '../helpers/grpc.js';
import { clientFor, echo, echoOf, send, sendWith, servedCertificate } from '../helpers/ingress-client.js';

const ADDRESSES = addressBlock(24);
const OUTSIDE_IP = '127.240.200.10';
const GRPC_IP = '127.240.200.11';
let grpcPort = 0;
const INFRA = 'gateway-conformance-infra';
const OTHER = 'gateway-conformance-other';
const SELECTED = 'gateway-conformance-selected';

function app(name: string, namespace: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers: [{ name: app, image: echo, ports: [{ name: http, containerPort: 3000 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  selector: { app: ${name} }
  ports: [{ name: http, port: 8080, targetPort: http }]`;
}

function outside(name: string, backend: Backend): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${INFRA} }
spec: { ports: [{ name: http, port: 8080 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${name}-1, namespace: ${INFRA}, labels: { kubernetes.io/service-name: ${name} } }
addressType: IPv4
endpoints: [{ addresses: ["${backend.ip}"] }]
ports: [{ name: http, port: ${backend.port} }]`;
}

const to = (name: string, extra = '') => `{ name: ${name}, port: 8080${extra} }`;

function route(name: string, namespace: string, parents: string, hostnames: string[], rules: string): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  parentRefs: ${parents}
  hostnames: [${hostnames.join(', ')}]
  rules:
${rules}`;
}

const GW = `[{ name: gw, namespace: ${INFRA} }]`;

function manifests(tls: { certPem: string; keyPem: string }, mirror: Backend, hang: Backend): string {
  const objects = [
    `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${INFRA} }`,
    `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${OTHER} }`,
    `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${SELECTED}, labels: { team: selected } }`,
    app('infra-v1', INFRA),
    app('infra-v2', INFRA),
    app('infra-v3', INFRA),
    app('web-backend', OTHER),
    outside('mirror', mirror),
    outside('hang', hang),
    outside('grpc-echo', { ip: GRPC_IP, port: grpcPort } as Backend),
    `apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: grpc, namespace: ${INFRA} }
spec:
  parentRefs: ${GW}
  hostnames: [grpc.example]
  rules:
    - matches: [{ method: { service: echo.Echo, method: Ping } }]
      backendRefs: [${to('grpc-echo')}]
    - matches: [{ method: { service: echo.Admin }, headers: [{ name: x-team, value: ops }] }]
      filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { add: [{ name: x-team, value: gw }] } }]
      backendRefs: [${to('grpc-echo')}]`,
    `apiVersion: v1
kind: Secret
metadata: { name: secure-tls, namespace: ${INFRA} }
type: kubernetes.io/tls
data:
  tls.crt: ${Buffer.from(tls.certPem).toString('base64')}
  tls.key: ${Buffer.from(tls.keyPem).toString('base64')}`,
    `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: someone-else }
spec: { controllerName: example.com/other-controller }`,
    `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: ${INFRA} }
spec:
  gatewayClassName: approuting-istio
  listeners:
    - { name: http, port: 80, protocol: HTTP, allowedRoutes: { namespaces: { from: All } } }
    - name: https
      port: 443
      protocol: HTTPS
      hostname: secure.example
      tls: { mode: Terminate, certificateRefs: [{ name: secure-tls }] }
      allowedRoutes: { namespaces: { from: All } }`,
    `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: internal, namespace: ${INFRA} }
spec:
  gatewayClassName: istio
  infrastructure:
    annotations: { service.beta.kubernetes.io/azure-load-balancer-internal: "true" }
  listeners:
    - { name: http, port: 80, protocol: HTTP }
    - { name: raw-udp, port: 9000, protocol: UDP }`,
    `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: selective, namespace: ${INFRA} }
spec:
  gatewayClassName: istio
  listeners:
    - name: wild
      port: 80
      protocol: HTTP
      hostname: "*.wildcard.example"
      allowedRoutes: { namespaces: { from: Selector, selector: { matchLabels: { team: selected } } } }`,
    `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: ignored, namespace: ${INFRA} }
spec:
  gatewayClassName: someone-else
  listeners: [{ name: http, port: 80, protocol: HTTP }]`,
    route(
      'matching',
      INFRA,
      GW,
      ['match.example'],
      `    - matches: [{ path: { type: Exact, value: /exact } }]
      backendRefs: [${to('infra-v1')}]
    - matches: [{ path: { type: PathPrefix, value: /prefix } }]
      backendRefs: [${to('infra-v2')}]
    - matches: [{ path: { type: PathPrefix, value: /prefix/deeper/ } }]
      backendRefs: [${to('infra-v3')}]
    - matches: [{ path: { type: PathPrefix, value: / }, headers: [{ name: Version, value: two }] }]
      backendRefs: [${to('infra-v2')}]
    - matches: [{ path: { type: PathPrefix, value: /q }, queryParams: [{ name: animal, value: whale }] }]
      backendRefs: [${to('infra-v3')}]
    - matches: [{ path: { type: PathPrefix, value: /m }, method: POST }]
      backendRefs: [${to('infra-v2')}]
    - matches: [{ path: { type: RegularExpression, value: "/re/[0-9]+" } }]
      backendRefs: [${to('infra-v3')}]
    - backendRefs: [${to('infra-v1')}]`,
    ),
    route(
      'filters',
      INFRA,
      GW,
      ['filters.example'],
      `    - matches: [{ path: { value: /req-headers } }]
      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier: { set: [{ name: X-Set, value: set }], add: [{ name: X-Add, value: added }], remove: [X-Remove] }
      backendRefs: [${to('infra-v1')}]
    - matches: [{ path: { value: /resp-headers } }]
      filters: [{ type: ResponseHeaderModifier, responseHeaderModifier: { set: [{ name: X-Resp, value: resp }], add: [{ name: X-Powered, value: gw }] } }]
      backendRefs: [${to('infra-v1')}]
    - matches: [{ path: { value: /redirect-host } }]
      filters: [{ type: RequestRedirect, requestRedirect: { hostname: other.example, statusCode: 301 } }]
    - matches: [{ path: { value: /redirect-scheme } }]
      filters: [{ type: RequestRedirect, requestRedirect: { scheme: https } }]
    - matches: [{ path: { value: /redirect-port } }]
      filters: [{ type: RequestRedirect, requestRedirect: { port: 8080 } }]
    - matches: [{ path: { value: /redirect-prefix } }]
      filters: [{ type: RequestRedirect, requestRedirect: { path: { type: ReplacePrefixMatch, replacePrefixMatch: /replaced } } }]
    - matches: [{ path: { value: /redirect-full } }]
      filters: [{ type: RequestRedirect, requestRedirect: { path: { type: ReplaceFullPath, replaceFullPath: /full } } }]
    - matches: [{ path: { value: /rewrite-prefix } }]
      filters: [{ type: URLRewrite, urlRewrite: { hostname: rewritten.example, path: { type: ReplacePrefixMatch, replacePrefixMatch: /new } } }]
      backendRefs: [${to('infra-v2')}]
    - matches: [{ path: { value: /rewrite-full } }]
      filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplaceFullPath, replaceFullPath: /one } } }]
      backendRefs: [${to('infra-v2')}]
    - matches: [{ path: { value: /mirror } }]
      filters: [{ type: RequestMirror, requestMirror: { backendRef: ${to('mirror')} } }]
      backendRefs: [${to('infra-v1')}]
    - matches: [{ path: { value: /no-backends } }]
    - matches: [{ path: { value: /weight-zero } }]
      backendRefs: [${to('infra-v1', ', weight: 0')}]
    - matches: [{ path: { value: /timeout } }]
      timeouts: { request: 200ms }
      backendRefs: [${to('hang')}]`,
    ),
    route(
      'weights',
      INFRA,
      GW,
      ['weights.example'],
      `    - backendRefs: [${to('infra-v1', ', weight: 70')}, ${to('infra-v2', ', weight: 20')}, ${to('infra-v3', ', weight: 10')}]`,
    ),
    route(
      'regex-only',
      INFRA,
      GW,
      ['regex.example'],
      `    - matches: [{ path: { type: RegularExpression, value: "/re/[0-9]+" } }]
      backendRefs: [${to('infra-v3')}]`,
    ),
    route('wildcard-host', INFRA, GW, ['"*.wild.example"'], `    - backendRefs: [${to('infra-v3')}]`),
    route('missing-backend', INFRA, GW, ['missing.example'], `    - backendRefs: [${to('nope')}]`),
    route('cross-ns-no-grant', OTHER, GW, ['cross.example'], `    - backendRefs: [{ name: infra-v1, namespace: ${INFRA}, port: 8080 }]`),
    route('cross-ns-granted', INFRA, GW, ['granted.example'], `    - backendRefs: [{ name: web-backend, namespace: ${OTHER}, port: 8080 }]`),
    `apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: { name: infra-to-web, namespace: ${OTHER} }
spec:
  from: [{ group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: ${INFRA} }]
  to: [{ group: "", kind: Service, name: web-backend }]`,
    route('secure', INFRA, `[{ name: gw, sectionName: https }]`, ['secure.example'], `    - backendRefs: [${to('infra-v2')}]`),
    route('internal-only', INFRA, `[{ name: internal }]`, [], `    - backendRefs: [${to('infra-v1')}]`),
    route('not-allowed', OTHER, `[{ name: internal, namespace: ${INFRA} }]`, [], `    - backendRefs: [${to('web-backend')}]`),
    route('selected', SELECTED, `[{ name: selective, namespace: ${INFRA} }]`, [], `    - backendRefs: [{ name: infra-v2, namespace: ${INFRA}, port: 8080 }]`),
    route(
      'wrong-host',
      SELECTED,
      `[{ name: selective, namespace: ${INFRA} }]`,
      ['foo.other.example'],
      `    - backendRefs: [{ name: infra-v2, namespace: ${INFRA}, port: 8080 }]`,
    ),
    route('wrong-section', INFRA, `[{ name: gw, sectionName: nosuch }]`, [], `    - backendRefs: [${to('infra-v1')}]`),
    `apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: { name: selected-to-infra, namespace: ${INFRA} }
spec:
  from: [{ group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: ${SELECTED} }]
  to: [{ group: "", kind: Service }]`,
  ];
  return objects.join('\n---\n');
}

let cluster: Cluster;
let ip: string;
let mirror: Backend;
let hang: Backend;
let cert: { certPem: string; keyPem: string };
let grpcServer: Http2Server;

/** A gRPC-shaped h2c backend: answers every call with its path and metadata, then grpc-status 0. */
async function startGrpcBackend(ip: string): Promise<{ server: Http2Server; port: number }> {
  const server = createH2Server();
  server.on('stream', (stream, headers) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'ok' }));
    stream.end(JSON.stringify({ path: headers[':path'], authority: headers[':authority'], team: headers['x-team'] ?? null }));
  });
  server.listen(0, ip);
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

const podOf = (name: string) => (pod: string) => pod.startsWith(`${name}-`);

beforeAll(async () => {
  mirror = await startBackend('mirror', OUTSIDE_IP);
  hang = await startBackend('hang', OUTSIDE_IP, 0, { hang: true });
  const grpc = await startGrpcBackend(GRPC_IP);
  grpcServer = grpc.server;
  grpcPort = grpc.port;
  cert = await generateSelfSignedCertificate({ commonName: 'secure.example', dnsNames: ['secure.example'], keyType: 'ec' });
  cluster = await startCluster({
    manifests: manifests(cert, mirror, hang),
    config: { addresses: ADDRESSES },
    timeScale: 1 / 20,
    admin: { host: '127.240.200.1', port: 0 },
  });
  ip = cluster.gateway('gw', INFRA).address!;
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await mirror?.close();
  await hang?.close();
  grpcServer?.close();
});

describe('Gateway infrastructure on the Azure LB', () => {
  it('creates <gateway>-<class> LoadBalancer Services with public and internal frontends', () => {
    const svc = cluster.service('gw-approuting-istio', INFRA);
    expect(svc.info.type).toBe('LoadBalancer');
    expect(svc.loadBalancerIP).toBe(ip);
    expect(svc.info.loadBalancer?.internal).toBe(false);
    const internal = cluster.service('internal-istio', INFRA);
    expect(internal.info.loadBalancer?.internal).toBe(true);
    // Internal frontends come from the node subnet, public ones from the public range.
    expect(internal.loadBalancerIP?.startsWith(ADDRESSES.nodeSubnet.split('.0.0/')[0] ?? '?')).toBe(true);
    expect(ip.startsWith(ADDRESSES.publicFrontends.split('.0.0/')[0] ?? '?')).toBe(true);
    expect(cluster.snapshot.services.some((s) => s.name === 'ignored-someone-else')).toBe(false);
    expect(cluster.notices.some((n) => n.includes('Gateway gateway-conformance-infra/ignored'))).toBe(true);
  });

  it('carries traffic through the internal frontend to the gateway pod', async () => {
    const internalIp = cluster.gateway('internal', INFRA).address!;
    const reply = await echo(internalIp, '/', { host: 'anything.example' });
    expect(reply.pod).toMatch(/^infra-v1-/);
  });
});

describe('HTTPRoute matching and precedence', () => {
  const cases: [string, Record<string, string>, string, 'GET' | 'POST'][] = [
    ['/exact', {}, 'infra-v1', 'GET'],
    ['/exact/more', {}, 'infra-v1', 'GET'],
    ['/prefix', {}, 'infra-v2', 'GET'],
    ['/prefix/', {}, 'infra-v2', 'GET'],
    ['/prefixed', {}, 'infra-v1', 'GET'],
    ['/prefix/deeper', {}, 'infra-v3', 'GET'],
    ['/prefix/deeper/x', {}, 'infra-v3', 'GET'],
    ['/anything', { version: 'two' }, 'infra-v2', 'GET'],
    ['/q?animal=whale', {}, 'infra-v3', 'GET'],
    ['/q?animal=dolphin', {}, 'infra-v1', 'GET'],
    ['/m', {}, 'infra-v1', 'GET'],
    ['/m', {}, 'infra-v2', 'POST'],
    // Istio ranks every PathPrefix above every RegularExpression: the catch-all `/` wins.
    ['/re/123', {}, 'infra-v1', 'GET'],
  ];
  for (const [path, headers, backend, method] of cases) {
    it(`${method} ${path} ${JSON.stringify(headers)} goes to ${backend}`, async () => {
      const reply = await echo(ip, path, { host: 'match.example', headers, method });
      expect(reply.pod).toSatisfy(podOf(backend));
    });
  }

  it('matches a RegularExpression over the whole path when no prefix competes', async () => {
    expect((await echo(ip, '/re/123', { host: 'regex.example' })).pod).toSatisfy(podOf('infra-v3'));
    expect((await send(ip, '/re/123/x', { host: 'regex.example' })).status).toBe(404);
    expect((await send(ip, '/re/abc', { host: 'regex.example' })).status).toBe(404);
  });

  it('answers 404 from the gateway when no host or rule matches', async () => {
    const reply = await send(ip, '/', { host: 'unknown.example' });
    expect(reply.status).toBe(404);
    expect(reply.headers['server']).toBe('istio-envoy');
  });

  it('serves wildcard route hostnames for one or more labels, not the bare domain', async () => {
    expect((await echo(ip, '/', { host: 'a.wild.example' })).pod).toSatisfy(podOf('infra-v3'));
    expect((await echo(ip, '/', { host: 'a.b.wild.example' })).pod).toSatisfy(podOf('infra-v3'));
    expect((await send(ip, '/', { host: 'wild.example' })).status).toBe(404);
  });
});

describe('HTTPRoute filters', () => {
  it('RequestHeaderModifier sets, adds and removes request headers', async () => {
    const reply = await echo(ip, '/req-headers', { host: 'filters.example', headers: { 'x-add': 'first', 'x-remove': 'gone', 'x-set': 'old' } });
    expect(reply.headers['X-Set']).toEqual(['set']);
    expect(reply.headers['X-Add']).toEqual(['first,added']);
    expect(reply.headers['X-Remove']).toBeUndefined();
  });

  it('ResponseHeaderModifier edits the response', async () => {
    const reply = await send(ip, '/resp-headers', { host: 'filters.example' });
    expect(reply.headers['x-resp']).toBe('resp');
    expect(reply.headers['x-powered']).toBe('gw');
  });

  it.each([
    ['/redirect-host/x?a=1', 301, 'http://other.example/redirect-host/x?a=1'],
    ['/redirect-scheme', 302, 'https://filters.example/redirect-scheme'],
    ['/redirect-port', 302, 'http://filters.example:8080/redirect-port'],
    ['/redirect-prefix/x/y', 302, 'http://filters.example/replaced/x/y'],
    ['/redirect-prefix', 302, 'http://filters.example/replaced'],
    ['/redirect-full/anything', 302, 'http://filters.example/full'],
  ])('RequestRedirect %s answers %i to %s', async (path, status, location) => {
    const reply = await send(ip, path, { host: 'filters.example' });
    expect(reply.status).toBe(status);
    expect(reply.headers['location']).toBe(location);
  });

  it('URLRewrite replaces the matched prefix and the Host', async () => {
    const reply = await echo(ip, '/rewrite-prefix/x?k=v', { host: 'filters.example' });
    expect(reply.path).toBe('/new/x?k=v');
    expect(reply.host).toBe('rewritten.example');
    expect((await echo(ip, '/rewrite-prefix', { host: 'filters.example' })).path).toBe('/new');
  });

  it('URLRewrite ReplaceFullPath replaces the whole path', async () => {
    expect((await echo(ip, '/rewrite-full/a/b', { host: 'filters.example' })).path).toBe('/one');
  });

  it('RequestMirror copies the request to the mirror and answers from the backend', async () => {
    const before = mirror.seen.length;
    const reply = await echo(ip, '/mirror/1', { host: 'filters.example' });
    expect(reply.pod).toSatisfy(podOf('infra-v1'));
    await expect.poll(() => mirror.seen.length).toBe(before + 1);
    expect(mirror.seen.at(-1)?.url).toBe('/mirror/1');
    expect(mirror.seen.at(-1)?.headers.host).toBe('filters.example-shadow');
  });

  it('answers 500 for a rule without backends and for weights that are all 0', async () => {
    expect((await send(ip, '/no-backends', { host: 'filters.example' })).status).toBe(500);
    expect((await send(ip, '/weight-zero', { host: 'filters.example' })).status).toBe(500);
  });

  it('answers 504 when timeouts.request passes before the backend answers', async () => {
    const reply = await send(ip, '/timeout', { host: 'filters.example' });
    expect(reply.status).toBe(504);
    expect(reply.body).toBe('upstream request timeout');
  });
});

describe('weighted backends', () => {
  it('splits 1,000 requests 70/20/10 within ±5 points', async () => {
    const client = clientFor(ip);
    const counts: Record<string, number> = { 'infra-v1': 0, 'infra-v2': 0, 'infra-v3': 0 };
    try {
      for (let i = 0; i < 1000; i++) {
        const pod = echoOf(await sendWith(client, '/', { host: 'weights.example' })).pod;
        const name = Object.keys(counts).find((n) => pod.startsWith(`${n}-`)) ?? pod;
        counts[name] = (counts[name] ?? 0) + 1;
      }
    } finally {
      await client.close();
    }
    expect(Math.abs((counts['infra-v1'] ?? 0) / 10 - 70)).toBeLessThanOrEqual(5);
    expect(Math.abs((counts['infra-v2'] ?? 0) / 10 - 20)).toBeLessThanOrEqual(5);
    expect(Math.abs((counts['infra-v3'] ?? 0) / 10 - 10)).toBeLessThanOrEqual(5);
  });
});

describe('references across namespaces', () => {
  it('answers 500 and reports RefNotPermitted without a ReferenceGrant', async () => {
    expect((await send(ip, '/', { host: 'cross.example' })).status).toBe(500);
    const cond = routeCondition(`HTTPRoute/${OTHER}/cross-ns-no-grant`, 'ResolvedRefs');
    expect(cond).toMatchObject({ status: 'False', reason: 'RefNotPermitted' });
  });

  it('routes to a Service in another namespace that a ReferenceGrant opens', async () => {
    expect((await echo(ip, '/', { host: 'granted.example' })).pod).toSatisfy(podOf('web-backend'));
    expect(routeCondition(`HTTPRoute/${INFRA}/cross-ns-granted`, 'ResolvedRefs')).toMatchObject({ status: 'True' });
  });

  it('answers 500 and reports BackendNotFound for a missing Service', async () => {
    expect((await send(ip, '/', { host: 'missing.example' })).status).toBe(500);
    expect(routeCondition(`HTTPRoute/${INFRA}/missing-backend`, 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'BackendNotFound' });
  });
});

describe('HTTPS listener', () => {
  it('terminates TLS with the listener certificate for its hostname', async () => {
    const served = await servedCertificate(ip, 'secure.example');
    expect(served.subject.CN).toBe('secure.example');
    const reply = await echo(ip, '/', { host: 'secure.example', tls: { servername: 'secure.example', ca: cert.certPem } });
    expect(reply.pod).toSatisfy(podOf('infra-v2'));
  });
});

describe('status', () => {
  it('accepts the built-in classes and not another controller', () => {
    const classes = cluster.snapshot.gateway?.gatewayClasses ?? {};
    expect(classes['approuting-istio']?.conditions[0]).toMatchObject({ type: 'Accepted', status: 'True' });
    expect(classes['istio']?.conditions[0]).toMatchObject({ type: 'Accepted', status: 'True' });
    expect(classes['someone-else']).toBeUndefined();
  });

  it('reports the Gateway Programmed with the frontend IP and attached routes per listener', () => {
    const status = cluster.snapshot.gateway?.gatewayStatuses[`${INFRA}/gw`];
    expect(status?.addresses).toEqual([{ type: 'IPAddress', value: ip }]);
    expect(status?.conditions.map((c) => [c.type, c.status])).toEqual([
      ['Accepted', 'True'],
      ['Programmed', 'True'],
    ]);
    const http = status?.listeners.find((l) => l.name === 'http');
    expect(http?.attachedRoutes).toBe(9);
    // Only the route whose hostnames intersect secure.example attaches to the HTTPS listener.
    expect(status?.listeners.find((l) => l.name === 'https')?.attachedRoutes).toBe(1);
  });

  it('marks a UDP listener not accepted (UnsupportedProtocol) and the Gateway ListenersNotValid', () => {
    const status = cluster.snapshot.gateway?.gatewayStatuses[`${INFRA}/internal`];
    expect(status?.conditions[0]).toMatchObject({ type: 'Accepted', status: 'True', reason: 'ListenersNotValid' });
    const tcp = status?.listeners.find((l) => l.name === 'raw-udp');
    expect(tcp?.conditions[0]).toMatchObject({ type: 'Accepted', status: 'False', reason: 'UnsupportedProtocol' });
  });

  it.each([
    [`HTTPRoute/${OTHER}/not-allowed`, 'NotAllowedByListeners'],
    [`HTTPRoute/${SELECTED}/wrong-host`, 'NoMatchingListenerHostname'],
    [`HTTPRoute/${INFRA}/wrong-section`, 'NoMatchingParent'],
  ])('%s is not Accepted: %s', (key, reason) => {
    expect(routeCondition(key, 'Accepted')).toMatchObject({ status: 'False', reason });
  });

  it('lets a Selector listener take routes from labelled namespaces only', async () => {
    expect(routeCondition(`HTTPRoute/${SELECTED}/selected`, 'Accepted')).toMatchObject({ status: 'True' });
    const selectiveIp = cluster.gateway('selective', INFRA).address!;
    expect((await echo(selectiveIp, '/', { host: 'a.wildcard.example' })).pod).toSatisfy(podOf('infra-v2'));
    expect((await send(selectiveIp, '/', { host: 'a.other.example' })).status).toBe(404);
  });
});

describe('GRPCRoute over HTTP/2 cleartext', () => {
  it('routes a call by service and method to the h2c backend and relays its trailers', async () => {
    const call = await grpcCall(`${ip}:80`, 'grpc.example', '/echo.Echo/Ping');
    expect(call).toMatchObject({ status: 200, grpcStatus: '0' });
    expect(JSON.parse(call.body)).toMatchObject({ path: '/echo.Echo/Ping', authority: 'grpc.example' });
  });

  it("matches a service with a header, and applies the rule's request header filter", async () => {
    const call = await grpcCall(`${ip}:80`, 'grpc.example', '/echo.Admin/Reset', { 'x-team': 'ops' });
    expect(JSON.parse(call.body)).toMatchObject({ path: '/echo.Admin/Reset', team: 'ops,gw' });
  });

  it('answers UNIMPLEMENTED (grpc-status 12) for a method no rule matches', async () => {
    expect(await grpcCall(`${ip}:80`, 'grpc.example', '/echo.Echo/Other')).toMatchObject({ status: 200, grpcStatus: '12' });
    expect(await grpcCall(`${ip}:80`, 'grpc.example', '/echo.Admin/Reset')).toMatchObject({ grpcStatus: '12' });
  });

  it('keeps serving HTTP/1.1 on the same listener', async () => {
    expect((await echo(ip, '/exact', { host: 'match.example' })).pod).toSatisfy(podOf('infra-v1'));
  });
});

describe('admin API and explain route', () => {
  const api = async (path: string) => {
    const res = await fetch(`${cluster.adminUrl}${path}`);
    return { status: res.status, body: (await res.json()) as any };
  };

  it('serves Gateways with their status at the Gateway API paths', async () => {
    const { status, body } = await api(`/apis/gateway.networking.k8s.io/v1/namespaces/${INFRA}/gateways/gw`);
    expect(status).toBe(200);
    expect(body.kind).toBe('Gateway');
    expect(body.spec.listeners[0].allowedRoutes.namespaces.from).toBe('All');
    expect(body.status.addresses[0].value).toBe(ip);
    const routes = await api(`/apis/gateway.networking.k8s.io/v1/namespaces/${INFRA}/httproutes`);
    expect(routes.body.kind).toBe('HTTPRouteList');
    const filters = routes.body.items.find((r: any) => r.metadata.name === 'filters');
    expect(filters.spec.rules[0].filters[0].requestHeaderModifier.set[0]).toEqual({ name: 'X-Set', value: 'set' });
    const classes = await api('/apis/gateway.networking.k8s.io/v1/gatewayclasses');
    expect(classes.body.items.map((c: any) => c.metadata.name)).toEqual(['approuting-istio', 'istio', 'someone-else']);
    expect((await api(`/apis/gateway.networking.k8s.io/v1/namespaces/${INFRA}/gateways/nosuch`)).status).toBe(404);
  });

  it('explains which rule and backend a request takes, and why the others did not match', async () => {
    const q = new URLSearchParams({ gateway: `${INFRA}/gw`, host: 'match.example', path: '/q?animal=dolphin' });
    const { body } = await api(`/aks-emu/v1/explain/route?${q}`);
    expect(body.explanation.outcome).toMatchObject({ kind: 'backends', route: `HTTPRoute ${INFRA}/matching`, rule: 7 });
    expect(body.text).toContain('query animal "dolphin" does not match whale');
    const redirect = await api(`/aks-emu/v1/explain/route?${new URLSearchParams({ gateway: `${INFRA}/gw`, host: 'filters.example', path: '/redirect-port' })}`);
    expect(redirect.body.explanation.outcome).toMatchObject({ kind: 'redirect', status: 302, location: 'http://filters.example:8080/redirect-port' });
  });
});

function routeCondition(key: string, type: string) {
  return cluster.snapshot.gateway?.routeStatuses[key]?.parents[0]?.conditions.find((c) => c.type === type);
}
