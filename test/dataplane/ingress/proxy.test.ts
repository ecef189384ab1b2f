/**
 * The proxy through a real controller pod: load balancing, headers both ways, 503/413/
 * 502/504, retries, keep-alive. Addresses: 127.51.2.0/24.
 */
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, send, type Backend } from '../../fixtures/ingress/backends.js';
import { endpoints, ingress, path, rule, service } from '../../fixtures/ingress/factory.js';
import { startController, type ControllerHarness } from '../../fixtures/ingress/harness.js';

const CONTROLLER = '127.51.2.1';
const CLIENT = '127.51.2.200';
const DEAD = { ip: '127.51.2.31', port: 9 };

let ctl: ControllerHarness;
const pods: Backend[] = [];
let hanging: Backend;

function echoService(name: string, backends: readonly { ip: string; port: number }[]) {
  const svc = service(name, [{ port: 80 }]);
  return {
    svc,
    eps: endpoints(
      svc,
      backends.map((b) => ({ ip: b.ip, port: b.port })),
    ),
  };
}

beforeAll(async () => {
  for (let i = 0; i < 10; i++) pods.push(await startBackend(`pod-${i}`, `127.51.2.${10 + i}`));
  hanging = await startBackend('hanging', '127.51.2.40', 0, { hang: true });
  ctl = await startController(CONTROLLER, { ingresses: [] });
});

afterAll(async () => {
  await ctl?.stop();
  await Promise.all([...pods, hanging].map((b) => b?.close()));
});

function serve(backends: readonly { ip: string; port: number }[], annotations: Record<string, string> = {}, name = 'echo'): void {
  const { svc, eps } = echoService(name, backends);
  ctl.setInput({ ingresses: [ingress('app', [rule('app.example', path('/', name))], { annotations })], services: [svc], endpoints: [eps] });
}

describe('load balancing', () => {
  it('spreads requests round robin over the ready pod endpoints, not the ClusterIP', async () => {
    serve(pods);
    const counts = new Map<string, number>();
    for (let i = 0; i < 100; i++) {
      const r = await send(`${ctl.http}/`, { host: 'app.example' });
      expect(r.status).toBe(200);
      counts.set(r.json?.name ?? '', (counts.get(r.json?.name ?? '') ?? 0) + 1);
    }
    expect(counts.size).toBe(10);
    expect([...counts.values()].every((n) => n === 10)).toBe(true);
  });

  it('leaves out endpoints that are not ready', async () => {
    const svc = service('echo', [{ port: 80 }]);
    const eps = endpoints(svc, [
      { ip: pods[0]!.ip, port: pods[0]!.port },
      { ip: pods[1]!.ip, port: pods[1]!.port, ready: false },
    ]);
    ctl.setInput({ ingresses: [ingress('app', [rule('app.example', path('/', 'echo'))])], services: [svc], endpoints: [eps] });
    for (let i = 0; i < 4; i++) expect((await send(`${ctl.http}/`, { host: 'app.example' })).json?.name).toBe('pod-0');
  });
});

describe('headers', () => {
  it('sends ingress-nginx headers to the backend and keeps the Host', async () => {
    serve([pods[0]!]);
    const r = await send(`${ctl.http}/h?x=1`, {
      host: 'app.example:8080',
      localAddress: CLIENT,
      headers: { 'x-forwarded-for': '203.0.113.9', proxy: 'http://evil', connection: 'x-hop', 'x-hop': '1', 'x-app': 'kept' },
    });
    const seen = r.json!;
    expect(seen.url).toBe('/h?x=1');
    expect(seen.remoteAddress).toBe(CONTROLLER);
    expect(seen.headers).toMatchObject({
      host: 'app.example:8080',
      'x-real-ip': CLIENT,
      'x-forwarded-for': CLIENT,
      'x-original-forwarded-for': '203.0.113.9',
      'x-forwarded-host': 'app.example:8080',
      'x-forwarded-port': '8080',
      'x-forwarded-proto': 'http',
      'x-forwarded-scheme': 'http',
      'x-scheme': 'http',
      'x-app': 'kept',
    });
    expect(seen.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(seen.headers.proxy).toBeUndefined();
    expect(seen.headers['x-hop']).toBeUndefined();
  });

  it('keeps an incoming X-Request-ID', async () => {
    serve([pods[0]!]);
    const r = await send(`${ctl.http}/`, { host: 'app.example', headers: { 'x-request-id': 'abc-123' } });
    expect(r.json?.headers['x-request-id']).toBe('abc-123');
  });

  it("answers with Server: nginx and the backend's Content-Length and headers", async () => {
    const custom = await startBackend('custom', '127.51.2.41', 0, { responseHeaders: { 'x-from-backend': 'yes' } });
    try {
      serve([custom]);
      const r = await send(`${ctl.http}/`, { host: 'app.example' });
      expect(r.headers.server).toBe('nginx');
      expect(r.headers['x-from-backend']).toBe('yes');
      expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.body));
      expect(r.headers['transfer-encoding']).toBeUndefined();
    } finally {
      await custom.close();
    }
  });
});

