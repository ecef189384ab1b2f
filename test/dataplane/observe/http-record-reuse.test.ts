/**
 * HTTP trace records are reused once the trace ring, the access log ring and the request
 * have all let go of them. What the trace API, followers and the access log return must be
 * the request's own data however often records are reused, and a record still held (an
 * open request that left the trace ring, a line still in the log) must not be reused.
 * Addresses: 127.51.12.0/24.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Exchange } from '../../../src/dataplane/ingress/exchange.js';
import { AccessLog } from '../../../src/dataplane/observe/access-log.js';
import { HttpCounters } from '../../../src/dataplane/observe/http-counters.js';
import { HttpObserver } from '../../../src/dataplane/observe/http.js';
import { Traces, type TraceView } from '../../../src/dataplane/observe/traces.js';

const SERVER = '127.51.12.1';
const CLIENT = '127.51.12.2';

interface Observed {
  readonly traces: Traces;
  readonly log: AccessLog;
  readonly observer: HttpObserver;
  readonly url: string;
  /** Requests to /hold/* wait here until released. */
  readonly held: Map<string, ServerResponse>;
}

let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A server whose handler is the observer's hooks around a trivial answer (no router: the default backend's labels). */
async function observed(traceCapacity: number, logLines: number): Promise<Observed> {
  const traces = new Traces(traceCapacity);
  const log = new AccessLog(logLines);
  const observer = new HttpObserver({ traces, counters: new HttpCounters(), pod: 'ingress-nginx/controller-0', accessLog: log });
  const held = new Map<string, ServerResponse>();
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const ex = new Exchange(req, 'http', '80');
    ex.host = req.headers.host ?? '';
    ex.url = ex.target = req.url ?? '';
    ex.requestId = String(req.headers['x-request-id'] ?? '');
    observer.begin(ex, res);
    if (ex.url.startsWith('/hold/')) held.set(ex.url, res);
    else res.end(`answer for ${ex.url}`);
  });
  await new Promise<void>((resolve) => server!.listen(0, SERVER, resolve));
  return { traces, log, observer, url: `http://${SERVER}:${(server.address() as AddressInfo).port}`, held };
}

function get(base: string, path: string, id: string, agent: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    const req = request(
      { host: url.hostname, port: url.port, path, localAddress: CLIENT, agent: false, headers: { 'x-request-id': id, 'user-agent': agent } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A request id as the proxy makes them (32 lower-case hex digits) for even n, as a client may send one for odd n. */
function requestId(n: number): string {
  return n % 2 === 0 ? n.toString(16).padStart(32, 'a') : `client-id-${n}`;
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(done()).toBe(true);
}

function request1(view: TraceView): { request: unknown; requestId: unknown; status: unknown } {
  return { request: view.request, requestId: view.requestId, status: view.status };
}

describe('reused HTTP trace records', () => {
  it("reuse records once both rings dropped them, and every view and line is its own request's", async () => {
    const o = await observed(3, 2);
    const early: TraceView[] = [];
    const followed: TraceView[] = [];
    const lines: string[] = [];
    o.traces.follow({ kind: 'http' }, (view) => followed.push(view));
    o.log.follow((line) => lines.push(line));
    for (let n = 1; n <= 40; n++) {
      await get(o.url, `/r${n}`, requestId(n), `agent-${n % 3}`);
      await until(() => followed.length === n);
      if (n === 1) early.push(...o.traces.query({ kind: 'http' }));
    }
    // Far fewer records than requests: the rings let go and the observer took them back.
    expect(o.observer.recordsMade).toBeLessThanOrEqual(6);
    // A view read before its record was reused still says what its request did.
    expect(early.map(request1)).toEqual([{ request: 'GET /r1 HTTP/1.1', requestId: requestId(1), status: 200 }]);
    // Every follower's view and line, read as each request ended, is that request's.
    followed.forEach((view, i) => expect(request1(view)).toEqual({ request: `GET /r${i + 1} HTTP/1.1`, requestId: requestId(i + 1), status: 200 }));
    lines.forEach((line, i) => {
      expect(line).toContain(`"GET /r${i + 1} HTTP/1.1" 200 ${`answer for /r${i + 1}`.length} "-" "agent-${(i + 1) % 3}"`);
      expect(line.endsWith(` ${requestId(i + 1)}`)).toBe(true);
    });
    // What the rings hold now: the latest 3 traces and the latest 2 lines.
    expect(o.traces.query({ kind: 'http' }).map(request1)).toEqual(
      [38, 39, 40].map((n) => ({ request: `GET /r${n} HTTP/1.1`, requestId: requestId(n), status: 200 })),
    );
    expect(o.log.text().split('\n').slice(0, -1)).toEqual(lines.slice(-2));
  });

  it('keep an open request that left the trace ring, and a line still in the log, out of reuse', async () => {
    const o = await observed(2, 8);
    const slow = get(o.url, '/hold/slow', requestId(100), 'slow-agent');
    await until(() => o.held.has('/hold/slow'));
    for (let n = 1; n <= 12; n++) await get(o.url, `/q${n}`, requestId(n), 'quick');
    // /hold/slow left the trace ring long ago but is still running.
    expect(o.traces.query({ kind: 'http' }).map((v) => v.request)).toEqual(['GET /q11 HTTP/1.1', 'GET /q12 HTTP/1.1']);
    o.held.get('/hold/slow')!.end('late');
    await slow;
    await until(() => o.log.text().includes('/hold/slow'));
    const lines = o.log.text().split('\n').slice(0, -1);
    expect(lines).toHaveLength(8);
    // The log's lines are the latest 7 quick requests, then the slow one, each with its own data.
    lines.slice(0, 7).forEach((line, i) => {
      const n = i + 6;
      expect(line).toContain(`"GET /q${n} HTTP/1.1" 200`);
      expect(line.endsWith(` ${requestId(n)}`)).toBe(true);
    });
    expect(lines[7]).toContain('"GET /hold/slow HTTP/1.1" 200 4 "-" "slow-agent"');
    expect(lines[7]!.endsWith(` ${requestId(100)}`)).toBe(true);
  });
});
