import { describe, expect, it } from 'vitest';
import { compileGateways, intersectHostname, withGatewayInfrastructure } from '../../../src/cluster/gateway/index.js';
import { comparePrecedence } from '../../../src/cluster/gateway/route-compile.js';
import type { RouteRuleConfig } from '../../../src/cluster/ingress/route-rules.js';
import type { GatewayApiObjects } from '../../../src/model/gateway-types.js';
import { parseObjects } from '../../../src/manifests/index.js';
import { manifests } from '../factories.js';
import { endpoints, service } from '../../fixtures/ingress/factory.js';

function objects(docs: object[]): GatewayApiObjects {
  return parseObjects(docs.map((object, i) => ({ file: 't.yaml', doc: i + 1, object }))).manifests.gatewayApi!;
}

const V1 = 'gateway.networking.k8s.io/v1';
const gw = (name: string, listeners: object[], className = 'istio', namespace = 'default') => ({
  apiVersion: V1,
  kind: 'Gateway',
  metadata: { name, namespace },
  spec: { gatewayClassName: className, listeners },
});
const route = (name: string, spec: object, namespace = 'default') => ({ apiVersion: V1, kind: 'HTTPRoute', metadata: { name, namespace }, spec });

const web = service('web', [{ port: 80 }]);
const compile = (docs: object[]) =>
  compileGateways({
    objects: objects(docs),
    namespaces: [],
    services: [web],
    endpoints: [endpoints(web, [{ ip: '127.244.0.5', port: 8080 }])],
    secrets: [],
    now: 'T',
  });

describe('hostname intersection (Gateway API wildcards cover one or more labels)', () => {
  it.each([
    [undefined, 'a.example', 'a.example'],
    ['*.example', 'a.b.example', 'a.b.example'],
    ['*.example', 'example', undefined],
    ['a.example', '*.example', 'a.example'],
    ['*.example', '*.a.example', '*.a.example'],
    ['*.a.example', '*.example', '*.a.example'],
    ['a.example', 'b.example', undefined],
  ])('listener %s ∩ route %s = %s', (listener, routeHost, expected) => {
    expect(intersectHostname(listener, routeHost)).toBe(expected);
  });
});

describe('Istio precedence of match rules', () => {
  const r = (type: 'Exact' | 'PathPrefix' | 'RegularExpression', value: string, extra: Partial<RouteRuleConfig['matches']> = {}): RouteRuleConfig => ({
    route: `HTTPRoute ${type}${value}`,
    rule: 0,
    match: 0,
    matches: { path: { type, value }, headers: [], queryParams: [], ...extra },
    filters: [],
    backends: [],
    listenerPort: 80,
  });
  it('orders Exact, longer PathPrefix, then RegularExpression; then method, headers, query', () => {
    const header = { type: 'Exact' as const, name: 'a', value: 'b' };
    const rules = [
      r('RegularExpression', '/.*/long/regex'),
      r('PathPrefix', '/'),
      r('PathPrefix', '/', { headers: [header] }),
      r('PathPrefix', '/', { method: 'GET' }),
      r('PathPrefix', '/abc'),
      r('Exact', '/x'),
    ];
    const sorted = [...rules]
      .sort(comparePrecedence)
      .map((x) => `${x.matches.path.type} ${x.matches.path.value} ${x.matches.method ?? ''}${x.matches.headers.length}`);
    expect(sorted).toEqual(['Exact /x 0', 'PathPrefix /abc 0', 'PathPrefix / GET0', 'PathPrefix / 1', 'PathPrefix / 0', 'RegularExpression /.*/long/regex 0']);
  });
});

