/**
 * The lean upstream client and its strict response parser: what an upstream may send and
 * what makes the try fail with 502, as nginx refuses it; framing, keep-alive reuse and the
 * retry of a request on a cached connection the upstream had closed.
 * Addresses: 127.51.11.0/24.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { send, startBackend, type Backend } from '../../fixtures/ingress/backends.js';
import { endpoints, ingress, path, rule, service } from '../../fixtures/ingress/factory.js';
import { startController, type ControllerHarness } from '../../fixtures/ingress/harness.js';
import { ChunkedDecoder, parseResponseHead, UpstreamResponseError } from '../../../src/dataplane/ingress/upstream-response.js';

const CONTROLLER = '127.51.11.1';
const UPSTREAM = { ip: '127.51.11.10', port: 8080 };

/** A raw upstream: answers each request head with what `script` says for it. */
interface RawUpstream {
  readonly server: Server;
  readonly sockets: Set<Socket>;
  connections: number;
  requests: string[];
  script: (request: string, index: number) => string | Buffer;
  /** After answering: close the connection. */
  closeAfter: boolean;
}

let ctl: ControllerHarness;
let up: RawUpstream;
/** A Node HTTP server that reports what it received (bodies). */
let echo: Backend;

async function rawUpstream(): Promise<RawUpstream> {
  const u: RawUpstream = {
    server: createServer(),
    sockets: new Set(),
    connections: 0,
    requests: [],
    script: () => 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
    closeAfter: false,
  };
  u.server.on('connection', (socket: Socket) => {
    u.connections++;
    u.sockets.add(socket);
    socket.on('close', () => u.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      let end: number;
      while ((end = pending.indexOf('\r\n\r\n')) >= 0) {
        const request = pending.slice(0, end + 4);
        pending = pending.slice(end + 4);
        // Request bodies are read past, not answered.
        if (!/^[A-Z]+ \//.test(request)) continue;
        u.requests.push(request);
        socket.write(u.script(request, u.requests.length - 1));
        if (u.closeAfter) socket.end();
      }
    });
  });
  await new Promise<void>((resolve) => u.server.listen(UPSTREAM.port, UPSTREAM.ip, resolve));
  return u;
}

beforeAll(async () => {
  up = await rawUpstream();
  echo = await startBackend('echo', '127.51.11.20');
  const svc = service('raw', [{ port: 80 }]);
  const echoSvc = service('echo', [{ port: 80 }]);
  ctl = await startController(CONTROLLER, {
    // One try: a failed try is not retried by proxy-next-upstream, so a retry seen is the cached-connection one.
    ingresses: [
      ingress('raw', [rule('raw.example', path('/', 'raw')), rule('echo.example', path('/', 'echo'))], {
        annotations: { 'nginx.ingress.kubernetes.io/proxy-next-upstream-tries': '1', 'nginx.ingress.kubernetes.io/proxy-body-size': '64k' },
      }),
    ],
    services: [svc, echoSvc],
    endpoints: [endpoints(svc, [UPSTREAM]), endpoints(echoSvc, [{ ip: echo.ip, port: echo.port }])],
  });
});

afterAll(async () => {
  await ctl?.stop();
  await echo?.close();
  for (const s of up?.sockets ?? []) s.destroy();
  await new Promise((resolve) => up?.server.close(resolve));
});

beforeEach(() => {
  up.requests = [];
  up.closeAfter = false;
  for (const s of up.sockets) s.destroy();
});

const get = (p = '/', method = 'GET') => send(`${ctl.http}${p}`, { host: 'raw.example', method });

