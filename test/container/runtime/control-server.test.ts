import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildConfig } from '../../../src/config/load.js';
import { listenerGuard } from '../../../src/dataplane/l4/listener-guard.js';
import { loadManifests } from '../../../src/manifests/index.js';
import { ContainerControlPlane } from '../../../src/runtime/container/control-plane.js';
import { startControlServer, type ControlServer } from '../../../src/runtime/container/control-server.js';
import { addressBlock } from '../../helpers/addresses.js';
import { rawExchange, statusOf } from '../../helpers/raw.js';

const manifestsDir = fileURLToPath(new URL('../fixtures/manifests', import.meta.url));

describe('the control server against hostile request-targets', () => {
  let control: ContainerControlPlane;
  let server: ControlServer;
  let port: number;
  // Stands for anything an SSRF would reach (a metadata service, another host's admin).
  let canary: Server;
  let canaryHits = 0;

  beforeAll(async () => {
    const config = buildConfig({ addresses: addressBlock(12), timeScale: 0.02, seed: 1, ingress: { enabled: false } });
    const { manifests } = await loadManifests([manifestsDir]);
    control = new ContainerControlPlane({ config, manifests });
    server = await startControlServer(control, '127.0.0.1', 0);
    port = Number(new URL(server.url).port);
    canary = createServer((_req, res) => {
      canaryHits++;
      res.end('secret');
    });
    await new Promise<void>((resolve) => canary.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await server?.close();
    await control?.stop();
    await new Promise((resolve) => canary?.close(resolve));
  });

  it.each([
    // Slashes merged, `/[` reaches the admin API, which refuses `[` in a path (not an RFC 3986 pchar).
    ['//[', 400],
    ['//[::1]:80/x', 400],
    ['http://[::1', 400],
    ['http://%zz/', 400],
    ['*', 400],
  ])('answers %s with %i and keeps serving', async (target, status) => {
    const answer = await rawExchange('127.0.0.1', port, `GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    expect(statusOf(answer)).toBe(status);
    const health = await rawExchange('127.0.0.1', port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(statusOf(health)).toBe(200);
  });

  it('never fetches an absolute-form target', async () => {
    const canaryPort = (canary.address() as AddressInfo).port;
    const answer = await rawExchange('127.0.0.1', port, `GET http://127.0.0.1:${canaryPort}/secret HTTP/1.1\r\nHost: 127.0.0.1:${canaryPort}\r\n\r\n`);
    expect(statusOf(answer)).toBe(400);
    expect(answer).not.toContain('secret\n');
    expect(canaryHits).toBe(0);
  });

  it('serves a path that looks like an authority as its own path, not as another host', async () => {
    const canaryPort = (canary.address() as AddressInfo).port;
    const answer = await rawExchange('127.0.0.1', port, `GET //127.0.0.1:${canaryPort}/secret HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    expect(statusOf(answer)).toBe(404);
    expect(canaryHits).toBe(0);
  });

  it('proxies its own admin paths', async () => {
    const answer = await rawExchange('127.0.0.1', port, 'GET /api/v1/services HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(statusOf(answer)).toBe(200);
    expect(answer).toContain('"ServiceList"');
  });

  it('counts no unexpected error for any of them', () => {
    expect(listenerGuard.counts().filter((c) => c.listener === 'control')).toEqual([]);
  });
});
