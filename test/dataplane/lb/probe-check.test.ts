import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { LoadBalancerProbe } from '../../../src/cluster/snapshot.js';
import { generateSelfSignedCertificate } from '../../../src/dataplane/ingress/self-signed-cert.js';
import { ProbeCheck } from '../../../src/dataplane/lb/probe-check.js';
import { addressBlock } from '../../helpers/addresses.js';

const BLOCK = addressBlock(12).nodeSubnet.replace(/0\.0\/16$/, '');
const TARGET = `${BLOCK}7.1`;
const SOURCE = `${BLOCK}7.2`;
const SOURCE_CANCELLED = `${BLOCK}7.3`;
const TCP_PORT = 4101;
const HTTP_PORT = 4102;
const HTTPS_PORT = 4103;
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

/** TIME_WAIT sockets of connections from `address`. */
function timeWaitsFrom(address: string): number {
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[3] === '06' && [f[1], f[2]].some((a) => procAddress(a ?? '0:0').startsWith(`${address}:`))).length;
}

function probe(protocol: LoadBalancerProbe['protocol'], port: number): Promise<[boolean, string]> {
  const spec = { name: 'p', protocol, port, intervalInSeconds: 5, numberOfProbes: 2, requestPath: '/healthz' } as LoadBalancerProbe;
  return new Promise((resolve) => new ProbeCheck(spec, TARGET, SOURCE, (ok, detail) => resolve([ok, detail])));
}

describe('an LB probe attempt', () => {
  const servers: Server[] = [];
  /** Connections the TCP backend has seen end: until then the last FIN may still be coming. */
  let tcpClosed = 0;

  beforeAll(async () => {
    // A TCP backend that, like most, waits for the client to speak.
    const tcp = createServer((socket) => {
      socket.on('error', () => {}).resume();
      socket.on('close', () => tcpClosed++);
    });
    const http = createHttpServer((_req, res) => res.end('ok'));
    const { certPem, keyPem } = await generateSelfSignedCertificate({ commonName: 'probe target', keyType: 'ec' });
    const https = createHttpsServer({ cert: certPem, key: keyPem }, (_req, res) => res.end('ok'));
    https.on('tlsClientError', () => {});
    for (const [server, port] of [
      [tcp, TCP_PORT],
      [http, HTTP_PORT],
      [https, HTTPS_PORT],
    ] as const) {
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

  it('passes an HTTPS probe on 200 without verifying the certificate, leaving no TIME_WAIT', async () => {
    for (let i = 0; i < 20; i++) expect(await probe('Https', HTTPS_PORT)).toEqual([true, 'HTTP 200']);
    expect(timeWaits(TARGET, HTTPS_PORT)).toBe(0);
  });

  it('leaves no TIME_WAIT for attempts abandoned while JavaScript still sees them connecting', async () => {
    // As after an event-loop stall: the kernel may have completed the handshake already.
    const spec = { name: 'p', protocol: 'Tcp', port: TCP_PORT, intervalInSeconds: 5, numberOfProbes: 2 } as LoadBalancerProbe;
    const closed: Promise<void>[] = [];
    const checks: ProbeCheck[] = [];
    for (let i = 0; i < ATTEMPTS; i++) {
      const check = new ProbeCheck(spec, TARGET, SOURCE_CANCELLED, () => {});
      closed.push(new Promise((resolve) => (check as unknown as { tcp: import('node:net').Socket }).tcp.once('close', () => resolve())));
      checks.push(check);
    }
    // The connects are issued on the next tick; the stall (the test's input, not a wait) lets
    // the kernel finish every handshake before JavaScript hears of any.
    await new Promise((resolve) => setImmediate(resolve));
    const stallUntil = Date.now() + 50;
    while (Date.now() < stallUntil);
    const before = tcpClosed;
    for (const check of checks) check.cancel();
    await Promise.all(closed);
    await expect.poll(() => tcpClosed - before, { timeout: 10_000 }).toBe(ATTEMPTS);
    expect(timeWaitsFrom(SOURCE_CANCELLED)).toBe(0);
  });

  it('fails a probe to a closed port with the reason', async () => {
    expect(await probe('Tcp', 4199)).toEqual([false, 'ECONNREFUSED']);
  });
});
