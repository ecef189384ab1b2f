import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HoldResult } from '../idle-connections.js';
import { spawnChild, type Child } from '../ipc.js';
import type { ProbeResult, RoundResult } from '../load-types.js';
import { fileLimit } from '../proc-stats.js';

const HOST = '127.77.1.1';

describe('the load generator child', () => {
  let server: Server;
  let port: number;
  let load: Child;
  const open = new Set<Socket>();

  beforeAll(async () => {
    server = createServer((req, res) => res.end(req.url === '/big' ? 'x'.repeat(5000) : 'ok'));
    server.keepAliveTimeout = 0;
    server.on('connection', (s: Socket) => {
      open.add(s);
      s.on('close', () => open.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    port = (server.address() as AddressInfo).port;
    load = spawnChild({ entry: './load-process.ts', fileLimit: 4096 });
  });
  afterAll(async () => {
    await load?.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('runs with the open-file limit the harness asked for, when the hard limit allows it', async () => {
    await load.call<ProbeResult>('probe', { url: `http://${HOST}:${port}/`, hostHeader: 'x', timeoutMs: 5_000 });
    expect(await fileLimit(load.pid)).toBeGreaterThanOrEqual(Math.min(4096, (await fileLimit(process.pid)) ?? 0));
  });

  it('probes a target and reports the status and body size', async () => {
    expect(await load.call<ProbeResult>('probe', { url: `http://${HOST}:${port}/big`, hostHeader: 'x', timeoutMs: 5_000 })).toEqual({
      status: 200,
      bodyBytes: 5000,
    });
  });

  it('runs an autocannon round and keeps the latencies of recorded rounds under their key', async () => {
    const spec = { key: 'k/direct', url: `http://${HOST}:${port}/`, hostHeader: 'x', connections: 2, pipelining: 1, durationS: 1, churn: false, record: true };
    const round = await load.call<RoundResult>('run', spec);
    expect(round.requests).toBeGreaterThan(0);
    expect(round.errors + round.non2xx + round.timeouts).toBe(0);
    const latency = await load.call<{ count: number }>('latency', { key: 'k/direct' });
    expect(latency.count).toBeGreaterThan(0);
  });

  it('holds idle connections from the given sources in turn until released, then closes every one', async () => {
    const sources = ['127.77.1.9', '127.77.1.10'];
    const held = await load.call<HoldResult>('hold', { host: HOST, port, hostHeader: 'x', count: 50, sources, concurrency: 10, timeoutMs: 5_000 });
    expect(held).toEqual({ opened: 50, failed: 0 });
    const ours = () => [...open].filter((s) => sources.includes(s.remoteAddress ?? ''));
    expect(ours().filter((s) => s.remoteAddress === sources[0])).toHaveLength(25);
    expect(ours().filter((s) => s.remoteAddress === sources[1])).toHaveLength(25);
    expect(await load.call<number>('release')).toBe(50);
    await new Promise<void>((resolve) => {
      const check = () => (ours().length > 0 ? setTimeout(check, 20) : resolve());
      check();
    });
  });

  it('exits when asked to stop', async () => {
    await load.stop();
    expect(load.alive).toBe(false);
  });
});
