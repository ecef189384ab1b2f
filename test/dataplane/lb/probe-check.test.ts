import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { LoadBalancerProbe } from '../../../src/cluster/snapshot.js';
import { ProbeCheck } from '../../../src/dataplane/lb/probe-check.js';
import { addressBlock } from '../../helpers/addresses.js';

const BLOCK = addressBlock(12).nodeSubnet.replace(/0\.0\/16$/, '');
const TARGET = `${BLOCK}7.1`;
const SOURCE = `${BLOCK}7.2`;
const TCP_PORT = 4101;
const HTTP_PORT = 4102;
const ATTEMPTS = 150;

/** `a.b.c.d:port` of /proc/net/tcp's little-endian hex form. */
function procAddress(hex: string): string {
  const [ip, port] = hex.split(':') as [string, string];
  const bytes = [0, 2, 4, 6].map((i) => parseInt(ip.slice(i, i + 2), 16)).reverse();
  return `${bytes.join('.')}:${parseInt(port, 16)}`;
}

/** TIME_WAIT sockets (state 06) of connections to or from `address:port`, on either side. */
function timeWaits(address: string, port: number): number {
  const endpoint = `${address}:${port}`;
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[3] === '06' && (procAddress(f[1] ?? '0:0') === endpoint || procAddress(f[2] ?? '0:0') === endpoint)).length;
}

function probe(protocol: LoadBalancerProbe['protocol'], port: number): Promise<[boolean, string]> {
  const spec = { name: 'p', protocol, port, intervalInSeconds: 5, numberOfProbes: 2, requestPath: '/healthz' } as LoadBalancerProbe;
  return new Promise((resolve) => new ProbeCheck(spec, TARGET, SOURCE, (ok, detail) => resolve([ok, detail])));
}

describe('an LB probe attempt', () => {
  const servers: Server[] = [];

  beforeAll(async () => {
    // A TCP backend that, like most, waits for the client to speak.
    const tcp = createServer((socket) => socket.on('error', () => {}).resume());
    const http = createHttpServer((_req, res) => res.end('ok'));
    for (const [server, port] of [[tcp, TCP_PORT], [http, HTTP_PORT]] as const) {
      await new Promise<void>((resolve) => server.listen(port, TARGET, resolve));
      servers.push(server);
    }
  });

  afterAll(async () => {
    for (const s of servers) await new Promise((resolve) => s.close(resolve));
  });

  it('passes a TCP probe on the handshake and leaves no TIME_WAIT on either side', async () => {
    for (let i = 0; i < ATTEMPTS; i++) expect(await probe('Tcp', TCP_PORT)).toEqual([true, 'TCP handshake completed']);
    expect(timeWaits(TARGET, TCP_PORT)).toBe(0);
  });

  it('passes an HTTP probe on 200 and leaves no TIME_WAIT on either side', async () => {
    for (let i = 0; i < ATTEMPTS; i++) expect(await probe('Http', HTTP_PORT)).toEqual([true, 'HTTP 200']);
    expect(timeWaits(TARGET, HTTP_PORT)).toBe(0);
  });

  it('fails a probe to a closed port with the reason', async () => {
    expect(await probe('Tcp', 4199)).toEqual([false, 'ECONNREFUSED']);
  });
});
