import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { PodInfo } from '../../../src/cluster/snapshot.js';
import { AksEmuError } from '../../../src/errors/index.js';
import { createEchoPod, type PodRuntime } from '../../../src/pods/index.js';
import { container, pod } from '../pod-fixture.js';
import { TcpClient } from '../tcp-client.js';

const CLIENT_IP = '127.41.1.250';
let nextHost = 1;
/** A fresh pod address per test, in this file's own block. */
function podIP(): string {
  return `127.41.1.${nextHost++}`;
}

const running: PodRuntime[] = [];
const clients: TcpClient[] = [];

async function startPod(info: PodInfo, nodeAddress?: string): Promise<PodRuntime> {
  const runtime = createEchoPod(info, { nodeName: info.nodeName, nodeAddress });
  running.push(runtime);
  await runtime.start();
  return runtime;
}

async function client(host: string, port: number, localAddress?: string): Promise<TcpClient> {
  const c = await TcpClient.connect(host, port, localAddress);
  clients.push(c);
  return c;
}

function webPod(ip: string, port = 20080, extra: Partial<PodInfo> = {}): PodInfo {
  return pod('web-7d4b9c-x2x4q', ip, [container('web', [{ name: 'http', containerPort: port }])], extra);
}

function connectError(host: string, port: number): Promise<string | undefined> {
  return TcpClient.connect(host, port).then(
    (c) => {
      c.destroy();
      return undefined;
    },
    (err: NodeJS.ErrnoException) => err.code,
  );
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

describe('echo pod over HTTP', () => {
  it('echoes the request in the conformance echo server shape, with where it came from and arrived', async () => {
    const ip = podIP();
    await startPod(webPod(ip), '127.41.0.4');
    const c = await client(ip, 20080, CLIENT_IP);
    c.write('GET /shop/cart?item=1&item=2 HTTP/1.1\r\nHost: shop.example.com\r\nx-multi: a\r\nX-Multi: b\r\nx-request-id: 42\r\n\r\n');
    const res = await c.readResponse();
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['x-pod-name']).toBe('web-7d4b9c-x2x4q');
    expect(JSON.parse(res.body)).toEqual({
      path: '/shop/cart?item=1&item=2',
      host: 'shop.example.com',
      method: 'GET',
      proto: 'HTTP/1.1',
      headers: { 'X-Multi': ['a', 'b'], 'X-Request-Id': ['42'] },
      namespace: 'shop',
      pod: 'web-7d4b9c-x2x4q',
      node: 'aks-nodepool1-0',
      hostIP: '127.41.0.4',
      podIP: ip,
      remoteAddress: CLIENT_IP,
      remotePort: c.socket.localPort,
      localAddress: ip,
      localPort: 20080,
      bodyLength: 0,
    });
  });

  it('reads and discards the request body and reports its length', async () => {
    const ip = podIP();
    await startPod(webPod(ip));
    const c = await client(ip, 20080);
    c.write('POST /orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
    const echoed = JSON.parse((await c.readResponse()).body);
    expect(echoed.bodyLength).toBe(11);
    expect(echoed.method).toBe('POST');
    expect(echoed.headers['Transfer-Encoding']).toBeUndefined();
  });

  it('serves two requests on one kept-alive connection', async () => {
    const ip = podIP();
    await startPod(webPod(ip));
    const c = await client(ip, 20080);
    c.write('GET /one HTTP/1.1\r\nHost: x\r\n\r\n');
    const first = JSON.parse((await c.readResponse()).body);
    c.write('GET /two HTTP/1.1\r\nHost: x\r\n\r\n');
    const second = JSON.parse((await c.readResponse()).body);
    expect([first.path, second.path]).toEqual(['/one', '/two']);
    expect(second.remotePort).toBe(first.remotePort);
    expect(c.ended).toBe(false);
  });

  it('answers pipelined requests and a large body sent together with the first bytes', async () => {
    const ip = podIP();
    await startPod(webPod(ip));
    const c = await client(ip, 20080);
    const body = Buffer.alloc(1 << 20, 0x61);
    c.write(
      Buffer.concat([
        Buffer.from(`PUT /blob HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`),
        body,
        Buffer.from('GET /after HTTP/1.1\r\nHost: x\r\n\r\n'),
      ]),
    );
    expect(JSON.parse((await c.readResponse()).body).bodyLength).toBe(body.length);
    expect(JSON.parse((await c.readResponse()).body).path).toBe('/after');
  });

  it('closes the connection after answering a request that asks for Connection: close', async () => {
    const ip = podIP();
    await startPod(webPod(ip));
    const c = await client(ip, 20080);
    c.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect((await c.readResponse()).status).toBe(200);
    expect(await c.readToEnd()).toHaveLength(0);
  });

  it('serves HTTP to a client whose request line arrives a byte at a time', async () => {
    const ip = podIP();
    await startPod(webPod(ip));
    const c = await client(ip, 20080);
    c.socket.setNoDelay(true);
    const request = 'GET /slow HTTP/1.1\r\nHost: x\r\n\r\n';
    for (const ch of request.slice(0, 5)) {
      c.write(ch);
      await new Promise<void>((resolve) => c.socket.write('', () => resolve()));
    }
    c.write(request.slice(5));
    expect(JSON.parse((await c.readResponse()).body).path).toBe('/slow');
  });

  it('answers ok on the health endpoints while healthy and 503 on them and on probe paths when not', async () => {
    const ip = podIP();
    const info = pod('api-0', ip, [
      container('api', [{ name: 'http', containerPort: 20081 }], { httpGet: { path: '/ready?full=1', port: 'http', scheme: 'HTTP', httpHeaders: [] } }),
    ]);
    const runtime = await startPod(info);
    const c = await client(ip, 20081);
    const get = async (path: string) => {
      c.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      return c.readResponse();
    };
    for (const path of ['/health', '/healthz', '/readyz']) {
      const res = await get(path);
      expect([res.status, res.body, res.headers['content-type']]).toEqual([200, 'ok', 'text/plain; charset=utf-8']);
    }
    expect(JSON.parse((await get('/ready')).body).path).toBe('/ready');

    runtime.setHealthy(false);
    for (const path of ['/health', '/healthz?verbose', '/readyz', '/ready']) expect((await get(path)).status).toBe(503);
    expect((await get('/anything')).status).toBe(200);

    runtime.setHealthy(true);
    expect((await get('/healthz')).status).toBe(200);
  });

  it('answers ?size=N on any path with exactly N bytes and a Content-Length, and 400 for a bad N', async () => {
    const ip = podIP();
    await startPod(webPod(ip));
    const c = await client(ip, 20080);
    c.write('GET /anything?size=1048576 HTTP/1.1\r\nHost: x\r\n\r\n');
    const res = await c.readResponse();
    expect([res.status, res.headers['content-length'], res.headers['content-type']]).toEqual([200, '1048576', 'application/octet-stream']);
    expect(res.body).toHaveLength(1048576);
    c.write('GET /?size=big HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await c.readResponse()).status).toBe(400);
  });

  it('reports the addresses it was handed with a forwarded connection, not the socket its own', async () => {
    const ip = podIP();
    const runtime = await startPod(webPod(ip));
    const endpoint = runtime.localEndpoint?.(20080);
    expect(runtime.localEndpoint?.(20099)).toBeUndefined();
    // A connection accepted elsewhere (as the data plane's LB listener accepts it), then handed over.
    const elsewhere = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
      endpoint?.acceptForwarded(socket, { remoteAddress: '127.41.0.4', remotePort: 4242, localAddress: ip, localPort: 20080 });
      socket.resume();
    });
    await new Promise<void>((resolve) => elsewhere.listen({ host: ip, port: 20090 }, resolve));
    try {
      const c = await client(ip, 20090, CLIENT_IP);
      c.write('GET /where HTTP/1.1\r\nHost: x\r\n\r\n');
      const echoed = JSON.parse((await c.readResponse()).body);
      expect(echoed).toMatchObject({ path: '/where', remoteAddress: '127.41.0.4', remotePort: 4242, localAddress: ip, localPort: 20080 });
      await runtime.stop();
      expect(runtime.localEndpoint?.(20080)).toBeUndefined();
      expect(await c.readToEnd()).toHaveLength(0);
    } finally {
      await new Promise<void>((resolve) => elsewhere.close(() => resolve()));
    }
  });

  it('reports new labels after update without rebinding', async () => {
    const ip = podIP();
    const runtime = await startPod(webPod(ip));
    runtime.update(webPod(ip, 20080, { labels: { app: 'web', track: 'canary' } }));
    expect(runtime.pod.labels).toEqual({ app: 'web', track: 'canary' });
    const c = await client(ip, 20080);
    c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await c.readResponse()).status).toBe(200);
  });
});

