/**
 * A conformance-style suite for the L7 path, end to end: real clients (undici, raw sockets,
 * ws) → the Azure LB frontend of the built-in controller's Service → a node → an
 * ingress-nginx controller pod → echo pods. Behaviours are ingress-nginx's (the
 * ingress-nginx docs and the ingress-controller-conformance features).
 *
 * Addresses: block 7 is the main cluster, block 8 a small one with a catch-all Ingress;
 * block 9 holds what lives outside the clusters (the test's client address, a WebSocket
 * server behind a selector-less Service).
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { FAKE_CERTIFICATE_CN } from '../../src/dataplane/ingress/self-signed-cert.js';
import { startCluster, type Cluster } from '../../src/index.js';
import { startBackend, type Backend } from '../fixtures/ingress/backends.js';
import { addressBlock } from '../helpers/addresses.js';
import { clientFor, echo, echoOf, RawConnection, send, sendWith, servedCertificate, type SendOptions } from '../helpers/ingress-client.js';

const ADDRESSES = addressBlock(7);
/** A client outside the cluster, with an address of its own (block 9). */
const CLIENT = '127.164.0.77';
const WS_SERVER_IP = '127.164.0.10';

const to = (service: string) => `backend: { service: { name: ${service}, port: { number: 80 } } }`;

/** An echo Deployment (container port `http` 8080) and its Service (port 80). */
function echoApp(name: string, replicas: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers: [{ name: app, image: echo, ports: [{ name: http, containerPort: 8080 }] }]
---
${service(name, name)}`;
}

function service(name: string, app: string): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  selector: { app: ${app} }
  ports: [{ name: http, port: 80, targetPort: http }]`;
}

function ingress(name: string, annotations: Record<string, string>, spec: string): string {
  const meta = Object.entries(annotations).map(([k, v]) => `nginx.ingress.kubernetes.io/${k}: ${JSON.stringify(v)}`);
  return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}
  annotations: { ${meta.join(', ')} }
spec:
  ingressClassName: nginx
${spec}`;
}

/** One host, one `/` Prefix path; `extra` goes before the rules (spec.tls). */
function site(name: string, host: string, svc: string, annotations: Record<string, string> = {}, extra = ''): string {
  return ingress(name, annotations, `${extra}  rules:\n    - host: ${host}\n      http: { paths: [{ path: /, pathType: Prefix, ${to(svc)} }] }`);
}

function manifests(tls: { cert: string; key: string }, ws: Backend): string {
  const apps = [
    ...['exact', 'prefix', 'aaa', 'aaa-bbb', 'slash', 'impl', 'host-exact', 'wildcard', 'fallback', 'error-pages', 'flaky', 'canary'].map((n) => echoApp(n, 1)),
    echoApp('app', 2),
    echoApp('store-front', 2),
    echoApp('main', 2),
    echoApp('web', 10),
    service('sticky', 'web'),
    service('stable', 'main'),
    service('preview', 'canary'),
    service('idle', 'nobody'),
  ];
  const external = `apiVersion: v1
