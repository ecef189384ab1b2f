import { describe, expect, it } from 'vitest';
import { compileGateways } from '../../../src/cluster/gateway/index.js';
import type { GatewayApiObjects } from '../../../src/model/gateway-types.js';
import { parseObjects } from '../../../src/manifests/index.js';
import { endpoints, service } from '../../fixtures/ingress/factory.js';

function objects(docs: object[]): GatewayApiObjects {
  return parseObjects(docs.map((object, i) => ({ file: 't.yaml', doc: i + 1, object }))).manifests.gatewayApi!;
}

const G = 'gateway.networking.k8s.io';
const gw = (listeners: object[]) => ({
  apiVersion: `${G}/v1`,
  kind: 'Gateway',
  metadata: { name: 'gw', namespace: 'default' },
  spec: { gatewayClassName: 'istio', listeners },
});
const l4 = (kind: string, name: string, spec: object) => ({ apiVersion: `${G}/v1alpha2`, kind, metadata: { name, namespace: 'default' }, spec });
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
const listener = (result: ReturnType<typeof compile>, name: string) => result.gatewayStatuses['default/gw']!.listeners.find((l) => l.name === name)!;
const condition = (conditions: readonly { type: string }[], type: string) => conditions.find((c) => c.type === type);

describe('TCP and TLS listeners', () => {
  const result = compile([
    gw([
      { name: 'tcp', port: 9000, protocol: 'TCP' },
      { name: 'tls', port: 9443, protocol: 'TLS', hostname: '*.example.com', tls: { mode: 'Passthrough' } },
      { name: 'term', port: 9444, protocol: 'TLS', tls: { mode: 'Terminate', certificateRefs: [{ name: 'c' }] } },
      { name: 'udp', port: 9053, protocol: 'UDP' },
      { name: 'wrong-kind', port: 9001, protocol: 'TCP', allowedRoutes: { kinds: [{ kind: 'HTTPRoute' }] } },
    ]),
    l4('TCPRoute', 'first', { parentRefs: [{ name: 'gw', sectionName: 'tcp' }], rules: [{ backendRefs: [{ name: 'web', port: 80, weight: 2 }] }] }),
    l4('TCPRoute', 'second', { parentRefs: [{ name: 'gw', port: 9000 }], rules: [{ backendRefs: [{ name: 'nope', port: 80 }] }] }),
    l4('TLSRoute', 'a', {
      parentRefs: [{ name: 'gw', sectionName: 'tls' }],
      hostnames: ['a.example.com', 'other.test'],
      rules: [{ backendRefs: [{ name: 'web', port: 80 }] }],
    }),
    l4('TLSRoute', 'nohost', {
      parentRefs: [{ name: 'gw', sectionName: 'tls' }],
      hostnames: ['b.other.test'],
      rules: [{ backendRefs: [{ name: 'web', port: 80 }] }],
    }),
    { apiVersion: `${G}/v1`, kind: 'HTTPRoute', metadata: { name: 'h', namespace: 'default' }, spec: { parentRefs: [{ name: 'gw', sectionName: 'tcp' }] } },
  ]);

  it('accepts TCP and TLS Passthrough, not TLS Terminate, UDP or another route kind', () => {
    expect(condition(listener(result, 'tcp').conditions, 'Programmed')).toMatchObject({ status: 'True' });
    expect(listener(result, 'tls').supportedKinds).toEqual([{ group: G, kind: 'TLSRoute' }]);
    expect(condition(listener(result, 'term').conditions, 'Accepted')).toMatchObject({ status: 'False', reason: 'UnsupportedValue' });
    expect(condition(listener(result, 'udp').conditions, 'Accepted')).toMatchObject({ status: 'False', reason: 'UnsupportedProtocol' });
    expect(condition(listener(result, 'wrong-kind').conditions, 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'InvalidRouteKinds' });
  });

  it('serves the first TCPRoute on a port with ready pod endpoints; both count as attached', () => {
    const tables = result.gateways[0]!.tcpTables!;
    expect(tables.find((t) => t.port === 9000)).toMatchObject({
      route: 'TCPRoute default/first',
      backends: [{ weight: 2, endpoints: [{ ip: '127.244.0.5', port: 8080 }] }],
    });
    expect(listener(result, 'tcp').attachedRoutes).toBe(2);
    expect(condition(result.routeStatuses['TCPRoute/default/second']!.parents[0]!.conditions, 'ResolvedRefs')).toMatchObject({
      status: 'False',
      reason: 'BackendNotFound',
    });
    expect(result.gateways[0]!.tables.map((t) => t.port)).not.toContain(9000);
  });

  it('keys TLSRoute backends by the hostnames that intersect the listener', () => {
    const tls = result.gateways[0]!.tcpTables!.find((t) => t.port === 9443)!;
    expect(tls.sni!.map((s) => s.hostname)).toEqual(['a.example.com']);
    expect(condition(result.routeStatuses['TLSRoute/default/nohost']!.parents[0]!.conditions, 'Accepted')).toMatchObject({
      status: 'False',
      reason: 'NoMatchingListenerHostname',
    });
  });

  it('does not let an HTTPRoute attach to a TCP listener', () => {
    expect(condition(result.routeStatuses['HTTPRoute/default/h']!.parents[0]!.conditions, 'Accepted')).toMatchObject({
      status: 'False',
      reason: 'NotAllowedByListeners',
    });
  });
});
