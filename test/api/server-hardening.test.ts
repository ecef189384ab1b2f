import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminServer, type AdminServer } from '../../src/api/server.js';
import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';
import { rawRequest } from './raw-http.js';

const MANIFESTS = `
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  selector: { app: web }
  ports: [{ port: 80 }]
`;

function get(url: string, target: string, headers = '') {
  return rawRequest(url, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}Connection: close\r\n\r\n`);
}

describe('admin API hardening', () => {
  let cluster: Cluster;
  let url: string;

  beforeAll(async () => {
    cluster = await startCluster({ manifests: MANIFESTS, config: { addresses: addressBlock(15), ingress: { enabled: false } }, timeScale: 1 / 100 });
    url = cluster.adminUrl!;
  });
  afterAll(() => cluster?.stop());

  it.each(['//[', 'http://[::1', '/api/v1/namespaces/%zz/pods', '/%', 'gopher://x/', '*'])(
    'answers the request-target %s with a 400 Status and keeps serving',
    async (target) => {
      const res = await get(url, target);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
      expect((await get(url, '/healthz')).status).toBe(200);
    },
  );

  it('refuses a Host that is not its own address (DNS rebinding)', async () => {
    const res = await rawRequest(url, 'GET /aks-emu/v1/snapshot HTTP/1.1\r\nHost: attacker.example:7070\r\nConnection: close\r\n\r\n');
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).reason).toBe('Forbidden');
    const local = await rawRequest(url, 'GET /healthz HTTP/1.1\r\nHost: localhost:7070\r\nConnection: close\r\n\r\n');
    expect(local.status).toBe(200);
  });

  it('refuses a cross-site POST, and a text/plain body even from the same origin', async () => {
    const node = cluster.nodes[0]!.name;
    const crossSite = await fetch(`${url}/aks-emu/v1/nodes/${node}/stop`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(crossSite.status).toBe(403);
    const plain = await fetch(`${url}/aks-emu/v1/nodes/${node}/stop`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    expect(plain.status).toBe(415);
    expect(((await plain.json()) as { reason: string }).reason).toBe('UnsupportedMediaType');
    expect(cluster.snapshot.nodes.every((n) => n.running)).toBe(true);
  });

  it('answers an unknown path 404 NotFound and a wrong method 405 MethodNotAllowed', async () => {
    const missing = await fetch(`${url}/no/such/thing`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { reason: string }).reason).toBe('NotFound');
    const wrong = await fetch(`${url}/aks-emu/v1/snapshot`, { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(((await wrong.json()) as { reason: string }).reason).toBe('MethodNotAllowed');
  });

  it('refuses a body over 1 MiB with 413 before reading it whole', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 0x20);
    const res = await rawRequest(
      url,
      Buffer.concat([
        Buffer.from(
          `PUT /aks-emu/v1/namespaces/default/pods/x/readiness HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${big.length.toString(16)}\r\n`,
        ),
        big,
        Buffer.from('\r\n0\r\n\r\n'),
      ]),
    );
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).reason).toBe('RequestEntityTooLarge');
    const declared = await rawRequest(
      url,
      `PUT /aks-emu/v1/namespaces/default/pods/x/readiness HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${50 * 1024 * 1024}\r\n\r\n`,
    );
    expect(declared.status).toBe(413);
  });

  it('answers malformed JSON with 400 BadRequest', async () => {
    const res = await fetch(`${url}/aks-emu/v1/namespaces/default/pods/x/readiness`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"ready":',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { reason: string }).reason).toBe('BadRequest');
  });

  describe('with a token', () => {
    let admin: AdminServer;
    beforeAll(async () => {
      admin = await startAdminServer(
        {
          snapshot: cluster.snapshot,
          created: { get: () => '' },
          manifests: { services: [], workloads: [], endpointSlices: [], secrets: [], namespaces: [], ingresses: [], ingressClasses: [], skipped: [] },
          router: undefined,
          probeStatus: () => [],
          stats: () => ({}),
          stopNode: async () => {},
          startNode: async () => {},
          setPodReady: async () => {},
        },
        '127.0.0.1',
        0,
        { requireToken: true },
      );
    });
    afterAll(() => admin?.close());

    it('refuses a call without the bearer token with 401 Unauthorized and accepts it with the token', async () => {
      const without = await fetch(`${admin.url}/aks-emu/v1/stats`);
      expect(without.status).toBe(401);
      expect(((await without.json()) as { reason: string }).reason).toBe('Unauthorized');
      const wrong = await fetch(`${admin.url}/aks-emu/v1/stats`, { headers: { authorization: 'Bearer nope' } });
      expect(wrong.status).toBe(401);
      const right = await fetch(`${admin.url}/aks-emu/v1/stats`, { headers: { authorization: `Bearer ${admin.token}` } });
      expect(right.status).toBe(200);
    });
  });

  it('survives random request lines, headers, bodies and URLs (fuzz)', async () => {
    const token = fc.stringMatching(/^[!-~]{0,12}$/);
    const segment = fc.oneof(
      fc.constantFrom('api', 'v1', 'apis', 'namespaces', 'default', 'pods', 'services', 'aks-emu', 'nodes', 'stop', '%', '%zz', '%00', '[', '..', ''),
      token,
    );
    const target = fc.oneof(
      fc.array(segment, { maxLength: 7 }).map((s) => `/${s.join('/')}`),
      fc.tuple(fc.constantFrom('http://', 'http://[', '//', '', '*', 'https://127.0.0.1'), token).map(([a, b]) => a + b),
      fc.string({ maxLength: 40 }),
    );
    const query = fc.oneof(
      fc.constant(''),
      fc
        .array(fc.tuple(fc.constantFrom('watch', 'labelSelector', 'fieldSelector', 'resourceVersion', 'limit', 'x'), token), { maxLength: 3 })
        .map((q) => `?${q.map(([k, v]) => `${k}=${v}`).join('&')}`),
    );
    const method = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'BREW', 'G T');
    const header = fc.tuple(
      fc.constantFrom('Host', 'Content-Type', 'Origin', 'Authorization', 'Accept', 'Content-Length', 'X-Junk'),
      fc.oneof(
        token,
        fc.constantFrom(
          'application/json',
          'application/json;as=Table;v=v1;g=meta.k8s.io',
          'application/merge-patch+json',
          'localhost',
          '127.0.0.1',
          '[::1',
          '-1',
          '99999999999',
          'Bearer x',
        ),
      ),
    );
    const body = fc.oneof(fc.constant(''), fc.json(), fc.string({ maxLength: 80 }));
    await fc.assert(
      fc.asyncProperty(method, target, query, fc.array(header, { maxLength: 4 }), body, async (m, t, q, hs, b) => {
        const headers = hs.map(([k, v]) => `${k}: ${v}\r\n`).join('');
        const request = `${m} ${t}${q} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}Connection: close\r\n\r\n${b}`;
        await rawRequest(url, request, 5_000, true).catch(() => undefined);
      }),
      { numRuns: 1500 },
    );
    expect((await get(url, '/healthz')).status).toBe(200);
  }, 120_000);
});
