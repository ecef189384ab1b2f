import { describe, expect, it } from 'vitest';
import { compileIngress, type CompileInput } from '../../../src/cluster/ingress/compile.js';
import { endpoints, ingress, ingressClass, path, rule, service } from '../../fixtures/ingress/factory.js';

function compile(input: Partial<CompileInput> & Pick<CompileInput, 'ingresses'>) {
  return compileIngress({ ingressClasses: [], services: [], endpoints: [], secrets: [], ...input });
}

function server(result: ReturnType<typeof compile>, hostname: string) {
  const s = result.config.servers.find((x) => x.hostname === hostname);
  if (!s) throw new Error(`no server ${hostname}`);
  return s;
}

describe('ingress classes', () => {
  it('admits the nginx and AKS app routing classes and ignores others with a reason', () => {
    const r = compile({
      ingresses: [
        ingress('a', [], { className: 'nginx' }),
        ingress('b', [], { className: 'webapprouting.kubernetes.azure.com' }),
        ingress('c', [], { className: 'traefik' }),
        ingress('d', [], { className: null }),
      ],
    });
    expect(r.statuses['default/a']).toEqual({ admitted: true });
    expect(r.statuses['default/b']).toEqual({ admitted: true });
    expect(r.statuses['default/c']?.admitted).toBe(false);
    expect(r.statuses['default/c']?.reason).toContain('"traefik"');
    expect(r.statuses['default/d']?.admitted).toBe(false);
  });

  it('admits an Ingress without a class when an IngressClass of ours is the default', () => {
    const r = compile({ ingresses: [ingress('d', [], { className: null })], ingressClasses: [ingressClass('nginx', 'k8s.io/ingress-nginx', true)] });
    expect(r.statuses['default/d']).toEqual({ admitted: true });
  });
});

describe('upstreams', () => {
  it('resolves the backend port by number or name to the ready pod endpoints, never the ClusterIP', () => {
    const svc = service('web', [{ name: 'http', port: 80, targetPort: 8080 }]);
    const eps = endpoints(
      svc,
      [
        { ip: '127.244.0.5', port: 8080 },
        { ip: '127.244.0.6', port: 8080, ready: false },
      ],
      'http',
    );
    const r = compile({
      ingresses: [ingress('w', [rule('a.example', path('/', 'web', 80)), rule('b.example', path('/', 'web', 'http'))])],
      services: [svc],
      endpoints: [eps],
    });
    const byNumber = r.config.upstreams.find((u) => u.name === 'default-web-80');
    const byName = r.config.upstreams.find((u) => u.name === 'default-web-http');
    expect(byNumber?.endpoints.map((e) => `${e.ip}:${e.port}`)).toEqual(['127.244.0.5:8080']);
    expect(byName?.endpoints).toEqual(byNumber?.endpoints);
  });

  it('records why an upstream has no endpoints', () => {
    const r = compile({ ingresses: [ingress('w', [rule('a.example', path('/', 'missing'))])] });
    expect(r.config.upstreams[0]?.problem).toBe('Service default/missing not found');
  });
});

