/**
 * Conformance-style routing through a real controller pod (kubernetes-sigs/
 * ingress-controller-conformance features/host_rules, path_rules, default_backend).
 * Addresses: 127.51.1.0/24.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, send, type Backend } from '../../fixtures/ingress/backends.js';
import { endpoints, ingress, path, rule, service } from '../../fixtures/ingress/factory.js';
import { startController, type ControllerHarness } from '../../fixtures/ingress/harness.js';
import { buildRouter } from '../../../src/dataplane/ingress/router.js';

const CONTROLLER = '127.51.1.1';
const NAMES = [
  'foo-exact',
  'foo-prefix',
  'aaa-slash-bbb-prefix',
  'aaa-prefix',
  'aaa-slash-bbb-slash-prefix',
  'foo-slash-exact',
  'wildcard-foo-com',
  'foo-bar-com',
  'impl',
  'echo-service',
] as const;

let ctl: ControllerHarness;
const backends = new Map<string, Backend>();

beforeAll(async () => {
  let i = 10;
  for (const name of NAMES) backends.set(name, await startBackend(name, `127.51.1.${i++}`));
  const svcs = NAMES.map((n) => service(n, [{ name: 'http', port: 8080, targetPort: backends.get(n)!.port }]));
  const eps = svcs.map((s) => endpoints(s, [{ ip: backends.get(s.name)!.ip, port: backends.get(s.name)!.port }], 'http'));
  const ingresses = [
    ingress('path-rules', [
      rule('exact-path-rules', path('/foo', 'foo-exact', 8080, 'Exact')),
      rule('prefix-path-rules', path('/foo', 'foo-prefix', 8080), path('/aaa/bbb', 'aaa-slash-bbb-prefix', 8080), path('/aaa', 'aaa-prefix', 8080)),
      rule('mixed-path-rules', path('/foo', 'foo-prefix', 8080), path('/foo', 'foo-exact', 8080, 'Exact')),
      rule('trailing-slash-path-rules', path('/aaa/bbb/', 'aaa-slash-bbb-slash-prefix', 8080), path('/foo/', 'foo-slash-exact', 8080, 'Exact')),
      rule('impl-rules', path('/foo', 'impl', 8080, 'ImplementationSpecific')),
    ]),
    ingress('host-rules', [rule('*.foo.com', path('/', 'wildcard-foo-com', 8080)), rule('foo.bar.com', path('/', 'foo-bar-com', 'http'))]),
    ingress('default-backend', [], { defaultBackend: { service: 'echo-service', port: 8080 } }),
  ];
  ctl = await startController(CONTROLLER, { ingresses, services: svcs, endpoints: eps });
});

afterAll(async () => {
  await ctl?.stop();
  await Promise.all([...backends.values()].map((b) => b.close()));
});

async function servedBy(host: string, p: string): Promise<{ status: number; name?: string; url?: string }> {
  const r = await send(`${ctl.http}${p}`, { host });
  return { status: r.status, name: r.json?.name, url: r.json?.url };
}

describe('path rules', () => {
  // Unmatched paths of a known host fall to that host's root location: the built-in 404.
  it('routes an Exact path only on a byte-exact match', async () => {
    expect(await servedBy('exact-path-rules', '/foo')).toEqual({ status: 200, name: 'foo-exact', url: '/foo' });
    expect((await servedBy('exact-path-rules', '/foo/')).status).toBe(404);
    expect((await servedBy('exact-path-rules', '/FOO')).status).toBe(404);
  });

  it('matches Prefix paths by whole segments and prefers the longest', async () => {
    expect(await servedBy('prefix-path-rules', '/foo')).toMatchObject({ name: 'foo-prefix', url: '/foo' });
    expect(await servedBy('prefix-path-rules', '/foo/')).toMatchObject({ name: 'foo-prefix', url: '/foo/' });
    expect(await servedBy('prefix-path-rules', '/aaa/bbb')).toMatchObject({ name: 'aaa-slash-bbb-prefix' });
    expect(await servedBy('prefix-path-rules', '/aaa/bbb/ccc')).toMatchObject({ name: 'aaa-slash-bbb-prefix' });
    expect(await servedBy('prefix-path-rules', '/aaa/ccc')).toMatchObject({ name: 'aaa-prefix' });
    expect((await servedBy('prefix-path-rules', '/aaaccc')).status).toBe(404);
    expect((await servedBy('prefix-path-rules', '/FOO')).status).toBe(404);
  });

  it('prefers Exact over Prefix for the same path', async () => {
    expect(await servedBy('mixed-path-rules', '/foo')).toMatchObject({ name: 'foo-exact' });
    expect(await servedBy('mixed-path-rules', '/foo/bar')).toMatchObject({ name: 'foo-prefix' });
  });

  it('lets a Prefix rule with a trailing slash serve the path without it', async () => {
    expect(await servedBy('trailing-slash-path-rules', '/aaa/bbb')).toMatchObject({ name: 'aaa-slash-bbb-slash-prefix', url: '/aaa/bbb' });
    expect(await servedBy('trailing-slash-path-rules', '/aaa/bbb/')).toMatchObject({ name: 'aaa-slash-bbb-slash-prefix', url: '/aaa/bbb/' });
    expect((await servedBy('trailing-slash-path-rules', '/foo')).status).toBe(404);
  });

  it('treats ImplementationSpecific as a plain string prefix, as ingress-nginx does', async () => {
    expect(await servedBy('impl-rules', '/foobar')).toMatchObject({ name: 'impl' });
    expect(await servedBy('impl-rules', '/foo/x')).toMatchObject({ name: 'impl' });
  });
});

describe('host rules', () => {
  it('matches hosts case-insensitively and ignores the port', async () => {
    expect(await servedBy('FOO.bar.com:8080', '/')).toMatchObject({ name: 'foo-bar-com' });
  });

  it('lets a wildcard cover exactly one label', async () => {
    expect(await servedBy('bar.foo.com', '/')).toMatchObject({ name: 'wildcard-foo-com' });
    expect((await servedBy('baz.bar.foo.com', '/')).name).toBe('echo-service');
    expect((await servedBy('foo.com', '/')).name).toBe('echo-service');
  });

  it('resolves a named backend port to the endpoints of that Service port', async () => {
    const r = await servedBy('foo.bar.com', '/x');
    expect(r).toMatchObject({ status: 200, name: 'foo-bar-com', url: '/x' });
  });
});

describe('default backend', () => {
  it('sends every unmatched request to the spec.defaultBackend of a rule-less Ingress', async () => {
    for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH']) {
      const r = await send(`${ctl.http}/sub-path`, { method, host: 'some-host' });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ name: 'echo-service', method, url: '/sub-path' });
      expect(r.headers['content-length']).toBeDefined();
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers.date).toBeDefined();
      expect(r.headers.server).toBe('nginx');
    }
  });

  it('answers 404 from the built-in default backend when nothing matches', async () => {
    const original = ctl.result;
    ctl.setInput({ ingresses: [ingress('only-host', [rule('a.example', path('/', 'foo-exact', 8080))])] });
    try {
      const r = await send(`${ctl.http}/`, { host: 'unknown.example' });
      expect(r.status).toBe(404);
      expect(r.headers['content-type']).toBe('text/html');
      expect(r.body).toContain('<center><h1>404 Not Found</h1></center>');
      expect(r.body).toContain('<hr><center>nginx</center>');
    } finally {
      ctl.result = original;
      ctl.router = buildRouter(original.config);
    }
  });
});
