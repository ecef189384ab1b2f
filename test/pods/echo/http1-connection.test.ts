import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveHttp1, writeResponse, type Http1Request } from '../../../src/pods/echo/http1-connection.js';
import { TcpClient } from '../tcp-client.js';

const IP = '127.41.3.1';
let server: Server;
let port = 0;
const clients: TcpClient[] = [];

/** Answers every request with what the parser made of it. */
function respond(socket: Socket, req: Http1Request): void {
  const body = JSON.stringify({ method: req.method, target: req.target, version: req.version, headers: req.rawHeaders, bodyLength: req.bodyLength });
  const head = `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: ${req.keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`;
  writeResponse(socket, head, req.method === 'HEAD' ? undefined : body);
}

async function client(): Promise<TcpClient> {
  const c = await TcpClient.connect(IP, port);
  clients.push(c);
  return c;
}

async function exchange(raw: string): Promise<{ status: number; body: string; headers: Record<string, string> }> {
  const c = await client();
  c.write(raw);
  return c.readResponse();
}

beforeAll(async () => {
  server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    serveHttp1(socket, respond);
  });
  await new Promise<void>((resolve) => server.listen(0, IP, resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('the echo pod HTTP/1.x connection', () => {
  it('keeps header names as sent and values without surrounding whitespace, in order', async () => {
    const res = await exchange('GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Two:  a \r\nx-two: b\r\n\r\n');
    expect(JSON.parse(res.body)).toEqual({
      method: 'GET',
      target: '/a?b=1',
      version: '1.1',
      headers: ['Host', 'x', 'X-Two', 'a', 'x-two', 'b'],
      bodyLength: 0,
    });
  });

  it('counts a chunked body with extensions and trailers, then reads the next request', async () => {
    const c = await client();
    c.write('POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nabcd\r\n');
    c.write('A\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(JSON.parse((await c.readResponse()).body)).toMatchObject({ target: '/c', bodyLength: 14 });
    expect(JSON.parse((await c.readResponse()).body)).toMatchObject({ target: '/next', bodyLength: 0 });
  });

  it('sends 100 Continue before reading a body the client holds back for it', async () => {
    const c = await client();
    c.write('PUT /big HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    expect((await c.readBytes(25)).toString('latin1')).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    c.write('hello');
    expect(JSON.parse((await c.readResponse()).body).bodyLength).toBe(5);
  });

  it('closes after an HTTP/1.0 request unless it asks for keep-alive', async () => {
    const once = await client();
    once.write('GET /old HTTP/1.0\r\n\r\n');
    expect((await once.readResponse()).headers.connection).toBe('close');
    expect(await once.readToEnd()).toHaveLength(0);

    const kept = await client();
    kept.write('GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    expect((await kept.readResponse()).headers.connection).toBe('keep-alive');
    expect(kept.ended).toBe(false);
  });

  it('answers HEAD with the head only, Content-Length included', async () => {
    const c = await client();
    c.write('HEAD /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const text = (await c.readToEnd()).toString('latin1');
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\nContent-Length: [1-9]\d*\r\n/);
    expect(text.endsWith('\r\n\r\n')).toBe(true);
  });

  it('answers a malformed request with 400, an oversized head with 431, an unknown coding with 501, and closes', async () => {
    const cases: [string, number][] = [
      ['GARBAGE\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nBad Header: x\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 400],
      [`GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`, 431],
      ['POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n', 501],
    ];
    for (const [raw, status] of cases) {
      const c = await client();
      c.write(raw);
      const text = (await c.readToEnd()).toString('latin1');
      expect(text.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
      expect(text).toContain('\r\nConnection: close\r\n');
    }
  });
});
