/**
 * The controller pod's access log and request traces, through a real controller pod:
 * retries, the default backend, canaries, credentials and a client that gives up.
 * Addresses: 127.51.10.0/24.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpCounters } from '../../../src/dataplane/observe/http-counters.js';
import { Traces } from '../../../src/dataplane/observe/traces.js';
import { startBackend, send, type Backend } from '../../fixtures/ingress/backends.js';
import { endpoints, ingress, path, rule, service } from '../../fixtures/ingress/factory.js';
import { HTTP_PORT, startController, type ControllerHarness } from '../../fixtures/ingress/harness.js';

const CONTROLLER = '127.51.10.1';
const CLIENT = '127.51.10.200';
const DEAD = { ip: '127.51.10.31', port: 9 };

let ctl: ControllerHarness;
let pod: Backend;
let canary: Backend;
let hanging: Backend;
const traces = new Traces(64);
const http = new HttpCounters();

beforeAll(async () => {
  pod = await startBackend('pod', '127.51.10.10');
  canary = await startBackend('canary', '127.51.10.20');
  hanging = await startBackend('hanging', '127.51.10.40', 0, { hang: true });
  ctl = await startController(CONTROLLER, { ingresses: [] }, { observe: { traces, http }, random: () => 0 });
});

afterAll(async () => {
  await ctl?.stop();
  await Promise.all([pod, canary, hanging].map((b) => b?.close()));
});

function lastLine(): string {
  const log = ctl.pod.logs!({}) ?? '';
  return log.trimEnd().split('\n').at(-1) ?? '';
}

/** The fields of one line in log-format-upstream's order; the upstream lists are comma-and-space separated. */
function fields(line: string): Record<string, string> {
  const m =
    /^(\S+) - (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)" (\d+) (\d+\.\d{3}) \[([^\]]*)\] \[([^\]]*)\] (.*)$/.exec(
      line,
    );
  if (!m) throw new Error(`not in log-format-upstream: ${line}`);
  const names = [
    'remoteAddr',
    'remoteUser',
    'timeLocal',
    'request',
    'status',
    'bodyBytes',
    'referer',
    'agent',
    'requestLength',
    'requestTime',
    'upstream',
    'alternative',
  ];
  const out: Record<string, string> = Object.fromEntries(names.map((n, i) => [n, m[i + 1]!]));
  const lists = m[13]!.replace(/, /g, ',').split(' ');
  if (lists.length !== 5) throw new Error(`upstream fields: ${m[13]}`);
  ['upstreamAddr', 'upstreamLength', 'upstreamTime', 'upstreamStatus', 'reqId'].forEach((n, i) => (out[n] = lists[i]!.replace(/,/g, ', ')));
  expect(out.reqId).toMatch(/^[0-9a-f]{32}$/);
  return out;
}

function serve(backends: readonly { ip: string; port: number }[], name = 'app'): void {
  const svc = service(name, [{ port: 80 }]);
  ctl.setInput({
    ingresses: [ingress(name, [rule('app.example', path('/', name))])],
    services: [svc],
    endpoints: [
      endpoints(
        svc,
        backends.map((b) => ({ ip: b.ip, port: b.port })),
      ),
    ],
  });
}

