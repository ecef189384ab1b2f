import { describe, expect, it } from 'vitest';
import { compileIngress } from '../../../src/cluster/ingress/compile.js';
import { buildRouter } from '../../../src/dataplane/ingress/router.js';
import { Balancer, canaryDecision, getCookie } from '../../../src/dataplane/ingress/upstream-pool.js';
import { endpoints, ingress, path, rule, service } from '../../fixtures/ingress/factory.js';

describe('getCookie', () => {
  it('finds one cookie in a Cookie header', () => {
    expect(getCookie('a=1; INGRESSCOOKIE=x|y;b=2', 'INGRESSCOOKIE')).toBe('x|y');
    expect(getCookie('a=1; b=2', 'b')).toBe('2');
    expect(getCookie('ab=1', 'a')).toBeUndefined();
    expect(getCookie(undefined, 'a')).toBeUndefined();
  });
});

describe('Balancer', () => {
  const v1 = service('v1');
  const v2 = service('v2');
  const router = buildRouter(
    compileIngress({
      ingresses: [
        ingress('main', [rule('c.example', path('/', 'v1'))], { annotations: { affinity: 'cookie' } }),
        ingress('canary', [rule('c.example', path('/', 'v2'))], { annotations: { canary: 'true', 'canary-by-header': 'X-Canary', 'canary-weight': '50' } }),
      ],
      ingressClasses: [],
      services: [v1, v2],
      endpoints: [
        endpoints(v1, [
          { ip: '127.1.0.1', port: 1 },
          { ip: '127.1.0.2', port: 1 },
          { ip: '127.1.0.3', port: 1 },
        ]),
        endpoints(v2, [{ ip: '127.1.1.1', port: 1 }]),
      ],
      secrets: [],
    }).config,
  );
  const main = router.upstreams.find((u) => u.name === 'default-v1-80')!;

  it('goes round robin and starts over when the router changes', () => {
    const b = new Balancer();
    b.sync(router);
    expect([0, 1, 2, 3].map(() => b.roundRobin(main))).toEqual([0, 1, 2, 0]);
    expect(b.sync(router)).toBe(false);
    expect(b.sync(buildRouter(router.config))).toBe(true);
    expect(b.roundRobin(main)).toBe(0);
  });

  it('finds the endpoint an affinity cookie pins', () => {
    const b = new Balancer();
    const cookie = `INGRESSCOOKIE=${main.endpoints[2]!.cookieValue}`;
    expect(b.pinnedEndpoint(main, cookie)).toBe(2);
    expect(b.pinnedEndpoint(main, 'INGRESSCOOKIE=stale')).toBe(-1);
  });

  it('decides the canary by affinity, then header, then weight', () => {
    const pinned = `INGRESSCOOKIE=${main.endpoints[0]!.cookieValue}`;
    expect(canaryDecision(main, { cookie: pinned, 'x-canary': 'always' }, () => 0)).toBe('affinity-main');
    expect(canaryDecision(main, { 'x-canary': 'always' }, () => 0.99)).toBe('header-always');
    expect(canaryDecision(main, { 'x-canary': 'never' }, () => 0)).toBe('header-never');
    expect(canaryDecision(main, {}, () => 0.49)).toBe('weight-in');
    expect(canaryDecision(main, {}, () => 0.5)).toBe('weight-out');
  });
});