describe('compileGateways', () => {
  it('ignores Gateways of a class another controller runs, with a notice, and creates nothing for them', () => {
    const docs = [
      { apiVersion: V1, kind: 'GatewayClass', metadata: { name: 'other' }, spec: { controllerName: 'example.com/x' } },
      gw('g', [{ name: 'h', port: 80, protocol: 'HTTP' }], 'other'),
    ];
    const result = compile(docs);
    expect(result.gateways).toEqual([]);
    expect(Object.keys(result.gatewayClasses)).toEqual(['approuting-istio', 'istio']);
    expect(result.notices).toEqual([
      'GatewayClass other: controller example.com/x is not run by aks-emu (it runs istio.io/gateway-controller); the class stays unaccepted',
      'Gateway default/g: GatewayClass "other" is not served by aks-emu (approuting-istio and istio are); the Gateway is ignored',
    ]);
    expect(withGatewayInfrastructure(manifests({ gatewayApi: objects(docs) })).services).toEqual([]);
  });

  it('names the generated Deployment and Service <gateway>-<class> and passes infrastructure annotations to the Service', () => {
    const docs = [
      {
        ...gw('edge', [{ name: 'h', port: 80, protocol: 'HTTP' }], 'approuting-istio'),
        spec: {
          gatewayClassName: 'approuting-istio',
          infrastructure: { annotations: { 'service.beta.kubernetes.io/azure-load-balancer-internal': 'true' } },
          listeners: [{ name: 'h', port: 80, protocol: 'HTTP' }],
        },
      },
    ];
    const m = withGatewayInfrastructure(manifests({ gatewayApi: objects(docs) }));
    expect(m.services.map((s) => [s.metadata.name, s.spec.type, s.metadata.annotations['service.beta.kubernetes.io/azure-load-balancer-internal']])).toEqual([
      ['edge-approuting-istio', 'LoadBalancer', 'true'],
    ]);
    expect(m.services[0]?.spec.ports.map((p) => p.port)).toEqual([15021, 80]);
    expect(m.workloads.map((w) => w.metadata.name)).toEqual(['edge-approuting-istio']);
  });

  it("asks for the Gateway's first IPAddress as the Service's loadBalancerIP, as Istio does", () => {
    const doc = {
      ...gw('fixed', [{ name: 'h', port: 80, protocol: 'HTTP' }]),
      spec: { gatewayClassName: 'istio', addresses: [{ type: 'IPAddress', value: '127.20.0.50' }], listeners: [{ name: 'h', port: 80, protocol: 'HTTP' }] },
    };
    expect(withGatewayInfrastructure(manifests({ gatewayApi: objects([doc]) })).services[0]?.spec.loadBalancerIP).toBe('127.20.0.50');
  });

  it('leaves a Gateway not Programmed (AddressNotAssigned) until its Service has a frontend IP', () => {
    const status = compile([gw('g', [{ name: 'h', port: 80, protocol: 'HTTP' }])]).gatewayStatuses['default/g'];
    expect(status?.conditions[1]).toMatchObject({ type: 'Programmed', status: 'False', reason: 'AddressNotAssigned' });
    expect(status?.addresses).toEqual([]);
  });

  it('reports an HTTPS listener whose Secret is in another namespace without a ReferenceGrant as RefNotPermitted', () => {
    const status = compile([gw('g', [{ name: 's', port: 443, protocol: 'HTTPS', tls: { certificateRefs: [{ name: 'c', namespace: 'certs' }] } }])])
      .gatewayStatuses['default/g'];
    const listener = status?.listeners[0];
    expect(listener?.conditions.find((c) => c.type === 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'RefNotPermitted' });
    expect(listener?.conditions.find((c) => c.type === 'Programmed')).toMatchObject({ status: 'False', reason: 'Invalid' });
  });

  it('rejects a route with a regular expression that does not compile (UnsupportedValue) and keeps the others', () => {
    const result = compile([
      gw('g', [{ name: 'h', port: 80, protocol: 'HTTP' }]),
      route('bad', {
        parentRefs: [{ name: 'g' }],
        rules: [{ matches: [{ path: { type: 'RegularExpression', value: '/(' } }], backendRefs: [{ name: 'web', port: 80 }] }],
      }),
      route('good', { parentRefs: [{ name: 'g' }], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] }),
    ]);
    expect(result.routeStatuses['HTTPRoute/default/bad']?.parents[0]?.conditions[0]).toMatchObject({ status: 'False', reason: 'UnsupportedValue' });
    expect(result.gateways[0]?.tables[0]?.config.servers.map((s) => s.routes?.map((x) => x.route))).toEqual([['HTTPRoute default/good']]);
    expect(result.gatewayStatuses['default/g']?.listeners[0]?.attachedRoutes).toBe(1);
  });

  it('rejects a regular expression only a backtracking engine runs, with nested quantifiers (Envoy uses RE2)', () => {
    const result = compile([
      gw('g', [{ name: 'h', port: 80, protocol: 'HTTP' }]),
      route('redos', {
        parentRefs: [{ name: 'g' }],
        rules: [{ matches: [{ headers: [{ type: 'RegularExpression', name: 'x', value: '(a+)+\\1' }] }], backendRefs: [{ name: 'web', port: 80 }] }],
      }),
    ]);
    expect(result.routeStatuses['HTTPRoute/default/redos']?.parents[0]?.conditions[0]).toMatchObject({ status: 'False', reason: 'UnsupportedValue' });
  });

  it('reports InvalidKind for a backendRef that is not a Service and a missing port as BackendNotFound', () => {
    const result = compile([
      gw('g', [{ name: 'h', port: 80, protocol: 'HTTP' }]),
      route('kind', { parentRefs: [{ name: 'g' }], rules: [{ backendRefs: [{ group: 'example.com', kind: 'Bucket', name: 'b' }] }] }),
      route('port', { parentRefs: [{ name: 'g' }], rules: [{ backendRefs: [{ name: 'web', port: 81 }] }] }),
    ]);
    expect(result.routeStatuses['HTTPRoute/default/kind']?.parents[0]?.conditions[1]).toMatchObject({ status: 'False', reason: 'InvalidKind' });
    expect(result.routeStatuses['HTTPRoute/default/port']?.parents[0]?.conditions[1]).toMatchObject({ status: 'False', reason: 'BackendNotFound' });
  });
});
