import { describe, expect, it } from 'vitest';
import { fieldErrors, load } from '../helpers.js';

const V1 = 'gateway.networking.k8s.io/v1';
const gateway = (spec: object) => ({ apiVersion: V1, kind: 'Gateway', metadata: { name: 'gw' }, spec });
const route = (spec: object) => ({ apiVersion: V1, kind: 'HTTPRoute', metadata: { name: 'r' }, spec: { parentRefs: [{ name: 'gw' }], ...spec } });
const rule = (r: object) => route({ rules: [r] });
const http = { name: 'http', port: 80, protocol: 'HTTP' };

describe('Gateway API kinds in manifests', () => {
  it('loads the five kinds with the CRDs defaults instead of skipping them', () => {
    const { manifests, notices } = load([
      { apiVersion: V1, kind: 'GatewayClass', metadata: { name: 'mine' }, spec: { controllerName: 'example.com/gw' } },
      gateway({ gatewayClassName: 'istio', listeners: [http] }),
      route({ rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] }),
      { apiVersion: V1, kind: 'GRPCRoute', metadata: { name: 'g' }, spec: { rules: [{ matches: [{ method: { service: 'a.B' } }] }] } },
      {
        apiVersion: 'gateway.networking.k8s.io/v1beta1',
        kind: 'ReferenceGrant',
        metadata: { name: 'rg' },
        spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'a' }], to: [{ group: '', kind: 'Service' }] },
      },
    ]);
    expect(notices).toEqual([]);
    const api = manifests.gatewayApi!;
    expect(api.gateways[0]?.listeners[0]?.allowedRoutes.from).toBe('Same');
    const r = api.httpRoutes[0]!.rules[0]!;
    expect(r.matches).toEqual([{ path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] }]);
    expect(r.backendRefs[0]).toMatchObject({ group: '', kind: 'Service', weight: 1 });
    expect(api.grpcRoutes[0]?.rules[0]?.matches[0]?.method).toEqual({ type: 'Exact', service: 'a.B' });
    expect(api.referenceGrants).toHaveLength(1);
  });

  it('rejects listeners the CRD rejects, with its messages', () => {
    expect(
      fieldErrors([
        gateway({
          gatewayClassName: 'istio',
          listeners: [
            { name: 'a', port: 443, protocol: 'HTTPS', hostname: 'Upper.Example' },
            { name: 'a', port: 80, protocol: 'HTTP', tls: { certificateRefs: [{ name: 'x' }] } },
            { name: 'c', port: 70000, protocol: 'TCP', hostname: 'x.example' },
          ],
        }),
      ]),
    ).toEqual([
      `spec.listeners[0].hostname: Invalid value: "Upper.Example": spec.listeners[0].hostname in body should match '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'`,
      `spec.listeners[0]: Invalid value: "HTTPS": tls mode must be set for protocols ['HTTPS', 'TLS']`,
      `spec.listeners[1]: Invalid value: "tls": tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']`,
      'spec.listeners[2].port: Invalid value: 70000: must be between 1 and 65535, inclusive',
      `spec.listeners[2]: Invalid value: "x.example": hostname must not be specified for protocols ['TCP', 'UDP']`,
      'spec.listeners: Invalid value: "a": Listener name must be unique within the Gateway',
    ]);
  });

  it.each([
    [{ matches: [{ path: { type: 'Exact', value: 'foo' } }] }, "value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']"],
    [{ matches: [{ path: { type: 'PathPrefix', value: '/a//b' } }] }, "must not contain '//' when type one of ['Exact', 'PathPrefix']"],
    [{ matches: [{ path: { type: 'PathPrefix', value: '/a/..' } }] }, "must not end with '/..' when type one of ['Exact', 'PathPrefix']"],
    [
      {
        filters: [
          { type: 'RequestRedirect', requestRedirect: {} },
          { type: 'URLRewrite', urlRewrite: {} },
        ],
      },
      'May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both',
    ],
    [
      { filters: [{ type: 'RequestRedirect', requestRedirect: {} }], backendRefs: [{ name: 'web', port: 80 }] },
      'RequestRedirect filter must not be used together with backendRefs',
    ],
    [
      {
        matches: [{ path: { type: 'Exact', value: '/a' } }],
        filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/b' } } }],
      },
      'When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified',
    ],
    [{ filters: [{ type: 'RequestHeaderModifier' }] }, 'filter.requestHeaderModifier must be specified for RequestHeaderModifier filter.type'],
    [
      {
        filters: [
          { type: 'RequestHeaderModifier', requestHeaderModifier: {} },
          { type: 'RequestHeaderModifier', requestHeaderModifier: {} },
        ],
      },
      'RequestHeaderModifier filter cannot be repeated',
    ],
    [{ backendRefs: [{ name: 'web' }] }, 'Must have port for Service reference'],
    [{ timeouts: { request: '1s', backendRequest: '2s' } }, 'backendRequest timeout cannot be longer than request timeout'],
  ])('rejects an HTTPRoute rule the CRD rejects: %j', (r, message) => {
    expect(fieldErrors([rule(r)]).some((e) => e.endsWith(message))).toBe(true);
  });

  it('rejects a redirect status the standard channel does not allow and a hostname with capitals', () => {
    expect(
      fieldErrors([route({ hostnames: ['Foo.example'], rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { statusCode: 307 } }] }] })]),
    ).toEqual([
      'spec.rules[0].filters[0].requestRedirect.statusCode: Unsupported value: 307: supported values: "301", "302"',
      `spec.hostnames[0]: Invalid value: "Foo.example": spec.hostnames[0] in body should match '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'`,
    ]);
  });
});
