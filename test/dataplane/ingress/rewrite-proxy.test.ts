/**
 * Rewrites, regex mode and app-root through a real controller pod. Addresses: 127.51.3.0/24.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, send, type Backend } from '../../fixtures/ingress/backends.js';
import { endpoints, ingress, path, rule, service } from '../../fixtures/ingress/factory.js';
import { startController, type ControllerHarness } from '../../fixtures/ingress/harness.js';

const CONTROLLER = '127.51.3.1';
const NAMES = ['store-front', 'order-service', 'api', 'abc', 'a-any', 'foo-bar', 'foo-any', 'app'] as const;

let ctl: ControllerHarness;
const backends = new Map<string, Backend>();

beforeAll(async () => {
  let i = 10;
  for (const name of NAMES) backends.set(name, await startBackend(name, `127.51.3.${i++}`));
  const svcs = NAMES.map((n) => service(n));
  const eps = svcs.map((s) => endpoints(s, [{ ip: backends.get(s.name)!.ip, port: backends.get(s.name)!.port }]));
  const ingresses = [
    // The AKS store demo: one host-less Ingress with capture-group rewrites.
    ingress(
      'store',
      [
        rule(
          undefined,
          path('/store-front(/|$)(.*)', 'store-front', 80, 'ImplementationSpecific'),
          path('/order-service(/|$)(.*)', 'order-service', 80, 'ImplementationSpecific'),
        ),
      ],
      {
        annotations: { 'use-regex': 'true', 'rewrite-target': '/$2' },
      },
    ),
    // Another team's plain Ingress on the same (default) server: regex mode applies to it too.
    ingress('api', [rule(undefined, path('/api', 'api', 80, 'Exact'))]),
    ingress(
      'order',
      [
        rule(
          'order.example',
          path('/abc', 'abc', 80, 'ImplementationSpecific'),
          path('/a.*', 'a-any', 80, 'ImplementationSpecific'),
          path('/foo.*', 'foo-any', 80, 'ImplementationSpecific'),
          path('/foo/bar.*', 'foo-bar', 80, 'ImplementationSpecific'),
        ),
      ],
      {
        annotations: { 'use-regex': 'true' },
      },
    ),
    ingress('args', [rule('args.example', path('/old', 'app', 80, 'Prefix'))], { annotations: { 'rewrite-target': '/new?from=ingress' } }),
    ingress('approot', [rule('approot.example', path('/', 'app'))], { annotations: { 'app-root': '/app1' } }),
  ];
  ctl = await startController(CONTROLLER, { ingresses, services: svcs, endpoints: eps });
});

afterAll(async () => {
  await ctl?.stop();
  await Promise.all([...backends.values()].map((b) => b.close()));
});

async function get(host: string, p: string) {
  const r = await send(`${ctl.http}${p}`, { host });
  return { status: r.status, name: r.json?.name, url: r.json?.url, location: r.headers.location };
}

describe('rewrite-target', () => {
  it('rewrites with capture groups and keeps the query string (AKS store demo)', async () => {
    expect(await get('store.example', '/store-front/x?q=1')).toMatchObject({ name: 'store-front', url: '/x?q=1' });
    expect(await get('store.example', '/store-front')).toMatchObject({ name: 'store-front', url: '/' });
    expect(await get('store.example', '/order-service/orders/7')).toMatchObject({ name: 'order-service', url: '/orders/7' });
  });

  it('matches regex paths case-insensitively', async () => {
    expect(await get('store.example', '/STORE-FRONT/y')).toMatchObject({ name: 'store-front', url: '/y' });
  });

  it('appends the original query after the arguments of the target', async () => {
    expect(await get('args.example', '/old/page?q=1')).toMatchObject({ name: 'app', url: '/new?from=ingress&q=1' });
  });
});

describe('regex mode', () => {
  it("turns another Ingress's Exact path on the same host into a case-insensitive prefix", async () => {
    expect(await get('store.example', '/api')).toMatchObject({ name: 'api', url: '/api' });
    expect(await get('store.example', '/api/anything')).toMatchObject({ name: 'api' });
    expect(await get('store.example', '/API')).toMatchObject({ name: 'api' });
  });

  it('takes the first matching regex in order of path length, longest first', async () => {
    expect(await get('order.example', '/foo/bar/x')).toMatchObject({ name: 'foo-bar' });
    expect(await get('order.example', '/foo/x')).toMatchObject({ name: 'foo-any' });
    expect(await get('order.example', '/abcd')).toMatchObject({ name: 'abc' });
    expect(await get('order.example', '/axyz')).toMatchObject({ name: 'a-any' });
  });
});

describe('app-root', () => {
  it('redirects / with 302 to the app root and proxies everything else', async () => {
    expect(await get('approot.example', '/')).toMatchObject({ status: 302, location: 'http://approot.example/app1' });
    expect(await get('approot.example', '/app1')).toMatchObject({ status: 200, name: 'app', url: '/app1' });
  });
});