describe('the access log in log-format-upstream', () => {
  it('lists every try of a retried request, with its address, length, time and status', async () => {
    serve([DEAD, pod]);
    const r = await send(`${ctl.http}/retry?x=1`, { host: 'app.example', localAddress: CLIENT });
    expect(r.status).toBe(200);
    const f = fields(lastLine());
    expect(f).toMatchObject({
      remoteAddr: CLIENT,
      remoteUser: '-',
      request: 'GET /retry?x=1 HTTP/1.1',
      status: '200',
      upstream: 'default-app-80',
      alternative: '',
    });
    expect(f.upstreamAddr).toBe(`${DEAD.ip}:${DEAD.port}, ${pod.ip}:${pod.port}`);
    expect(f.upstreamStatus).toBe('502, 200');
    expect(f.upstreamLength).toBe(`0, ${Buffer.byteLength(r.body)}`);
    expect(f.upstreamTime).toMatch(/^\d+\.\d{3}, \d+\.\d{3}$/);
    expect(Number(f.bodyBytes)).toBe(Buffer.byteLength(r.body));
    const [trace] = traces.query({ kind: 'http', last: 1 }) as unknown as { hops: { hop: string; status?: number }[]; requestId: string }[];
    expect(trace!.hops.filter((h) => h.hop === 'endpoint').map((h) => h.status)).toEqual([502, 200]);
    expect(trace!.requestId).toBe(f.reqId);
    // The request id the pod received is the one logged.
    expect(pod.seen.at(-1)!.headers['x-request-id']).toBe(f.reqId);
  });

  it('names the Basic user, escapes quotes in headers, and counts the request line and headers', async () => {
    serve([pod]);
    const headers = { authorization: `Basic ${Buffer.from('alice:secret').toString('base64')}`, 'user-agent': 'say "hi"', referer: 'http://ref.example/' };
    await send(`${ctl.http}/who`, { host: 'app.example', headers });
    const f = fields(lastLine());
    expect([f.remoteUser, f.agent, f.referer]).toEqual(['alice', 'say \\x22hi\\x22', 'http://ref.example/']);
    const rawHead = `GET /who HTTP/1.1\r\nauthorization: ${headers.authorization}\r\nuser-agent: say "hi"\r\nreferer: http://ref.example/\r\nhost: app.example\r\nconnection: close\r\n\r\n`;
    expect(Number(f.requestLength)).toBe(rawHead.length);
  });

  it('logs the default backend for a host no Ingress serves, with no upstream', async () => {
    serve([pod]);
    const r = await send(`${ctl.http}/x`, { host: 'nobody.example' });
    expect(r.status).toBe(404);
    const f = fields(lastLine());
    expect([f.status, f.upstream, f.upstreamAddr, f.upstreamLength, f.upstreamTime, f.upstreamStatus]).toEqual([
      '404',
      'upstream-default-backend',
      '-',
      '-',
      '-',
      '-',
    ]);
    expect(Number(f.bodyBytes)).toBe(Buffer.byteLength(r.body));
  });

  it('names the canary upstream as the alternative when the canary served the request', async () => {
    const mainSvc = service('main', [{ port: 80 }]);
    const canarySvc = service('canary', [{ port: 80 }]);
    ctl.setInput({
      ingresses: [
        ingress('main', [rule('app.example', path('/', 'main'))]),
        ingress('canary', [rule('app.example', path('/', 'canary'))], { annotations: { canary: 'true', 'canary-by-header': 'x-canary' } }),
      ],
      services: [mainSvc, canarySvc],
      endpoints: [endpoints(mainSvc, [{ ip: pod.ip, port: pod.port }]), endpoints(canarySvc, [{ ip: canary.ip, port: canary.port }])],
    });
    await send(`${ctl.http}/`, { host: 'app.example', headers: { 'x-canary': 'always' } });
    expect(fields(lastLine())).toMatchObject({ upstream: 'default-main-80', alternative: 'default-canary-80', upstreamAddr: `${canary.ip}:${canary.port}` });
    await send(`${ctl.http}/`, { host: 'app.example' });
    expect(fields(lastLine())).toMatchObject({ upstream: 'default-main-80', alternative: '', upstreamAddr: `${pod.ip}:${pod.port}` });
  });

  it('logs 499 when the client closes before the answer, as nginx does', async () => {
    serve([hanging]);
    const before = ctl.pod.logs!({}) ?? '';
    await new Promise<void>((resolve) => {
      const req = request({ host: CONTROLLER, port: HTTP_PORT, path: '/slow', headers: { host: 'app.example' }, agent: false });
      req.on('error', () => resolve());
      req.end();
      // Once the hanging pod has the request, the client gives up.
      const wait = setInterval(() => {
        if (hanging.seen.some((s) => s.url === '/slow')) {
          clearInterval(wait);
          req.destroy();
        }
      }, 5);
    });
    let line = '';
    for (let i = 0; i < 200 && !(line = lastLine()).includes('/slow'); i++) await new Promise((r) => setTimeout(r, 5));
    expect((ctl.pod.logs!({}) ?? '').length).toBeGreaterThan(before.length);
    expect(fields(line)).toMatchObject({ request: 'GET /slow HTTP/1.1', status: '499', bodyBytes: '0' });
  });

  it("writes nothing with the ConfigMap's disable-access-log, and still traces the request", async () => {
    const svc = service('app', [{ port: 80 }]);
    const input = {
      ingresses: [ingress('app', [rule('app.example', path('/', 'app'))])],
      services: [svc],
      endpoints: [endpoints(svc, [{ ip: pod.ip, port: pod.port }])],
    };
    ctl.setInput({ ...input, controller: { useForwardedHeaders: false, computeFullForwardedFor: false, disableAccessLog: true } });
    const before = ctl.pod.logs!({});
    await send(`${ctl.http}/quiet`, { host: 'app.example' });
    expect(ctl.pod.logs!({})).toBe(before);
    expect(traces.query({ kind: 'http', last: 1 })[0]).toMatchObject({ request: 'GET /quiet HTTP/1.1', status: 200 });
    ctl.setInput(input);
    await send(`${ctl.http}/loud`, { host: 'app.example' });
    expect(lastLine()).toContain('"GET /loud HTTP/1.1" 200');
  });

  it('counts requests per route and status', () => {
    const app = [...http.routes()].find((r) => r.labels.route === 'app' && r.labels.kind === 'Ingress');
    expect(app?.statuses.get(200)).toBeGreaterThanOrEqual(2);
    expect(app?.retries).toBeGreaterThanOrEqual(1);
    const fallback = [...http.routes()].find((r) => r.labels.kind === '');
    expect(fallback?.statuses.get(404)).toBe(1);
  });
});
