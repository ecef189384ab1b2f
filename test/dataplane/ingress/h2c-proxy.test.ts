import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';

import { buildRouter } from '../../../src/dataplane/ingress/router.js';
import { H2cProxy } from '../../../src/dataplane/ingress/h2c-proxy.js';
import { httpGet } from '../../helpers/net.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
});

it('survives a connection reset before its first byte (a TCP probe through kube-proxy) and counts it', async () => {
  const h2c = new H2cProxy({ getRouter: () => buildRouter({ servers: [], upstreams: [], certificates: [], dialect: 'gateway-api' }) });
  server = createServer((_req, res) => res.end('http/1'));
  h2c.attach(server);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const probe = connect(port, '127.0.0.1');
  await new Promise((resolve) => probe.once('connect', resolve));
  probe.resetAndDestroy();
  for (let i = 0; i < 200 && h2c.resetsBeforeFirstByte === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(h2c.resetsBeforeFirstByte).toBe(1);
  // The server still sniffs and serves HTTP/1 connections.
  expect((await httpGet(`http://127.0.0.1:${port}/`)).body).toBe('http/1');
  h2c.close();
});