describe('parseResponseHead', () => {
  const ok = (text: string, method = 'GET') => parseResponseHead(text, method);
  const bad = (text: string) => expect(() => parseResponseHead(text, 'GET')).toThrow(UpstreamResponseError);

  it('reads status, headers (lowercased, repeats as arrays) and framing', () => {
    const head = ok('HTTP/1.1 201 Created\r\nContent-Length: 5\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n\r\n');
    expect(head).toMatchObject({ status: 201, framing: 'length', length: 5, keepAlive: true });
    expect(head.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(ok('HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n').framing).toBe('chunked');
    expect(ok('HTTP/1.1 200 OK\r\n\r\n')).toMatchObject({ framing: 'close', keepAlive: false });
    expect(ok('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n').keepAlive).toBe(false);
    expect(ok('HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n').keepAlive).toBe(false);
    expect(ok('HTTP/1.1 204 No Content\r\ncontent-length: 10\r\n\r\n').framing).toBe('none');
    expect(ok('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n', 'HEAD').framing).toBe('none');
    expect(ok('HTTP/1.1 200\r\n\r\n').status).toBe(200);
  });

  it('accepts a bare LF as a line end, as nginx does', () => {
    expect(ok('HTTP/1.1 200 OK\ncontent-length: 2\n\n')).toMatchObject({ status: 200, length: 2 });
  });

  it('refuses what nginx refuses from an upstream', () => {
    bad('HTTP/1.1 20 OK\r\n\r\n');
    bad('HTTP/1.1 2000 OK\r\n\r\n');
    bad('HTTP/2.0 200 OK\r\n\r\n');
    bad('ICY 200 OK\r\n\r\n');
    bad('HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 1\r\n\r\n');
    bad('HTTP/1.1 200 OK\r\ncontent-length: 1, 1\r\n\r\n');
    bad('HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n');
    bad('HTTP/1.1 200 OK\r\ncontent-length: 0x10\r\n\r\n');
    bad('HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n');
    bad('HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n');
    bad('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n');
    bad('HTTP/1.1 200 OK\r\nx-a: 1\r\n folded\r\n\r\n');
    bad('HTTP/1.1 200 OK\r\nx-a : 1\r\n\r\n');
    bad('HTTP/1.1 200 OK\r\nno colon\r\n\r\n');
    bad('HTTP/1.1 200 OK\r\nx-a: 1\rx-b: 2\r\n\r\n');
    bad('HTTP/1.1 200 OK\r\nx-a: a\u0000b\r\n\r\n');
  });
});

describe('ChunkedDecoder', () => {
  const decode = (text: string): string => {
    const d = new ChunkedDecoder();
    let out = '';
    const buf = Buffer.from(text, 'latin1');
    // One byte at a time: every state must survive a split read.
    for (let i = 0; i < buf.length; i++) d.feed(buf, i, i + 1, (p) => (out += p.toString('latin1')));
    expect(d.done).toBe(true);
    return out;
  };
  const bad = (text: string) => expect(() => new ChunkedDecoder().feed(Buffer.from(text), 0, text.length, () => undefined)).toThrow(UpstreamResponseError);

  it('joins chunks, skips extensions and trailers, accepts LF line ends', () => {
    expect(decode('5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nx-t: 1\r\n\r\n')).toBe('hello world');
    expect(decode('2\nab\n0\n\n')).toBe('ab');
  });

  it('refuses a size that is not hex, overflows or is missing, and data longer than its size', () => {
    bad('zz\r\n');
    bad('\r\n');
    bad('-1\r\n');
    bad('1234567890abcdef0\r\n');
    bad('2\r\nabc\r\n');
    bad('2\r\nab\rx');
  });
});

describe('through the controller', () => {
  it('relays Content-Length, chunked and until-close bodies, and skips 1xx', async () => {
    up.script = () => 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-up: 1\r\n\r\nhello';
    let r = await get();
    expect([r.status, r.body, r.headers['x-up']]).toEqual([200, 'hello', '1']);
    up.script = () => 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n';
    r = await get();
    expect([r.status, r.body]).toEqual([200, 'abcde']);
    up.script = () => 'HTTP/1.1 200 OK\ncontent-length: 2\n\nlf';
    r = await get();
    expect([r.status, r.body]).toEqual([200, 'lf']);
    up.script = () => 'HTTP/1.1 200 OK\r\n\r\nuntil close';
    up.closeAfter = true;
    r = await get();
    expect([r.status, r.body]).toEqual([200, 'until close']);
  });

  it('passes header bytes beyond ASCII through unchanged (a UTF-8 file name)', async () => {
    const disposition = Buffer.from('attachment; filename="café.txt"', 'utf8');
    up.script = () => Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-disposition: '), disposition, Buffer.from('\r\n\r\nok')]);
    const u = new URL(ctl.http);
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const c = connect(Number(u.port), u.hostname, () => c.write('GET / HTTP/1.1\r\nHost: raw.example\r\nConnection: close\r\n\r\n'));
      c.on('data', (d: Buffer) => chunks.push(d));
      c.on('error', reject);
      c.on('close', () => resolve(Buffer.concat(chunks)));
    });
    expect(reply.toString('latin1')).toMatch(/^HTTP\/1\.1 200 /);
    // The bytes come through as the upstream sent them (nginx does not re-encode header values).
    expect(reply.includes(Buffer.concat([Buffer.from('content-disposition: '), disposition, Buffer.from('\r\n')]))).toBe(true);
  });

  it('answers 502 for a response nginx refuses', async () => {
    for (const response of [
      'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\nok',
      'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\nok',
      'HTTP/1.1 200 OK\r\nx-a: 1\r\n folded\r\ncontent-length: 2\r\n\r\nok',
      'HTTP/1.1 2xx OK\r\ncontent-length: 2\r\n\r\nok',
      'garbage\r\n\r\n',
    ]) {
      up.script = () => response;
      const r = await get();
      expect(r.status, response).toBe(502);
    }
  });

  it('cuts the client off when a chunk size is invalid after the head went out', async () => {
    up.script = () => 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n';
    await expect(get()).rejects.toThrow();
  });

  it('reuses a connection after a complete response, not after one with bytes past its end', async () => {
    up.script = () => 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
    await get();
    const before = up.connections;
    for (let i = 0; i < 5; i++) expect((await get()).status).toBe(200);
    expect(up.connections).toBe(before);
    up.script = () => 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokEXTRA';
    expect((await get()).body).toBe('ok');
    up.script = () => 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
    expect((await get()).status).toBe(200);
    expect(up.connections).toBe(before + 1);
  });

  it('sends the request head as one write with the proxy headers, and content-length: 0 only where undici sent it', async () => {
    up.script = () => 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n';
    await get('/a?b=1');
    await get('/p', 'POST');
    const [getHead, postHead] = up.requests.slice(-2);
    expect(getHead).toMatch(/^GET \/a\?b=1 HTTP\/1\.1\r\nhost: raw\.example\r\nconnection: keep-alive\r\n/);
    expect(getHead).toMatch(/\r\nx-forwarded-host: raw\.example\r\n/);
    expect(getHead).not.toMatch(/content-length/i);
    expect(postHead).toMatch(/\r\ncontent-length: 0\r\n\r\n$/);
  });

  it('retries a GET on a new connection when the upstream closed the cached one as it was sent', async () => {
    up.script = () => 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
    await get();
    // The next request finds the cached connection; the upstream resets it without answering.
    up.script = (_req, index) => {
      if (index === up.requests.length - 1) {
        up.script = () => 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nagain';
        for (const s of up.sockets) s.resetAndDestroy();
      }
      return '';
    };
    const before = up.connections;
    const r = await get();
    expect([r.status, r.body]).toEqual([200, 'again']);
    expect(up.connections).toBe(before + 1);
  });

  it('sends a request body with its Content-Length, or chunked when the client sent it chunked', async () => {
    const body = 'x'.repeat(40_000);
    let r = await send(`${ctl.http}/cl`, { host: 'echo.example', method: 'PUT', body });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ method: 'PUT', bodyLength: 40_000 });
    expect(r.json?.headers['content-length']).toBe('40000');
    r = await send(`${ctl.http}/te`, { host: 'echo.example', method: 'POST', body, headers: { 'transfer-encoding': 'chunked' } });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ method: 'POST', bodyLength: 40_000 });
    expect(r.json?.headers['transfer-encoding']).toBe('chunked');
    expect(r.json?.headers['content-length']).toBeUndefined();
  });

  it('answers 413 when a chunked body grows past proxy-body-size on the way', async () => {
    const r = await send(`${ctl.http}/big`, { host: 'echo.example', method: 'POST', body: 'x'.repeat(100_000), headers: { 'transfer-encoding': 'chunked' } });
    expect(r.status).toBe(413);
  });

  it('relays an answer that comes before the body is sent, and stays in step for the next request', async () => {
    up.script = (request) =>
      request.startsWith('POST') ? 'HTTP/1.1 201 Created\r\ncontent-length: 5\r\n\r\nearly' : 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
    await get();
    const before = up.connections;
    const r = await send(`${ctl.http}/`, { host: 'raw.example', method: 'POST', body: 'y'.repeat(30_000), headers: { 'transfer-encoding': 'chunked' } });
    expect([r.status, r.body]).toEqual([201, 'early']);
    const next = await get();
    expect([next.status, next.body]).toEqual([200, 'ok']);
    // Reused only if the whole body had gone out before the answer came.
    expect(up.connections - before).toBeLessThanOrEqual(1);
  });

  it('does not resend a POST that met a closed cached connection: 502, as nginx (non-idempotent)', async () => {
    up.script = () => 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
    await get();
    up.script = () => {
      up.script = () => 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
      for (const s of up.sockets) s.resetAndDestroy();
      return '';
    };
    expect((await get('/', 'POST')).status).toBe(502);
  });
});