describe('servers and locations', () => {
  it('merges the paths of several Ingresses on one host; the older one wins a conflict', () => {
    const r = compile({
      ingresses: [
        ingress('first', [rule('shop.example', path('/api', 'api'), path('/', 'web'))]),
        ingress('second', [rule('shop.example', path('/api', 'other'), path('/admin', 'admin'))]),
      ],
    });
    const shop = server(r, 'shop.example');
    expect(shop.locations.map((l) => `${l.path} ${l.upstream} ${l.ingress}`)).toEqual([
      '/admin default-admin-80 default/second',
      '/api default-api-80 default/first',
      '/ default-web-80 default/first',
    ]);
    expect(r.notices.some((n) => n.includes('default/second') && n.includes('"/api"') && n.includes('default/first'))).toBe(true);
  });

  it('keeps one location per path and pathType on a host with many paths, whatever their order', () => {
    const many = Array.from({ length: 500 }, (_, i) => path(`/p${i}`, `s${i}`));
    const r = compile({
      ingresses: [
        ingress('first', [rule('shop.example', ...many, path('/p7', 'exact', 80, 'Exact'))]),
        ingress('second', [rule('shop.example', path('/p250', 'late'), path('/', 'web'), path('/p499', 'again'))]),
      ],
    });
    const locations = server(r, 'shop.example').locations;
    const keys = locations.map((l) => `${l.path} ${l.pathType}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.filter((k) => !k.startsWith('/p'))).toEqual(['/ Prefix']);
    const at = (p: string) => locations.filter((l) => l.path === p).map((l) => `${l.pathType} ${l.upstream}`);
    expect(at('/p7')).toEqual(['Prefix default-s7-80', 'Exact default-exact-80']);
    expect(at('/p250')).toEqual(['Prefix default-s250-80']);
    expect(at('/')).toEqual(['Prefix default-web-80']);
    expect(at('/p499')).toEqual(['Prefix default-s499-80']);
    expect(r.notices.filter((n) => n.includes('default/second'))).toHaveLength(2);
  });

  it('puts host-less rules on the "_" server and serves a host root from the Ingress defaultBackend', () => {
    const r = compile({
      ingresses: [ingress('w', [rule(undefined, path('/x', 'x')), rule('h.example', path('/y', 'y'))], { defaultBackend: { service: 'fallback' } })],
    });
    expect(server(r, '_').locations.map((l) => l.path)).toEqual(['/x', '/']);
    const root = server(r, 'h.example').locations.find((l) => l.path === '/');
    expect(root).toMatchObject({ isDefaultBackend: true, upstream: 'default-fallback-80', ingress: 'default/w' });
  });

  it('names the Ingress that turned regex mode on for a host', () => {
    const r = compile({
      ingresses: [
        ingress('plain', [rule('h.example', path('/api', 'api', 80, 'Exact'))]),
        ingress('regex', [rule('h.example', path('/web(/|$)(.*)', 'web', 80, 'ImplementationSpecific'))], { annotations: { 'rewrite-target': '/$2' } }),
      ],
    });
    expect(server(r, 'h.example').regexBy).toEqual(['default/regex']);
  });

  it('reports every unimplemented nginx.ingress.kubernetes.io annotation', () => {
    const r = compile({ ingresses: [ingress('w', [], { annotations: { 'configuration-snippet': 'x', 'limit-rps': '5', 'ssl-redirect': 'false' } })] });
    expect(r.notices).toEqual([
      'Ingress default/w: annotation nginx.ingress.kubernetes.io/configuration-snippet is not implemented by aks-emu and has no effect',
      'Ingress default/w: annotation nginx.ingress.kubernetes.io/limit-rps is not implemented by aks-emu and has no effect',
    ]);
  });
});

describe('canary', () => {
  it('attaches a canary Ingress to the main upstream of the same host and path, adding no location', () => {
    const r = compile({
      ingresses: [
        ingress('main', [rule('c.example', path('/', 'v1'))]),
        ingress('canary', [rule('c.example', path('/', 'v2'))], { annotations: { canary: 'true', 'canary-weight': '20' } }),
      ],
    });
    expect(server(r, 'c.example').locations.map((l) => l.upstream)).toEqual(['default-v1-80']);
    expect(r.config.upstreams.find((u) => u.name === 'default-v1-80')?.alternative).toBe('default-v2-80');
    expect(r.config.upstreams.find((u) => u.name === 'default-v2-80')?.canary).toMatchObject({ ingress: 'default/canary', weight: 20, weightTotal: 100 });
  });

  it('ignores a canary without a main Ingress, with a notice', () => {
    const r = compile({
      ingresses: [
        ingress('main', [rule('c.example', path('/', 'v1'))]),
        ingress('canary', [rule('c.example', path('/other', 'v2'))], { annotations: { canary: 'true' } }),
      ],
    });
    expect(r.notices.some((n) => n.includes('default/canary') && n.includes('no main Ingress'))).toBe(true);
  });
});