describe('echo pod over raw TCP', () => {
  const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

  it('echoes every byte on a port named amqp and ends after the client half-closes', async () => {
    const ip = podIP();
    await startPod(pod('rabbitmq-0', ip, [container('rabbitmq', [{ name: 'amqp', containerPort: 25672 }])]));
    const c = await client(ip, 25672);
    c.write('GET / HTTP/1.1\r\n\r\n');
    c.write(everyByte);
    c.end();
    expect(await c.readToEnd()).toEqual(Buffer.concat([Buffer.from('GET / HTTP/1.1\r\n\r\n'), everyByte]));
  });

  it('echoes a binary payload on a sniffing port for the whole connection', async () => {
    const ip = podIP();
    await startPod(webPod(ip, 20082));
    const c = await client(ip, 20082);
    c.write(everyByte);
    expect(await c.readBytes(256)).toEqual(everyByte);
    c.write('GET / HTTP/1.1\r\n\r\n');
    c.end();
    expect((await c.readToEnd()).toString()).toBe('GET / HTTP/1.1\r\n\r\n');
  });

  it('echoes the few bytes a client sent before half-closing while the port was still sniffing', async () => {
    const ip = podIP();
    await startPod(webPod(ip, 20083));
    const c = await client(ip, 20083);
    c.write('GE');
    c.end();
    expect((await c.readToEnd()).toString()).toBe('GE');
  });
});

