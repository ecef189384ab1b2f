import { describe, expect, it } from 'vitest';
import { compileIngress, type CompileInput } from '../../../src/cluster/ingress/compile.js';
import { explainRequest, formatExplanation } from '../../../src/dataplane/ingress/explain.js';
import { buildRouter } from '../../../src/dataplane/ingress/router.js';
import { endpoints, ingress, path, rule, service } from '../../fixtures/ingress/factory.js';

function router(input: Partial<CompileInput> & Pick<CompileInput, 'ingresses'>) {
  return buildRouter(compileIngress({ ingressClasses: [], services: [], endpoints: [], secrets: [], ...input }).config);
}

const front = service('store-front');
const api = service('api');
const v2 = service('v2');
const store = router({
  ingresses: [
    ingress('store', [rule(undefined, path('/store-front(/|$)(.*)', 'store-front', 80, 'ImplementationSpecific'))], {
      annotations: { 'use-regex': 'true', 'rewrite-target': '/$2' },
    }),
    ingress('api', [rule(undefined, path('/api', 'api', 80, 'Exact'))]),
    ingress('main', [rule('c.example', path('/', 'api'))], { tls: [{ hosts: ['c.example'] }] }),
    ingress('canary', [rule('c.example', path('/', 'v2'))], { annotations: { canary: 'true', 'canary-by-header': 'X-Canary', 'canary-weight': '25' } }),
  ],
  services: [front, api, v2],
  endpoints: [
    endpoints(front, [{ ip: '127.244.0.5', port: 8080, podName: 'store-front-abc' }]),
    endpoints(api, [{ ip: '127.244.1.7', port: 3000 }]),
    endpoints(v2, [{ ip: '127.244.2.9', port: 3000 }]),
  ],
});

describe('explainRequest', () => {
  it('explains regex mode, the matched rule, the rewrite and the endpoints', () => {
    const e = explainRequest(store, { host: 'shop.example', path: '/store-front/x?q=1' });
    expect(e.server).toEqual({ hostname: '_', match: 'default', tls: false });
    expect(e.regex).toEqual({ enabled: true, by: ['default/store'] });
    expect(e.location).toMatchObject({ path: '/store-front(/|$)(.*)', ingress: 'default/store', rule: { rule: 0, path: 0 } });
    expect(e.rewrite).toEqual({ target: '/$2', result: '/x?q=1' });
    expect(e.upstream?.endpoints.map((x) => x.ip)).toEqual(['127.244.0.5']);
    expect(e.outcome.status).toBe('proxied');
    const text = formatExplanation(e);
    expect(text).toContain('Regex:     on: every path of this host is a case-insensitive regex');
    expect(text).toContain('Rewrite:   /store-front/x?q=1 -> /x?q=1 (rewrite-target /$2)');
    expect(text).toContain('127.244.0.5:8080 (pod store-front-abc');
  });

  it("shows that another Ingress's Exact path acts as a prefix in regex mode", () => {
    const e = explainRequest(store, { host: 'shop.example', path: '/API/v2' });
    expect(e.location).toMatchObject({ path: '/api', pathType: 'Exact', ingress: 'default/api' });
  });

  it('explains the ssl-redirect of a host with TLS', () => {
    const e = explainRequest(store, { host: 'c.example', path: '/a' });
    expect(e.outcome).toEqual({ status: 308, location: 'https://c.example/a', reason: 'the host has TLS and ssl-redirect is on (default)' });
  });

  it('explains the canary decision: header first, else the weight as a share of requests', () => {
    const byHeader = explainRequest(store, { host: 'c.example', path: '/', scheme: 'https', headers: { 'X-Canary': 'always' } });
    expect(byHeader.canary).toMatchObject({ decision: 'header-always', routed: true });
    const byWeight = explainRequest(store, { host: 'c.example', path: '/', scheme: 'https' });
    expect(byWeight.canary?.detail).toContain('canary-weight 25 of 100: 25.0% of requests go to the canary');
  });

  it('explains a 503 with the reason the upstream has no endpoints', () => {
    const r = router({ ingresses: [ingress('w', [rule('w.example', path('/', 'gone'))])] });
    expect(explainRequest(r, { host: 'w.example', path: '/' }).outcome).toEqual({ status: 503, reason: 'Service default/gone not found' });
  });
});