describe('errors', () => {
  it('answers 503 when the Service has no ready endpoints or does not exist', async () => {
    serve([]);
    const none = await send(`${ctl.http}/`, { host: 'app.example' });
    expect(none.status).toBe(503);
    expect(none.body).toContain('503 Service Temporarily Unavailable');
    ctl.setInput({ ingresses: [ingress('app', [rule('app.example', path('/', 'missing'))])] });
    expect((await send(`${ctl.http}/`, { host: 'app.example' })).status).toBe(503);
  });

  it('answers 413 before proxying when Content-Length exceeds proxy-body-size (1m by default)', async () => {
    serve([pods[0]!]);
    const before = pods[0]!.seen.length;
    const big = await send(`${ctl.http}/`, { method: 'POST', host: 'app.example', body: Buffer.alloc(1024 * 1024 + 1) });
    expect(big.status).toBe(413);
    expect(pods[0]!.seen.length).toBe(before);
    const ok = await send(`${ctl.http}/`, { method: 'POST', host: 'app.example', body: Buffer.alloc(1024 * 1024) });
    expect(ok.status).toBe(200);
    expect(ok.json?.bodyLength).toBe(1024 * 1024);
  });

  it('answers 413 for a chunked body that grows past proxy-body-size', async () => {
    serve([pods[0]!], { 'proxy-body-size': '1k' });
    const r = await new Promise<number>((resolve, reject) => {
      const req = request({ host: CONTROLLER, port: 8080, method: 'POST', path: '/', headers: { host: 'app.example' }, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write(Buffer.alloc(600));
      req.write(Buffer.alloc(600));
      req.end();
    });
    expect(r).toBe(413);
  });

  it('retries an idempotent request on the next endpoint after a connection error', async () => {
    serve([DEAD, pods[3]!]);
    for (let i = 0; i < 3; i++) {
      const r = await send(`${ctl.http}/`, { host: 'app.example' });
      expect(r.status).toBe(200);
      expect(r.json?.name).toBe('pod-3');
    }
  });

  it('does not retry a POST and answers 502', async () => {
    serve([DEAD, pods[3]!]);
    expect((await send(`${ctl.http}/`, { method: 'POST', host: 'app.example', body: 'x' })).status).toBe(502);
  });

  it('answers 502 when every try fails', async () => {
    serve([DEAD]);
    const r = await send(`${ctl.http}/`, { host: 'app.example' });
    expect(r.status).toBe(502);
    expect(r.body).toContain('502 Bad Gateway');
  });

  it('answers 504 when the backend does not answer within proxy-read-timeout', async () => {
    serve([hanging], { 'proxy-read-timeout': '1', 'proxy-next-upstream-tries': '1' });
    const r = await send(`${ctl.http}/`, { host: 'app.example' });
    expect(r.status).toBe(504);
    expect(r.body).toContain('504 Gateway Time-out');
  });
});

describe('client connections', () => {
  it('keeps client connections alive across requests', async () => {
    serve([pods[0]!]);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const ports: number[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        await new Promise<void>((resolve, reject) => {
          const req = request({ host: CONTROLLER, port: 8080, path: '/', headers: { host: 'app.example' }, agent }, (res) => {
            ports.push(res.socket.localPort ?? 0);
            res.resume();
            res.on('end', resolve);
          });
          req.on('error', reject);
          req.end();
        });
      }
    } finally {
      agent.destroy();
    }
    expect(new Set(ports).size).toBe(1);
  });
});
