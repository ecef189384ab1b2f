/** The controller pod's upstream connections: per-endpoint cap, idle keep-alive cap. Addresses: 127.51.9.0/24. */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { UpstreamPools, type ReleasingHandler } from '../../../src/dataplane/ingress/upstream-connections.js';
import type { CompiledEndpoint } from '../../../src/dataplane/ingress/router.js';

interface HeldServer {
  readonly server: Server;
  readonly open: Set<Socket>;
  readonly held: ServerResponse[];
  connections: number;
}

const servers: HeldServer[] = [];

/** A server that answers only when told to, counting its connections. */
async function heldServer(ip: string): Promise<HeldServer> {
  const s: HeldServer = { server: createServer(), open: new Set(), held: [], connections: 0 };
  s.server.on('connection', (socket: Socket) => {
    s.connections++;
    s.open.add(socket);
    socket.on('close', () => s.open.delete(socket));
  });
  s.server.on('request', (_req, res: ServerResponse) => s.held.push(res));
  await new Promise<void>((resolve) => s.server.listen(8080, ip, resolve));
  servers.push(s);
  return s;
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.server.closeAllConnections();
    await new Promise((resolve) => s.server.close(resolve));
  }
});

class Call implements ReleasingHandler {
  release: (() => void) | undefined;
  status = 0;
  readonly done: Promise<number>;
  #resolve!: (status: number) => void;

  constructor() {
    this.done = new Promise((resolve) => (this.#resolve = resolve));
  }

  onConnect(): void {}
  onHeaders(statusCode: number): boolean {
    this.status = statusCode;
    return true;
  }
  onData(): boolean {
    return true;
  }
  onComplete(): void {
    this.release?.();
    this.#resolve(this.status);
  }
  onError(): void {
    this.release?.();
    this.#resolve(-1);
  }
}

function endpoint(ip: string): CompiledEndpoint {
  return { address: `${ip}:8080` } as CompiledEndpoint;
}

function get(pools: UpstreamPools, ip: string): Call {
  const call = new Call();
  pools.dispatch(endpoint(ip), 'HTTP', 5_000, { method: 'GET', path: '/' }, call);
  return call;
}

async function answerAll(s: HeldServer, count: number): Promise<void> {
  let answered = 0;
  while (answered < count) {
    await expect.poll(() => s.held.length).toBeGreaterThan(0);
    for (const res of s.held.splice(0)) {
      res.end('ok');
      answered++;
    }
  }
}

describe('UpstreamPools', () => {
  it('opens at most connectionsPerEndpoint connections to one endpoint; the rest wait their turn', async () => {
    const s = await heldServer('127.51.9.1');
    const pools = new UpstreamPools({ connectionsPerEndpoint: 2 });
    const calls = Array.from({ length: 5 }, () => get(pools, '127.51.9.1'));
    await expect.poll(() => s.held.length).toBe(2);
    expect(pools.stats().waiting).toBe(3);
    await answerAll(s, 5);
    expect(await Promise.all(calls.map((c) => c.done))).toEqual([200, 200, 200, 200, 200]);
    expect(s.connections).toBe(2);
    await pools.close();
  });

  it('keeps at most keepaliveConnections idle connections for the whole pod, closing the least recently used', async () => {
    const a = await heldServer('127.51.9.2');
    const b = await heldServer('127.51.9.3');
    const pools = new UpstreamPools({ keepaliveConnections: 3 });
    const calls = [...Array.from({ length: 4 }, () => get(pools, '127.51.9.2')), ...Array.from({ length: 2 }, () => get(pools, '127.51.9.3'))];
    await expect.poll(() => a.held.length + b.held.length).toBe(6);
    expect(pools.stats().open).toBe(6);
    await answerAll(a, 4);
    await answerAll(b, 2);
    await Promise.all(calls.map((c) => c.done));
    expect(pools.stats()).toEqual({ open: 3, idle: 3, waiting: 0 });
    // The three closed were the first freed (LRU); the servers see them go.
    await expect.poll(() => a.open.size + b.open.size).toBe(3);
    expect(b.open.size).toBe(2);
    // An idle connection is reused rather than a new one opened.
    const again = get(pools, '127.51.9.3');
    await answerAll(b, 1);
    expect(await again.done).toBe(200);
    expect(b.connections).toBe(2);
    await pools.close();
  });
});