kind: Service
metadata: { name: chat }
spec: { ports: [{ name: http, port: 80 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: chat-1, labels: { kubernetes.io/service-name: chat } }
addressType: IPv4
endpoints: [{ addresses: ["${ws.ip}"] }]
ports: [{ name: http, port: ${ws.port} }]
---
apiVersion: v1
kind: Secret
metadata: { name: secure-tls }
type: kubernetes.io/tls
data:
  tls.crt: ${Buffer.from(tls.cert).toString('base64')}
  tls.key: ${Buffer.from(tls.key).toString('base64')}`;
  const ingresses = [
    ingress(
      'path-rules',
      {},
      `  rules:
    - host: exact.paths.example
      http: { paths: [{ path: /foo, pathType: Exact, ${to('exact')} }] }
    - host: prefix.paths.example
      http:
        paths:
          - { path: /foo, pathType: Prefix, ${to('prefix')} }
          - { path: /aaa, pathType: Prefix, ${to('aaa')} }
          - { path: /aaa/bbb, pathType: Prefix, ${to('aaa-bbb')} }
    - host: mixed.paths.example
      http:
        paths:
          - { path: /foo, pathType: Prefix, ${to('prefix')} }
          - { path: /foo, pathType: Exact, ${to('exact')} }
    - host: slash.paths.example
      http:
        paths:
          - { path: /aaa/bbb/, pathType: Prefix, ${to('slash')} }
          - { path: /foo/, pathType: Exact, ${to('exact')} }
    - host: impl.paths.example
      http: { paths: [{ path: /foo, pathType: ImplementationSpecific, ${to('impl')} }] }`,
    ),
    ingress(
      'host-rules',
      {},
      `  rules:
    - host: foo.bar.example
      http: { paths: [{ path: /, pathType: Prefix, ${to('host-exact')} }] }
    - host: "*.foo.example"
      http: { paths: [{ path: /, pathType: Prefix, ${to('wildcard')} }] }
    - host: exact.foo.example
      http: { paths: [{ path: /, pathType: Prefix, ${to('host-exact')} }] }`,
    ),
    ingress(
      'defaults',
      {},
      `  defaultBackend: { service: { name: fallback, port: { number: 80 } } }
  rules:
    - host: defaults.example
      http: { paths: [{ path: /only, pathType: Exact, ${to('exact')} }] }`,
    ),
    // The AKS store demo's rule on AKS's app routing class. With a host: host-less, it would put
    // the `_` server in regex mode, whose `^/` then takes the LB probe's /healthz (ingress-nginx#8852).
    `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: store-front
  annotations:
    nginx.ingress.kubernetes.io/use-regex: "true"
    nginx.ingress.kubernetes.io/rewrite-target: /$2
spec:
  ingressClassName: webapprouting.kubernetes.azure.com
  rules:
    - host: store.example
      http:
        paths:
          - path: /store-front(/|$)(.*)
            pathType: ImplementationSpecific
            ${to('store-front')}`,
    ingress('status', {}, `  rules:\n    - host: store.example\n      http: { paths: [{ path: /status, pathType: Exact, ${to('app')} }] }`),
    ingress('everywhere', {}, `  rules:\n    - http: { paths: [{ path: /everywhere, pathType: Prefix, ${to('app')} }] }`),
    site('app', 'app.example', 'app'),
    site('web', 'lb.example', 'web'),
    site('app-root', 'approot.example', 'app', { 'app-root': '/app' }),
    site('secure', 'secure.example', 'app', {}, '  tls: [{ hosts: [secure.example], secretName: secure-tls }]\n'),
    site('lenient', 'lenient.example', 'app', { 'ssl-redirect': 'false' }, '  tls: [{ hosts: [lenient.example], secretName: secure-tls }]\n'),
    site('forced', 'forced.example', 'app', { 'force-ssl-redirect': 'true' }),
    site('main', 'canary.example', 'main'),
    site('canary', 'canary.example', 'canary', { canary: 'true', 'canary-by-header': 'X-Canary', 'canary-by-cookie': 'canary', 'canary-weight': '0' }),
    site('stable', 'weighted.example', 'stable'),
    site('preview', 'weighted.example', 'preview', { canary: 'true', 'canary-weight': '100' }),
    site('sticky', 'sticky.example', 'sticky', { affinity: 'cookie' }),
    site('nodes-only', 'nodes-only.example', 'app', { 'whitelist-source-range': ADDRESSES.nodeSubnet }),
    site('office', 'office.example', 'app', { 'whitelist-source-range': `${CLIENT}/32` }),
    site('upload', 'upload.example', 'app', { 'proxy-body-size': '1k' }),
    ingress(
      'unavailable',
      {},
      `  rules:
    - host: unavailable.example
      http:
        paths:
          - { path: /idle, pathType: Prefix, ${to('idle')} }
          - { path: /ghost, pathType: Prefix, ${to('ghost')} }
          - { path: /flaky, pathType: Prefix, ${to('flaky')} }`,
    ),
    ingress(
      'errors',
      { 'custom-http-errors': '404,503', 'default-backend': 'error-pages' },
      `  rules:
    - host: errors.example
      http: { paths: [{ path: /idle, pathType: Prefix, ${to('idle')} }] }`,
    ),
    site('chat', 'chat.example', 'chat'),
  ];
  return [...apps, external, ...ingresses].join('\n---\n');
}

async function selfSignedCertificate(dir: string, hosts: readonly string[]): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'tls.crt');
  const key = join(dir, 'tls.key');
  const san = hosts.map((h) => `DNS:${h}`).join(',');
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/CN=${hosts[0]}`,
    '-addext',
    `subjectAltName=${san}`,
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  return { cert: await readFile(cert, 'utf8'), key: await readFile(key, 'utf8') };
}

let cluster: Cluster;
let ip: string;
let certPem: string;
let tmp: string;
let wsServer: Backend;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'aks-emu-ingress-'));
  const tls = await selfSignedCertificate(tmp, ['secure.example', 'lenient.example']);
  certPem = tls.cert;
  wsServer = await startBackend('chat-server', WS_SERVER_IP);
  cluster = await startCluster({ manifests: manifests(tls, wsServer), config: { addresses: ADDRESSES }, timeScale: 1 / 100 });
  await cluster.waitFor((s) => s.pods.every((p) => p.ready), { what: 'every pod to be Ready' });
  ip = cluster.service('ingress-nginx-controller', 'ingress-nginx').loadBalancerIP!;
  for (const node of cluster.nodes) await cluster.waitForProbe(node.name, 'up', { service: 'ingress-nginx/ingress-nginx-controller' });
});

