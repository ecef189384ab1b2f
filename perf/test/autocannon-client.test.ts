import autocannon from 'autocannon';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clientSetup, installSourceAddressHook, setSourceAddress } from '../autocannon-client.js';

const SERVER_HOST = '127.77.0.1';
const SOURCE = '127.77.0.9';

/** Sums latencies: with one request in flight per connection, the sum cannot exceed connections × wall time. */
class LatencySum {
  count = 0;
  sumMs = 0;
  record(ms: number): void {
    this.count++;
    this.sumMs += ms;
  }
}

describe('the autocannon client adjustments', () => {
  let server: Server;
  let url: string;
  let connections = 0;
  let requests = 0;
  /** Close the connection after this many responses on it (0: never), as nginx's keepalive_requests does. */
  let closeEvery = 0;
  const sources = new Set<string>();

  beforeAll(async () => {
    installSourceAddressHook();
    server = createServer((req, res) => {
      requests++;
      sources.add(req.socket.remoteAddress ?? '');
      const served = ((req.socket as { served?: number }).served ?? 0) + 1;
      (req.socket as { served?: number }).served = served;
      if (closeEvery > 0 && served % closeEvery === 0) res.setHeader('connection', 'close');
      res.end('ok');
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, SERVER_HOST, resolve));
    url = `http://${SERVER_HOST}:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    connections = 0;
    requests = 0;
    closeEvery = 0;
    sources.clear();
    setSourceAddress(undefined);
  });

  async function run(options: { amount: number; connections: number; churn?: boolean }) {
    const latency = new LatencySum();
    const started = process.hrtime.bigint();
    const result = await autocannon({
      url,
      connections: options.connections,
      amount: options.amount,
      headers: options.churn ? { connection: 'close' } : {},
      setupClient: clientSetup(latency),
      skipAggregateResult: true,
    });
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    return { result, latency, wallMs };
  }

  it('opens exactly one connection per request with Connection: close', async () => {
    const { result, latency, wallMs } = await run({ amount: 300, connections: 4, churn: true });
    expect(result.errors).toBe(0);
    expect(result['2xx']).toBe(300);
    expect(requests).toBe(300);
    expect(connections).toBe(300);
    expect(latency.count).toBe(300);
    // autocannon alone measures each latency from a stale start here, so the sum outgrows this bound.
    expect(latency.sumMs).toBeLessThanOrEqual(4 * wallMs);
  });

  it('keeps latencies honest when the server closes a keep-alive connection now and then', async () => {
    closeEvery = 5;
    const { result, latency, wallMs } = await run({ amount: 400, connections: 4 });
    expect(result.errors).toBe(0);
    expect(requests).toBe(400);
    expect(connections).toBe(80);
    expect(latency.sumMs).toBeLessThanOrEqual(4 * wallMs);
  });

  it('connects from the chosen source address, and from the default one again when cleared', async () => {
    setSourceAddress(SOURCE);
    await run({ amount: 20, connections: 2 });
    expect([...sources]).toEqual([SOURCE]);
    sources.clear();
    setSourceAddress(undefined);
    await run({ amount: 20, connections: 2 });
    expect([...sources]).toEqual(['127.0.0.1']);
  });
});
