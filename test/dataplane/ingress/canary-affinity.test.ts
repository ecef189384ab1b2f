/**
 * Canary Ingresses (header, then cookie, then weight) and cookie affinity through a real
 * controller pod. Addresses: 127.51.5.0/24.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HarnessInput } from '../../fixtures/ingress/harness.js';
import { startBackend, send, type Backend } from '../../fixtures/ingress/backends.js';
import { endpoints, ingress, path, rule, service } from '../../fixtures/ingress/factory.js';
import { startController, type ControllerHarness } from '../../fixtures/ingress/harness.js';

const CONTROLLER = '127.51.5.1';

let ctl: ControllerHarness;
let roll = 0.99;
const main: Backend[] = [];
let canaryPod: Backend;

beforeAll(async () => {
  for (let i = 0; i < 3; i++) main.push(await startBackend(`main-${i}`, `127.51.5.${10 + i}`));
  canaryPod = await startBackend('canary', '127.51.5.20');
  ctl = await startController(CONTROLLER, { ingresses: [] }, { random: () => roll });
});

afterAll(async () => {
  await ctl?.stop();
  await Promise.all([...main, canaryPod].map((b) => b?.close()));
});

function setup(canaryAnnotations: Record<string, string>, options: { canaryReady?: boolean; mainAnnotations?: Record<string, string> } = {}): void {
  const mainSvc = service('main');
  const canarySvc = service('canary');
  const input: HarnessInput = {
    ingresses: [
      ingress('main', [rule('canary.example', path('/', 'main'))], { annotations: options.mainAnnotations }),
      ingress('canary', [rule('canary.example', path('/', 'canary'))], { annotations: { canary: 'true', ...canaryAnnotations } }),
    ],
    services: [mainSvc, canarySvc],
    endpoints: [
      endpoints(
        mainSvc,
        main.map((b) => ({ ip: b.ip, port: b.port })),
      ),
      endpoints(canarySvc, [{ ip: canaryPod.ip, port: canaryPod.port, ready: options.canaryReady ?? true }]),
    ],
  };
  ctl.setInput(input);
}

async function who(headers: Record<string, string> = {}): Promise<string> {
  const r = await send(`${ctl.http}/`, { host: 'canary.example', headers });
  return (r.json?.name ?? String(r.status)).startsWith('main') ? 'main' : (r.json?.name ?? String(r.status));
}

describe('canary', () => {
  it('routes by header: always and never, else falls through to the weight', async () => {
    setup({ 'canary-by-header': 'X-Canary' });
    expect(await who({ 'x-canary': 'always' })).toBe('canary');
    expect(await who({ 'x-canary': 'never' })).toBe('main');
    expect(await who({ 'x-canary': 'maybe' })).toBe('main');
    expect(await who()).toBe('main');
  });

  it('routes by an exact header value or a header pattern', async () => {
    setup({ 'canary-by-header': 'X-Version', 'canary-by-header-value': 'v2' });
    expect(await who({ 'x-version': 'v2' })).toBe('canary');
    expect(await who({ 'x-version': 'v1' })).toBe('main');
    setup({ 'canary-by-header': 'X-Version', 'canary-by-header-pattern': '^v[2-9]$' });
    expect(await who({ 'x-version': 'v7' })).toBe('canary');
    expect(await who({ 'x-version': 'v10' })).toBe('main');
  });

  it('checks the header before the cookie, and the cookie before the weight', async () => {
    setup({ 'canary-by-header': 'X-Canary', 'canary-by-cookie': 'canary', 'canary-weight': '100' });
    expect(await who({ cookie: 'canary=never', 'x-canary': 'always' })).toBe('canary');
    expect(await who({ cookie: 'canary=always', 'x-canary': 'never' })).toBe('main');
    expect(await who({ cookie: 'canary=never' })).toBe('main');
    expect(await who({ cookie: 'other=1' })).toBe('canary');
  });

  it('sends canary-weight percent of requests to the canary', async () => {
    setup({ 'canary-weight': '30' });
    roll = 0.25;
    expect(await who()).toBe('canary');
    roll = 0.5;
    expect(await who()).toBe('main');
    setup({ 'canary-weight': '1', 'canary-weight-total': '1000' });
    roll = 0.0005;
    expect(await who()).toBe('canary');
    roll = 0.002;
    expect(await who()).toBe('main');
    roll = 0.99;
  });

  it('keeps traffic on the main upstream while the canary has no ready endpoints', async () => {
    setup({ 'canary-weight': '100' }, { canaryReady: false });
    expect(await who()).toBe('main');
  });
});

describe('cookie affinity', () => {
  it('sets INGRESSCOOKIE once and then pins the client to one endpoint', async () => {
    setup({}, { mainAnnotations: { affinity: 'cookie' } });
    const first = await send(`${ctl.http}/`, { host: 'canary.example' });
    const setCookie = first.headers['set-cookie']?.[0] ?? '';
    expect(setCookie).toMatch(/^INGRESSCOOKIE=[0-9a-f]{32}\|[0-9a-f]{32}; Path=\/; HttpOnly$/);
    const cookie = setCookie.split(';')[0] ?? '';
    for (let i = 0; i < 5; i++) {
      const r = await send(`${ctl.http}/`, { host: 'canary.example', headers: { cookie } });
      expect(r.json?.name).toBe(first.json?.name);
      expect(r.headers['set-cookie']).toBeUndefined();
    }
  });

  it('uses session-cookie-name and the other session-cookie settings', async () => {
    setup({}, { mainAnnotations: { affinity: 'cookie', 'session-cookie-name': 'route', 'session-cookie-max-age': '60', 'session-cookie-samesite': 'Lax' } });
    const r = await send(`${ctl.http}/`, { host: 'canary.example' });
    expect(r.headers['set-cookie']?.[0]).toMatch(/^route=[^;]+; Max-Age=60; Path=\/; HttpOnly; SameSite=Lax$/);
  });

  it('gives a client pinned to a removed endpoint a new one and a new cookie', async () => {
    setup({}, { mainAnnotations: { affinity: 'cookie' } });
    const r = await send(`${ctl.http}/`, { host: 'canary.example', headers: { cookie: 'INGRESSCOOKIE=deadbeef|cafe' } });
    expect(r.status).toBe(200);
    expect(r.headers['set-cookie']?.[0]).toMatch(/^INGRESSCOOKIE=/);
  });
});