afterAll(async () => {
  await cluster?.stop();
  await wsServer?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Which Deployment's pod answered (pod names are `<deployment>-<hash>-<suffix>`), or the status. */
async function servedBy(host: string, path: string, options: SendOptions = {}): Promise<string> {
  const reply = await send(ip, path, { ...options, host });
  if (reply.status !== 200) return String(reply.status);
  return echoOf(reply).pod.replace(/-[a-z0-9]+-[a-z0-9]+$/, '');
}

/** Asserts, path by path, which Deployment (or which status) answers on `host`. */
async function expectRoutes(host: string, routes: Record<string, string>): Promise<void> {
  for (const [path, want] of Object.entries(routes)) expect(await servedBy(host, path), `${host}${path}`).toBe(want);
}

describe('host rules', () => {
  it('matches an exact host case-insensitively and ignores the port', async () => {
    await expectRoutes('foo.bar.example', { '/': 'host-exact' });
    await expectRoutes('FOO.Bar.Example:8080', { '/': 'host-exact' });
  });

  it('lets *.foo.example cover exactly one label', async () => {
    await expectRoutes('x.foo.example', { '/': 'wildcard' });
    await expectRoutes('a.b.foo.example', { '/': '404' });
    await expectRoutes('foo.example', { '/': '404' });
  });

  it('prefers an exact host over a wildcard that also matches', () => expectRoutes('exact.foo.example', { '/': 'host-exact' }));
});

describe('path rules', () => {
  it('routes an Exact path only on a byte-exact match', () => expectRoutes('exact.paths.example', { '/foo': 'exact', '/foo/': '404', '/FOO': '404' }));

  it('matches Prefix paths by whole segments and prefers the longest', () =>
    expectRoutes('prefix.paths.example', {
      '/foo': 'prefix',
      '/foo/': 'prefix',
      '/foo/bar': 'prefix',
      '/foobar': '404',
      '/aaa/bbb': 'aaa-bbb',
      '/aaa/bbb/ccc': 'aaa-bbb',
      '/aaa/bbbccc': 'aaa',
    }));

  it('prefers Exact over Prefix for the same path', () => expectRoutes('mixed.paths.example', { '/foo': 'exact', '/foo/': 'prefix' }));

  it('lets a Prefix rule with a trailing slash serve the path without it, but not an Exact one', () =>
    expectRoutes('slash.paths.example', { '/aaa/bbb': 'slash', '/aaa/bbb/': 'slash', '/foo/': 'exact', '/foo': '404' }));

  it('treats ImplementationSpecific as a plain string prefix, as ingress-nginx does', () =>
    expectRoutes('impl.paths.example', { '/foobar': 'impl', '/foo/x': 'impl' }));
});

describe('default backends and errors', () => {
  it("sends unmatched paths of an Ingress's hosts to its spec.defaultBackend", () =>
    expectRoutes('defaults.example', { '/only': 'exact', '/elsewhere': 'fallback' }));

  it('serves a host-less rule for any host that no rule names', async () => {
    await expectRoutes('nobody.example', { '/everywhere/x': 'app', '/elsewhere': '404' });
    await expectRoutes(ip, { '/everywhere': 'app' });
    await expectRoutes('foo.bar.example', { '/everywhere': 'host-exact' });
  });

  it("answers 404 from the controller's default backend when nothing matches", async () => {
    const reply = await send(ip, '/anything', { host: 'nobody.example' });
    expect(reply.status).toBe(404);
    expect(reply.headers['content-type']).toBe('text/html');
    expect(reply.body).toContain('<center><h1>404 Not Found</h1></center>');
  });

  it('answers 503 for a Service without endpoints and for a missing Service', async () => {
    const idle = await send(ip, '/idle', { host: 'unavailable.example' });
    expect(idle.status).toBe(503);
    expect(idle.body).toContain('503 Service Temporarily Unavailable');
    expect((await send(ip, '/ghost', { host: 'unavailable.example' })).status).toBe(503);
  });

  it('answers 503 while the only pod is unready and serves again once it is Ready', async () => {
    const [pod] = cluster.pods({ app: 'flaky' });
    expect(await servedBy('unavailable.example', '/flaky')).toBe('flaky');
    await cluster.setPodReady(pod!.name, false);
    await cluster.waitFor((s) => s.pods.some((p) => p.name === pod!.name && !p.ready), { what: 'the flaky pod to be unready' });
    expect(await servedBy('unavailable.example', '/flaky')).toBe('503');
    await cluster.setPodReady(pod!.name, null);
    await cluster.waitFor((s) => s.pods.some((p) => p.name === pod!.name && p.ready), { what: 'the flaky pod to be Ready' });
    expect(await servedBy('unavailable.example', '/flaky')).toBe('flaky');
  });

  it('hands 404 and 503 to the default-backend Service with X-Code when custom-http-errors lists them', async () => {
    // error_page with `=`: the client gets the error backend's own status (the echo pod's 200).
    const missing = await echo(ip, '/missing?x=1', { host: 'errors.example' });
    expect(missing.pod).toMatch(/^error-pages-/);
    expect(missing.path).toBe('/');
    expect(missing.headers).toMatchObject({ 'X-Code': ['404'], 'X-Original-Uri': ['/missing?x=1'], 'X-Ingress-Name': ['errors'], 'X-Namespace': ['default'] });
    const idle = await echo(ip, '/idle', { host: 'errors.example' });
    expect(idle.pod).toMatch(/^error-pages-/);
    expect(idle.headers).toMatchObject({ 'X-Code': ['503'], 'X-Service-Name': ['idle'] });
  });
});

describe('request body limit', () => {
  it('answers 413 when Content-Length exceeds proxy-body-size, and proxies a body within it', async () => {
    const big = await send(ip, '/', { host: 'upload.example', method: 'POST', body: Buffer.alloc(2048) });
    expect(big.status).toBe(413);
    expect(big.body).toContain('413 Request Entity Too Large');
    const small = await echo(ip, '/', { host: 'upload.example', method: 'POST', body: Buffer.alloc(1024) });
    expect(small.bodyLength).toBe(1024);
  });

  it('applies the default limit of 1m', async () => {
    expect((await send(ip, '/', { host: 'app.example', method: 'PUT', body: Buffer.alloc(1024 * 1024 + 1) })).status).toBe(413);
    expect((await echo(ip, '/', { host: 'app.example', method: 'PUT', body: Buffer.alloc(1024 * 1024) })).bodyLength).toBe(1024 * 1024);
  });

  it('answers 413 for a chunked body that grows past the limit', async () => {
    const conn = await RawConnection.open(ip, 80);
    try {
      const chunk = `400\r\n${'x'.repeat(0x400)}\r\n`;
      const reply = await conn.exchange(`POST / HTTP/1.1\r\nHost: upload.example\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}${chunk}0\r\n\r\n`);
      expect(reply.status).toBe(413);
    } finally {
      conn.close();
    }
  });
});

describe('load balancing', () => {
  it('spreads requests over all 10 pods of a Deployment, one new connection each', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add((await echo(ip, '/', { host: 'lb.example' })).pod);
    // Round robin per controller pod: with two controllers, one takes at least 10 of the 20.
    expect(seen.size).toBe(10);
    expect([...seen].every((pod) => pod.startsWith('web-'))).toBe(true);
  });

  it('rotates per request on one keep-alive connection, which stays on one controller pod', async () => {
    const client = clientFor(ip);
    let connects = 0;
    client.on('connect', () => connects++);
    try {
      const replies = [];
      for (let i = 0; i < 10; i++) replies.push(echoOf(await sendWith(client, '/', { host: 'lb.example' })));
      expect(new Set(replies.map((r) => r.pod)).size).toBe(10);
      expect(new Set(replies.map((r) => r.remoteAddress)).size).toBe(1);
      expect(connects).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('connects to the pod IP, not the ClusterIP, from the controller pod', async () => {
    const seen = await echo(ip, '/', { host: 'lb.example' });
    expect(seen.localAddress).toBe(cluster.pod(seen.pod).ip);
    expect(cluster.pods({}, 'ingress-nginx').map((p) => p.ip)).toContain(seen.remoteAddress);
  });
});

describe('regex paths and rewrites', () => {
  const store = { host: 'store.example' };

  it('routes the AKS store demo path to store-front, rewritten with the capture group and the query kept', async () => {
    const deep = await echo(ip, '/store-front/x?q=1', store);
    expect(deep.pod).toMatch(/^store-front-/);
    expect(deep.path).toBe('/x?q=1');
    expect((await echo(ip, '/store-front', store)).path).toBe('/');
    expect((await echo(ip, '/store-front/', store)).path).toBe('/');
  });

  it('matches regex paths case-insensitively and only where the pattern allows', async () => {
    expect((await echo(ip, '/STORE-FRONT/Cart', store)).path).toBe('/Cart');
    expect((await send(ip, '/store-frontx', store)).status).toBe(404);
  });

  it("turns another Ingress's Exact path on the same host into a prefix regex, without its rewrite", async () => {
    const seen = await echo(ip, '/status/extra', store);
    expect(seen.pod).toMatch(/^app-/);
    expect(seen.path).toBe('/status/extra');
  });

  it('redirects / to app-root with 302 and serves the app root itself', async () => {
    const reply = await send(ip, '/', { host: 'approot.example' });
    expect(reply.status).toBe(302);
    expect(reply.headers.location).toBe('http://approot.example/app');
    expect((await echo(ip, '/app', { host: 'approot.example' })).path).toBe('/app');
  });
});

describe('TLS at the controller', () => {
  const trusting = (servername: string) => ({ servername, ca: certPem });

  it("serves the host's certificate from its kubernetes.io/tls Secret by SNI", async () => {
    expect((await servedCertificate(ip, 'secure.example')).subject.CN).toBe('secure.example');
    // The certificate verifies against the test's own CA only if SNI picked it.
    const seen = await echo(ip, '/cart', { host: 'secure.example', tls: trusting('secure.example') });
    expect(seen.headers).toMatchObject({ 'X-Forwarded-Proto': ['https'], 'X-Forwarded-Port': ['443'], 'X-Scheme': ['https'] });
  });

  it('serves the default fake certificate for a name without a Secret', async () => {
    expect((await servedCertificate(ip, 'app.example')).subject.CN).toBe(FAKE_CERTIFICATE_CN);
  });

  it('sends HSTS on HTTPS responses only', async () => {
    const https = await send(ip, '/', { host: 'secure.example', tls: trusting('secure.example') });
    expect(https.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect((await send(ip, '/', { host: 'app.example' })).headers['strict-transport-security']).toBeUndefined();
  });

  it('redirects HTTP to HTTPS with 308 for a TLS host, dropping one trailing slash and keeping the query', async () => {
    const reply = await send(ip, '/cart/', { host: 'secure.example' });
    expect(reply.status).toBe(308);
    expect(reply.headers.location).toBe('https://secure.example/cart');
    expect((await send(ip, '/a?b=1', { host: 'secure.example:80' })).headers.location).toBe('https://secure.example/a?b=1');
  });

  it('does not redirect a TLS host with ssl-redirect "false"', async () => {
    expect((await send(ip, '/', { host: 'lenient.example' })).status).toBe(200);
    expect((await send(ip, '/', { host: 'lenient.example', tls: trusting('lenient.example') })).status).toBe(200);
  });

  it('redirects with force-ssl-redirect even without TLS', async () => {
    const reply = await send(ip, '/x', { host: 'forced.example' });
    expect(reply.status).toBe(308);
    expect(reply.headers.location).toBe('https://forced.example/x');
  });
});

describe('canary', () => {
  const who = (headers: Record<string, string> = {}) => servedBy('canary.example', '/', { headers });

  it('routes by header: always and never', async () => {
    expect(await who({ 'x-canary': 'always' })).toBe('canary');
    expect(await who({ 'x-canary': 'never' })).toBe('main');
  });

  it('routes by cookie, after the header', async () => {
    expect(await who({ cookie: 'canary=always' })).toBe('canary');
    expect(await who({ cookie: 'canary=never' })).toBe('main');
    expect(await who({ cookie: 'canary=always', 'x-canary': 'never' })).toBe('main');
  });

  it('keeps requests without the header or cookie on the main Service at weight 0, and sends all to the canary at weight 100', async () => {
    for (let i = 0; i < 10; i++) {
      expect(await who({ 'x-canary': 'maybe' })).toBe('main');
      expect(await servedBy('weighted.example', '/')).toBe('canary');
    }
  });
});

describe('cookie affinity', () => {
  it('sets INGRESSCOOKIE and then keeps the client on one pod, whichever controller pod answers', async () => {
    const first = await send(ip, '/', { host: 'sticky.example' });
    const setCookie = String(first.headers['set-cookie']);
    expect(setCookie).toMatch(/^INGRESSCOOKIE=[0-9a-f]{32}\|[0-9a-f]{32}; Path=\/; HttpOnly$/);
    const pod = echoOf(first).pod;
    const cookie = setCookie.split(';')[0]!;
    for (let i = 0; i < 6; i++) {
      const reply = await send(ip, '/', { host: 'sticky.example', headers: { cookie } });
      expect(echoOf(reply).pod).toBe(pod);
      expect(reply.headers['set-cookie']).toBeUndefined();
    }
  });

  it('spreads clients without the cookie', async () => {
    const pods = new Set<string>();
    for (let i = 0; i < 4; i++) pods.add((await echo(ip, '/', { host: 'sticky.example' })).pod);
    expect(pods.size).toBeGreaterThan(1);
  });
});

describe('whitelist-source-range', () => {
  // The controller's Service has externalTrafficPolicy Cluster, as on a default AKS install:
  // kube-proxy SNATs to the node, so the controller checks the node address, not the client's.
  it('lets in a client when the range holds the node addresses', async () => {
    expect((await send(ip, '/', { host: 'nodes-only.example', localAddress: CLIENT })).status).toBe(200);
  });

  it("answers 403 when the range holds only the client's own address", async () => {
    const reply = await send(ip, '/', { host: 'office.example', localAddress: CLIENT });
    expect(reply.status).toBe(403);
    expect(reply.body).toContain('403 Forbidden');
  });
});

describe('headers', () => {
  it('sends the backend the Host unchanged and the ingress-nginx X-* headers', async () => {
    const seen = await echo(ip, '/h?x=1', { host: 'app.example', localAddress: CLIENT, headers: { 'x-forwarded-for': '203.0.113.9' } });
    const nodes = cluster.nodes.map((n) => n.address);
    const realIp = seen.headers['X-Real-Ip']?.[0];
    expect(seen.host).toBe('app.example');
    expect(seen.path).toBe('/h?x=1');
    expect(nodes).toContain(realIp);
    expect(seen.headers).toMatchObject({
      'X-Forwarded-For': [realIp],
      'X-Original-Forwarded-For': ['203.0.113.9'],
      'X-Forwarded-Host': ['app.example'],
      'X-Forwarded-Port': ['80'],
      'X-Forwarded-Proto': ['http'],
      'X-Forwarded-Scheme': ['http'],
      'X-Scheme': ['http'],
    });
    expect(seen.headers['X-Request-Id']?.[0]).toMatch(/^[0-9a-f]{32}$/);
  });

  it('keeps an incoming X-Request-ID and makes a new one per request otherwise', async () => {
    expect((await echo(ip, '/', { host: 'app.example', headers: { 'x-request-id': 'trace-42' } })).headers['X-Request-Id']).toEqual(['trace-42']);
    const a = await echo(ip, '/', { host: 'app.example' });
    const b = await echo(ip, '/', { host: 'app.example' });
    expect(a.headers['X-Request-Id']).not.toEqual(b.headers['X-Request-Id']);
  });

  it("answers with Server: nginx, the backend's headers and its Content-Length", async () => {
    const reply = await send(ip, '/', { host: 'app.example' });
    expect(reply.headers.server).toBe('nginx');
    expect(reply.headers['x-pod-name']).toBe(echoOf(reply).pod);
    expect(Number(reply.headers['content-length'])).toBe(Buffer.byteLength(reply.body));
    expect(reply.headers['transfer-encoding']).toBeUndefined();
  });
});

describe('client connections', () => {
  it('serves several requests, to different hosts, on one raw keep-alive connection', async () => {
    const conn = await RawConnection.open(ip, 80, { localAddress: CLIENT });
    try {
      const first = await conn.exchange('GET /one HTTP/1.1\r\nHost: app.example\r\n\r\n');
      const second = await conn.exchange('GET /foo HTTP/1.1\r\nHost: exact.paths.example\r\n\r\n');
      const third = await conn.exchange('GET /nothing HTTP/1.1\r\nHost: nobody.example\r\n\r\n');
      expect(first.statusLine).toBe('HTTP/1.1 200 OK');
      expect(JSON.parse(first.body)).toMatchObject({ path: '/one', host: 'app.example' });
      expect(JSON.parse(second.body).pod).toMatch(/^exact-/);
      expect(third.status).toBe(404);
      expect(first.headers.connection).not.toBe('close');
    } finally {
      conn.close();
    }
  });
});

describe('WebSocket', () => {
  function open(host: string, path = '/chat'): WebSocket {
    return new WebSocket(`ws://${ip}${path}`, { headers: { host }, localAddress: CLIENT });
  }

  it('upgrades through the controller to a WebSocket backend and relays messages both ways', async () => {
    const ws = open('chat.example');
    try {
      const [hello] = (await once(ws, 'message')) as [Buffer];
      const info = JSON.parse(String(hello)) as { url: string; headers: Record<string, string> };
      expect(info.url).toBe('/chat');
      expect(info.headers).toMatchObject({ host: 'chat.example', upgrade: 'websocket', 'x-forwarded-host': 'chat.example' });
      expect(cluster.nodes.map((n) => n.address)).toContain(info.headers['x-forwarded-for']);
      ws.send('ping');
      const [reply] = (await once(ws, 'message')) as [Buffer];
      expect(String(reply)).toBe('chat-server:ping');
    } finally {
      ws.close();
    }
  });

  it("forwards the Upgrade request to an echo pod and relays the pod's plain HTTP answer", async () => {
    const ws = open('app.example');
    ws.on('error', () => undefined);
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    ws.terminate();
    expect(res.statusCode).toBe(200);
    const seen = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { pod: string; headers: Record<string, string[]> };
    expect(seen.pod).toMatch(/^app-/);
    expect(seen.headers).toMatchObject({ Upgrade: ['websocket'], Connection: ['upgrade'] });
    expect(seen.headers['Sec-Websocket-Key']).toHaveLength(1);
  });

  it('answers an upgrade with 503 when the Service has no endpoints', async () => {
    const ws = open('unavailable.example', '/idle');
    ws.on('error', () => undefined);
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
    res.resume();
    ws.terminate();
    expect(res.statusCode).toBe(503);
  });
});

describe('a catch-all Ingress (spec.defaultBackend and no rules)', () => {
  let small: Cluster;
  let smallIp: string;

  beforeAll(async () => {
    const yaml = [
      echoApp('fallback', 2),
      echoApp('known', 1),
      ingress('catch-all', {}, '  defaultBackend: { service: { name: fallback, port: { number: 80 } } }'),
      ingress('known', {}, `  rules:\n    - host: known.example\n      http: { paths: [{ path: /app, pathType: Exact, ${to('known')} }] }`),
    ].join('\n---\n');
    small = await startCluster({ manifests: yaml, config: { addresses: addressBlock(8) }, timeScale: 1 / 100 });
    await small.waitFor((s) => s.pods.every((p) => p.ready), { what: 'every pod to be Ready' });
    smallIp = small.service('ingress-nginx-controller', 'ingress-nginx').loadBalancerIP!;
    // serving() needs one healthy node per rule; under load the others may still be coming up, and one
    // flapping probe would then leave none: wait until the LB sees every node, as a user would.
    for (const node of small.nodes) await small.waitForProbe(node.name, 'up', { service: 'ingress-nginx/ingress-nginx-controller' });
  });

  afterAll(() => small?.stop());

  it('serves every method, host and path that no rule matches', async () => {
    for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const) {
      const seen = await echo(smallIp, '/sub-path', { host: 'some-host.example', method });
      expect(seen).toMatchObject({ method, path: '/sub-path', host: 'some-host.example' });
      expect(seen.pod).toMatch(/^fallback-/);
    }
  });

  it("leaves a known host's unmatched paths to the controller's own 404", async () => {
    expect((await echo(smallIp, '/app', { host: 'known.example' })).pod).toMatch(/^known-/);
    expect((await send(smallIp, '/other', { host: 'known.example' })).status).toBe(404);
  });
});
