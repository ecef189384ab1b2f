/**
 * WebSocket upgrades through a real controller pod. Addresses: 127.51.6.0/24.
 */
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startBackend, type Backend } from '../../fixtures/ingress/backends.js';
import { endpoints, ingress, path, rule, service } from '../../fixtures/ingress/factory.js';
import { startController, type ControllerHarness } from '../../fixtures/ingress/harness.js';

const CONTROLLER = '127.51.6.1';

let ctl: ControllerHarness;
let app: Backend;

beforeAll(async () => {
  app = await startBackend('ws-app', '127.51.6.10');
  const svc = service('ws');
  ctl = await startController(CONTROLLER, {
    ingresses: [
      ingress('ws', [rule('ws.example', path('/', 'ws'))]),
      ingress('ws-short', [rule('short.example', path('/', 'ws'))], { annotations: { 'proxy-read-timeout': '1' } }),
      ingress('ws-none', [rule('none.example', path('/', 'nothing'))]),
    ],
    services: [svc],
    endpoints: [endpoints(svc, [{ ip: app.ip, port: app.port }])],
  });
});

afterAll(async () => {
  await ctl?.stop();
  await app?.close();
});

function open(host: string, p = '/chat'): WebSocket {
  return new WebSocket(`ws://${CONTROLLER}:8080${p}`, { headers: { host }, localAddress: '127.51.6.200' });
}

describe('websocket', () => {
  it('passes the upgrade through and relays messages both ways', async () => {
    const ws = open('ws.example');
    const [hello] = (await once(ws, 'message')) as [Buffer];
    const info = JSON.parse(String(hello)) as { name: string; url: string; headers: Record<string, string> };
    expect(info).toMatchObject({ name: 'ws-app', url: '/chat' });
    expect(info.headers).toMatchObject({ host: 'ws.example', 'x-forwarded-for': '127.51.6.200', upgrade: 'websocket' });
    ws.send('ping');
    const [echo] = (await once(ws, 'message')) as [Buffer];
    expect(String(echo)).toBe('ws-app:ping');
    ws.close();
    await once(ws, 'close');
  });

  it('closes an idle tunnel after proxy-read-timeout', async () => {
    const ws = open('short.example');
    await once(ws, 'message');
    const [code] = (await once(ws, 'close')) as [number];
    expect(code).toBe(1006);
  });

  it('answers an upgrade with 503 when the Service has no endpoints', async () => {
    const ws = open('none.example');
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number; resume(): void }];
    expect(res.statusCode).toBe(503);
    res.resume();
    ws.on('error', () => undefined);
    ws.terminate();
  });
});
