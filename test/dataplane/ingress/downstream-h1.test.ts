/**
 * The lean downstream server (src/dataplane/ingress/downstream-h1.ts): the head parser
 * alone, then through a controller pod with raw sockets: what nginx's parser refuses is
 * refused and nothing smuggled behind it reaches the pod; keep-alive, pipelining order,
 * 100-continue, bodies in both framings, hand-over of upgrades to Node's server, and
 * random bytes never take the controller down. Addresses: 127.51.14.0/24.
 */
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { webControllerFixture } from '../../fixtures/ingress/harness.js';
import { rawExchange } from '../../helpers/raw.js';
import { BadRequest, parseChunkSize, parseRequestHead } from '../../../src/dataplane/ingress/downstream-request.js';
import { LeanServer } from '../../../src/dataplane/ingress/downstream-h1.js';
import { createServer } from 'node:http';
import { once } from 'node:events';

function head(text: string) {
  const data = Buffer.from(text, 'latin1');
  return parseRequestHead(data, 0, data.length);
}

function status(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    if (err instanceof BadRequest) return err.status;
    throw err;
  }
  return 0;
}

describe('parseRequestHead', () => {
  it('reads method, target, version, headers as Node combines them, framing and keep-alive', () => {
    const h = head('POST /a?b HTTP/1.1\r\nHost: x\r\nCookie: a=1\r\ncookie: b=2\r\nAccept: a\r\naccept: b\r\nContent-Length: 5\r\nSet-Cookie: s');
    expect(h).toMatchObject({ method: 'POST', url: '/a?b', httpVersion: '1.1', contentLength: 5, chunked: false, keepAlive: true, handOver: false });
    expect(h.headers).toMatchObject({ host: 'x', cookie: 'a=1; b=2', accept: 'a, b', 'content-length': '5', 'set-cookie': ['s'] });
    expect(h.rawHeaders).toEqual(['Host', 'x', 'Cookie', 'a=1', 'cookie', 'b=2', 'Accept', 'a', 'accept', 'b', 'Content-Length', '5', 'Set-Cookie', 's']);
    expect(head('GET / HTTP/1.0\r\nHost: x').keepAlive).toBe(false);
    expect(head('GET / HTTP/1.0\r\nConnection: Keep-Alive').keepAlive).toBe(true);
    expect(head('GET / HTTP/1.1\r\nConnection: close').keepAlive).toBe(false);
    expect(head('POST / HTTP/1.1\r\nTransfer-Encoding: Chunked').chunked).toBe(true);
    expect(head('POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1').expectContinue).toBe(true);
  });

  it('marks upgrades, CONNECT and the HTTP/2 preface for the http.Server', () => {
    expect(head('GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade').handOver).toBe(true);
    expect(head('GET / HTTP/1.1\r\nUpgrade: websocket').handOver).toBe(false);
    expect(head('CONNECT a:443 HTTP/1.1\r\nHost: a').handOver).toBe(true);
    expect(head('PRI * HTTP/2.0').handOver).toBe(true);
  });

  it.each([
    ['Content-Length with Transfer-Encoding', 'POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked', 400],
    ['Content-Length twice, the same', 'POST / HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 4', 400],
    ['Content-Length twice, different', 'POST / HTTP/1.1\r\nContent-Length: 4\r\ncontent-length: 5', 400],
    ['a Content-Length list', 'POST / HTTP/1.1\r\nContent-Length: 0, 4', 400],
    ['a negative Content-Length', 'POST / HTTP/1.1\r\nContent-Length: -1', 400],
    ['a hex Content-Length', 'POST / HTTP/1.1\r\nContent-Length: 0x10', 400],
    ['a Content-Length of 16 digits', 'POST / HTTP/1.1\r\nContent-Length: 1000000000000000', 400],
    ['Transfer-Encoding twice', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked', 400],
    ['Transfer-Encoding not chunked', 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip', 400],
    ['Transfer-Encoding: chunked, identity', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, identity', 400],
    ['Transfer-Encoding on HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked', 400],
    ['obs-fold', 'GET / HTTP/1.1\r\nX-A: 1\r\n 2', 400],
    ['obs-fold with a tab', 'GET / HTTP/1.1\r\nX-A: 1\r\n\t2', 400],
    ['a space before the colon', 'GET / HTTP/1.1\r\nContent-Length : 4', 400],
    ['a line without a colon', 'GET / HTTP/1.1\r\nHost', 400],
    ['an empty name', 'GET / HTTP/1.1\r\n: x', 400],
    ['a name that is not a token', 'GET / HTTP/1.1\r\nX(A): 1', 400],
    ['a bare LF in a header line', 'GET / HTTP/1.1\r\nX-A: 1\nContent-Length: 4', 400],
    ['a bare CR in a header line', 'GET / HTTP/1.1\r\nX-A: 1\rContent-Length: 4', 400],
    ['a NUL in a value', 'GET / HTTP/1.1\r\nX-A: 1\u00002', 400],
    ['a lower-case-less method with a space', 'G T / HTTP/1.1', 400],
    ['a method that is not a token', 'G(T / HTTP/1.1', 400],
    ['a target with a control character', 'GET /a\u0001b HTTP/1.1', 400],
    ['a target with a bare LF', 'GET /a\nb HTTP/1.1', 400],
    ['no target', 'GET HTTP/1.1', 400],
    ['no version', 'GET /', 400],
    ['HTTP/0.9', 'GET / HTTP/0.9', 400],
    ['a version with letters', 'GET / HTTP/1.x', 400],
    ['a lower-case version', 'GET / http/1.1', 400],
    ['HTTP/2.0 outside the preface', 'GET / HTTP/2.0', 505],
    ['HTTP/3.0', 'GET / HTTP/3.0', 505],
    ['a request line over 8 KiB', `GET /${'a'.repeat(9000)} HTTP/1.1`, 414],
    ['a head over 16 KiB', `GET / HTTP/1.1\r\n${'X-A: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(300)}Host: x`, 431],
    ['an expectation other than 100-continue', 'GET / HTTP/1.1\r\nExpect: something', 417],
  ])('refuses %s', (_name, text, code) => {
    expect(status(() => head(text))).toBe(code);
  });

  it('reads chunk sizes with extensions, and refuses what is not a size', () => {
    const size = (line: string) => {
      const data = Buffer.from(`${line}\r\n`, 'latin1');
      return parseChunkSize(data, data.length - 2);
    };
    expect(size('1a')).toBe(26);
    expect(size('0')).toBe(0);
    expect(size('A;name=value;x')).toBe(10);
    expect(size('5; q="a \\" b"')).toBe(5);
    for (const bad of ['', '-1', '0x0', 'g', ' 5', '1 2', '5;', '5;=x', '5;a="b', '5;a=b c', '1234567890abcdef', '5\u0000']) {
      expect(
        status(() => size(bad)),
        bad,
      ).toBe(400);
    }
  });
});

const CONTROLLER = '127.51.14.1';
const web = webControllerFixture(CONTROLLER, '127.51.14.10');

const port = (): number => Number(new URL(web.ctl.http).port);

/** Writes `parts` (each in its own write, in order); resolves with what came back until close, or until `responses` status lines. */
const exchange = (parts: readonly (string | Buffer)[], responses?: number, end = false): Promise<string> =>
  rawExchange(CONTROLLER, port(), parts, { responses, halfClose: end, timeoutMs: 0, onError: 'reject' });

const statuses = (reply: string): string[] => [...reply.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => m[1] ?? '');
const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: web.example\r\n\r\n';

describe('through a controller pod', () => {
  it.each([
    [
      'Content-Length with Transfer-Encoding',
      `POST / HTTP/1.1\r\nHost: web.example\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      '400',
    ],
    [
      'Transfer-Encoding before Content-Length',
      `POST / HTTP/1.1\r\nHost: web.example\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n`,
      '400',
    ],
    ['Content-Length twice', `POST / HTTP/1.1\r\nHost: web.example\r\nContent-Length: 0\r\nContent-Length: 44\r\n\r\n`, '400'],
    ['obs-fold', `GET / HTTP/1.1\r\nHost: web.example\r\nX-A: 1\r\n Content-Length: 44\r\n\r\n`, '400'],
    ['a bare LF line end', `GET / HTTP/1.1\nHost: web.example\n\n`, '400'],
    ['a bare CR', `GET / HTTP/1.1\r\nHost: web.example\rX: 1\r\n\r\n`, '400'],
    ['a chunk size that is not hex', `POST / HTTP/1.1\r\nHost: web.example\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n\r\n`, '400'],
    ['a bad chunk extension', `POST / HTTP/1.1\r\nHost: web.example\r\nTransfer-Encoding: chunked\r\n\r\n0;a b\r\n\r\n`, '400'],
    ['a chunk longer than its size', `POST / HTTP/1.1\r\nHost: web.example\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n`, '400'],
    ['a chunk size with 16 digits', `POST / HTTP/1.1\r\nHost: web.example\r\nTransfer-Encoding: chunked\r\n\r\n0000000000000001\r\na\r\n0\r\n\r\n`, '400'],
    ['a bad trailer', `POST / HTTP/1.1\r\nHost: web.example\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX : 1\r\n\r\n`, '400'],
    ['an invalid method', `G<T / HTTP/1.1\r\nHost: web.example\r\n\r\n`, '400'],
    ['a target with a space inside', `GET /a b HTTP/1.1\r\nHost: web.example\r\n\r\n`, '400'],
    ['an asterisk target on GET', `GET * HTTP/1.1\r\nHost: web.example\r\n\r\n`, '400'],
    ['a request line over 8 KiB', `GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: web.example\r\n\r\n`, '414'],
    ['a head over 16 KiB', `GET / HTTP/1.1\r\nHost: web.example\r\nX-Big: ${'b'.repeat(17000)}\r\n\r\n`, '431'],
  ])('%s: refused, connection closed, nothing smuggled', async (_name, request, code) => {
    const reply = await exchange([request + SMUGGLED]);
    expect(statuses(reply)).toEqual([code]);
    expect(reply).toMatch(/\r\nConnection: close\r\n/i);
    expect(web.pod.seen.map((s) => s.url)).not.toContain('/smuggled');
  });

  it('refuses an oversized head that never ends, without waiting for its end', async () => {
    const reply = await exchange([`GET / HTTP/1.1\r\nHost: web.example\r\nX-Big: ${'b'.repeat(20000)}`]);
    expect(statuses(reply)).toEqual(['431']);
  });

  it('serves pipelined requests in order on one connection, one upstream request at a time', async () => {
    const requests = Array.from({ length: 20 }, (_, i) => `GET /p${i} HTTP/1.1\r\nHost: web.example\r\n\r\n`).join('');
    const reply = await exchange([requests], 20);
    expect(statuses(reply)).toEqual(Array.from({ length: 20 }, () => '200'));
    const urls = [...reply.matchAll(/"url":"(\/p\d+)"/g)].map((m) => m[1]);
    expect(urls).toEqual(Array.from({ length: 20 }, (_, i) => `/p${i}`));
    expect(web.pod.seen.map((s) => s.url)).toEqual(urls);
  });

  it('keeps the connection for HTTP/1.1 and HTTP/1.0 keep-alive, closes for Connection: close and plain HTTP/1.0', async () => {
    let reply = await exchange([`GET /a HTTP/1.1\r\nHost: web.example\r\n\r\n`, `GET /b HTTP/1.1\r\nHost: web.example\r\nConnection: close\r\n\r\n`]);
    expect(statuses(reply)).toEqual(['200', '200']);
    expect(reply).toMatch(/Connection: keep-alive\r\nKeep-Alive: timeout=75\r\n/);
    reply = await exchange([`GET /c HTTP/1.0\r\nHost: web.example\r\nConnection: keep-alive\r\n\r\n`], 1);
    expect(reply).toMatch(/Connection: keep-alive\r\n/);
    reply = await exchange([`GET /d HTTP/1.0\r\nHost: web.example\r\n\r\n`, `GET /e HTTP/1.0\r\nHost: web.example\r\n\r\n`]);
    expect(statuses(reply)).toEqual(['200']);
    expect(reply).toMatch(/Connection: close\r\n/);
  });

  it('answers every request sent before the client half-closes', async () => {
    const reply = await exchange([`GET /h1 HTTP/1.1\r\nHost: web.example\r\n\r\nGET /h2 HTTP/1.1\r\nHost: web.example\r\n\r\n`], Infinity, true);
    expect(statuses(reply)).toEqual(['200', '200']);
  });

  it('streams Content-Length and chunked bodies to the pod, with 100-continue', async () => {
    const reply = await exchange(
      [
        'POST /cl HTTP/1.1\r\nHost: web.example\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n',
        'hello',
        ' world',
        'POST /ch HTTP/1.1\r\nHost: web.example\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n',
        '6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n',
      ],
      2,
    );
    expect(reply.startsWith('HTTP/1.1 100 Continue\r\n\r\n')).toBe(true);
    expect(statuses(reply)).toEqual(['100', '200', '200']);
    expect(web.pod.seen.map((s) => [s.url, s.method, s.bodyLength])).toEqual([
      ['/cl', 'POST', 11],
      ['/ch', 'POST', 11],
    ]);
  });

  it('survives clients that leave in the middle of a body (reset or FIN), and serves the next', async () => {
    for (const framing of ['Content-Length: 100', 'Transfer-Encoding: chunked']) {
      for (const leave of ['reset', 'fin'] as const) {
        await new Promise<void>((resolve) => {
          const socket = connect(port(), CONTROLLER, () => {
            socket.write(`POST /partial HTTP/1.1\r\nHost: web.example\r\n${framing}\r\n\r\n${framing.startsWith('Content') ? 'abc' : '10\r\nabc'}`);
            setImmediate(() => (leave === 'reset' ? socket.resetAndDestroy() : socket.end()));
          });
          socket.on('error', () => undefined);
          socket.on('close', () => resolve());
        });
      }
    }
    const reply = await exchange([`GET /after-partial HTTP/1.1\r\nHost: web.example\r\n\r\n`], 1);
    expect(statuses(reply)).toEqual(['200']);
  });

  it('answers HEAD without a body and the controller’s own errors with their pages', async () => {
    const reply = await exchange([`HEAD / HTTP/1.1\r\nHost: web.example\r\n\r\nGET / HTTP/1.1\r\nHost: nobody.example\r\n\r\n`], 2);
    expect(statuses(reply)).toEqual(['200', '404']);
    expect(reply).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nHTTP\/1\.1 404 Not Found\r\n/);
  });

  it('hands a WebSocket upgrade on a kept-alive connection to the http.Server', async () => {
    const ws = new WebSocket(`ws://${CONTROLLER}:${port()}/ws`, { headers: { host: 'web.example' } });
    const first = await new Promise<string>((resolve, reject) => {
      ws.once('message', (d) => resolve(String(d)));
      ws.once('error', reject);
    });
    expect(JSON.parse(first)).toMatchObject({ name: 'pod', url: '/ws' });
    ws.send('hi');
    const echo = await new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))));
    expect(echo).toBe('pod:hi');
    ws.close();
    // After a plain request on the same connection, too.
    const reply = await exchange(
      [
        `GET /x HTTP/1.1\r\nHost: web.example\r\n\r\nGET /ws HTTP/1.1\r\nHost: web.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      ],
      2,
    );
    expect(statuses(reply)).toEqual(['200', '101']);
  });

  it('serves HTTPS the same way after the handshake: pipelining, refusals, a WebSocket upgrade handed over', async () => {
    const tlsPort = Number(new URL(web.ctl.https).port);
    const overTls = (text: string, responses: number): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = tlsConnect({ host: CONTROLLER, port: tlsPort, servername: 'web.example', rejectUnauthorized: false }, () => socket.write(text));
        let out = '';
        socket.setEncoding('latin1');
        socket.on('data', (d: string) => {
          out += d;
          if ((out.match(/HTTP\/1\.1 [1-5]\d\d /g)?.length ?? 0) >= responses) socket.destroy();
        });
        socket.on('error', reject);
        socket.on('close', () => resolve(out));
      });
    let reply = await overTls(`GET /t1 HTTP/1.1\r\nHost: web.example\r\n\r\nGET /t2 HTTP/1.1\r\nHost: web.example\r\n\r\n`, 2);
    expect(statuses(reply)).toEqual(['200', '200']);
    expect([...reply.matchAll(/"url":"(\/t\d)"/g)].map((m) => m[1])).toEqual(['/t1', '/t2']);
    reply = await overTls(`POST / HTTP/1.1\r\nHost: web.example\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, 5);
    expect(statuses(reply)).toEqual(['400']);
    expect(web.pod.seen.map((s) => s.url)).not.toContain('/smuggled');
    // nginx's 414 (Node's parser would answer 431): the lean parser serves this listener.
    reply = await overTls(`GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: web.example\r\n\r\n`, 1);
    expect(statuses(reply)).toEqual(['414']);
    const ws = new WebSocket(`wss://${CONTROLLER}:${tlsPort}/wss`, { headers: { host: 'web.example' }, rejectUnauthorized: false });
    const first = await new Promise<string>((resolve, reject) => {
      ws.once('message', (d) => resolve(String(d)));
      ws.once('error', reject);
    });
    expect(JSON.parse(first)).toMatchObject({ name: 'pod', url: '/wss' });
    ws.close();
  });

  it('survives random bytes and malformed requests: every reply is well formed, the next client is served', async () => {
    const line = fc.oneof(
      fc.constantFrom('GET / HTTP/1.1', 'POST / HTTP/1.1', 'GET / HTTP/1.0', 'PRI * HTTP/2.0', 'CONNECT a:1 HTTP/1.1', 'GET http://web.example/ HTTP/1.1'),
      fc.string({ unit: 'binary', maxLength: 30 }),
    );
    const header = fc.oneof(
      fc.constantFrom(
        'Host: web.example',
        'Transfer-Encoding: chunked',
        'Content-Length: 3',
        'Content-Length: 0',
        'Connection: close',
        'Expect: 100-continue',
        ' folded',
        'Upgrade: x',
      ),
      fc.string({ unit: 'binary', maxLength: 20 }),
    );
    const eol = fc.constantFrom('\r\n', '\n', '\r', '');
    const request = fc
      .tuple(line, fc.array(fc.tuple(header, eol), { maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 30 }))
      .map(([l, hs, body]) => `${l}\r\n${hs.map(([h, e]) => h + e).join('')}\r\n${body}`);
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 3 }), async (requests) => {
        const reply = await Promise.race([
          exchange([Buffer.from(requests.join(''), 'latin1')], Infinity, true),
          new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 2000)),
        ]);
        if (reply === 'timeout') return;
        // Every status line starts a well-formed head.
        for (const m of reply.matchAll(/HTTP\/1\.1 (\d{3}) [^\r\n]*\r\n/g)) expect(Number(m[1])).toBeGreaterThanOrEqual(100);
      }),
      { numRuns: 150, seed: 14 },
    );
    const reply = await exchange([`GET /after HTTP/1.1\r\nHost: web.example\r\n\r\n`], 1);
    expect(statuses(reply)).toEqual(['200']);
  }, 60_000);
});