describe('echo pod lifecycle', () => {
  it('releases its ports and closes open connections on stop', async () => {
    const ip = podIP();
    const runtime = await startPod(pod('multi-0', ip, [container('a', [{ containerPort: 20084 }]), container('b', [{ name: 'redis', containerPort: 26379 }])]));
    const open = await client(ip, 26379);
    await runtime.stop();
    expect(await open.readToEnd()).toHaveLength(0);
    expect(await connectError(ip, 20084)).toBe('ECONNREFUSED');
    const again = createServer();
    await new Promise<void>((resolve) => again.listen({ host: ip, port: 26379 }, resolve));
    await new Promise<void>((resolve) => again.close(() => resolve()));
  });

  it('refuses connections to a port the pod does not declare', async () => {
    const ip = podIP();
    await startPod(pod('bare-0', ip, [container('bare', [])]));
    expect(await connectError(ip, 20085)).toBe('ECONNREFUSED');
  });

  it('rejects start with AKS_EMU_ADDRESS_IN_USE naming the pod and address, and binds nothing', async () => {
    const ip = podIP();
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen({ host: ip, port: 20087 }, resolve));
    try {
      const runtime = createEchoPod(pod('clash-0', ip, [container('clash', [{ containerPort: 20086 }, { containerPort: 20087 }])]), {
        nodeName: 'aks-nodepool1-0',
      });
      const err: unknown = await runtime.start().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AksEmuError);
      expect((err as AksEmuError).code).toBe('AKS_EMU_ADDRESS_IN_USE');
      expect((err as AksEmuError).message).toBe(`pod shop/clash-0: cannot listen on ${ip}:20087: address already in use`);
      expect(await connectError(ip, 20086)).toBe('ECONNREFUSED');
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });
});
