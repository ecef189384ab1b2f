import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../../test/helpers/addresses.js';
import { externalManifests } from '../external-manifests.js';
import { startExternalBackend, type RunningBackend } from '../external-backend.js';

/** Sends `text` on one connection and collects everything until the server closes it. */
function exchange(port: number, text: string, host = '127.0.0.1', localAddress?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, ...(localAddress ? { localAddress } : {}) });
    let got = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (got += d));
    socket.on('end', () => resolve(got));
    socket.on('error', reject);
    socket.write(text);
  });
}

const get = (target: string, headers = ''): string => `GET ${target} HTTP/1.1\r\nHost: x\r\n${headers}\r\n`;

describe('the external backend process', () => {
  let backend: RunningBackend;
  beforeAll(async () => {
    backend = await startExternalBackend(undefined);
  });
  afterAll(async () => {
    await backend?.stop();
  });

  it('answers pipelined requests in order and closes after Connection: close', async () => {
    const text = await exchange(backend.port, get('/') + get('/?size=5') + get('/port') + get('/', 'Connection: close\r\n'));
    const statuses = text.match(/HTTP\/1\.1 200 OK/g) ?? [];
    expect(statuses).toHaveLength(4);
    expect(text).toContain('content-length: 5\r\n\r\naaaaa');
    expect(text).toContain(`\r\n\r\n${backend.port}`);
    expect(text.endsWith('connection: close\r\n\r\n{"ok":true}\n')).toBe(true);
  });

  it('sends exactly the size asked for, across many chunks', async () => {
    const size = 300_000;
    const text = await exchange(backend.port, get(`/big?size=${size}`, 'Connection: close\r\n'));
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    expect(text).toContain(`content-length: ${size}\r\n`);
    expect(body.length).toBe(size);
  });

  it('refuses a head that never ends', async () => {
    const text = await exchange(backend.port, `GET / HTTP/1.1\r\nX: ${'y'.repeat(20_000)}`);
    expect(text.startsWith('HTTP/1.1 400 Bad Request')).toBe(true);
  });
});

describe('the external rows: selector-less Services and an Ingress rule to a process of their own', () => {
  let backend: RunningBackend;
  let cluster: Cluster;
  beforeAll(async () => {
    backend = await startExternalBackend(undefined);
    cluster = await startCluster({ manifests: externalManifests(backend), config: { addresses: addressBlock(22) }, timeScale: 0.01, admin: false });
  });
  afterAll(async () => {
    await cluster?.stop();
    await backend?.stop();
  });

  it('reaches the process through the LB frontend, the NodePort and the ClusterIP', async () => {
    const lb = cluster.service('external-lb').loadBalancerIP!;
    const node = cluster.nodes[0]!;
    const viaLb = await exchange(80, get('/port', 'Connection: close\r\n'), lb);
    const viaNodePort = await exchange(cluster.service('external-np').nodePort('http'), get('/port', 'Connection: close\r\n'), node.address);
    const viaVip = await exchange(80, get('/port', 'Connection: close\r\n'), cluster.service('external').clusterIP, node.address);
    for (const text of [viaLb, viaNodePort, viaVip]) expect(text.endsWith(`\r\n\r\n${backend.port}`)).toBe(true);
  });

  it('routes the Ingress rule of its own host to the process', async () => {
    const ip = cluster.service('ingress-nginx-controller', 'ingress-nginx').loadBalancerIP!;
    const text = await exchange(80, 'GET /port HTTP/1.1\r\nHost: external.perf.local\r\nConnection: close\r\n\r\n', ip);
    expect(text.startsWith('HTTP/1.1 200')).toBe(true);
    expect(text.endsWith(String(backend.port))).toBe(true);
  });
});