describe('LeanServer alone', () => {
  it('answers 408 to a head still unfinished after the header timeout, and keeps serving others', async () => {
    const server = createServer();
    const lean = new LeanServer({
      handler: (_req, res) => void res.writeHead(204).end(),
      keepAliveMs: 10_000,
      label: 'test',
      headerTimeoutMs: 50,
    });
    lean.install(server);
    server.listen(0, '127.51.14.2');
    await once(server, 'listening');
    const { port: p } = server.address() as { port: number };
    const slow = connect(p, '127.51.14.2');
    let out = '';
    slow.setEncoding('latin1');
    slow.on('data', (d: string) => (out += d));
    const closed = once(slow, 'close');
    slow.write('GET / HTTP/1.1\r\nHost: a\r\n');
    // The timeout needs time to pass: the head's next byte comes after it.
    await new Promise((r) => setTimeout(r, 120));
    slow.write('X');
    await closed;
    expect(out).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\nConnection: close\r\n/);
    const quick = connect(p, '127.51.14.2', () => quick.write('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'));
    let reply = '';
    quick.setEncoding('latin1');
    quick.on('data', (d: string) => (reply += d));
    await once(quick, 'close');
    expect(reply).toMatch(/^HTTP\/1\.1 204 No Content\r\n/);
    lean.closeAll();
    await new Promise((r) => server.close(r));
  });

  it('closes a kept-alive connection once it has been idle for the keep-alive timeout', async () => {
    const server = createServer();
    const lean = new LeanServer({ handler: (_req, res) => void res.writeHead(204).end(), keepAliveMs: 40, label: 'test' });
    lean.install(server);
    server.listen(0, '127.51.14.3');
    await once(server, 'listening');
    const { port: p } = server.address() as { port: number };
    const client = connect(p, '127.51.14.3', () => client.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n'));
    let reply = '';
    client.setEncoding('latin1');
    client.on('data', (d: string) => (reply += d));
    await once(client, 'close');
    expect(reply).toMatch(/^HTTP\/1\.1 204 No Content\r\n[^]*Connection: keep-alive\r\nKeep-Alive: timeout=0\r\n/);
    lean.closeAll();
    await new Promise((r) => server.close(r));
  });
});
