import { describe, expect, it } from 'vitest';
import { fieldErrors, load } from '../helpers.js';

const route = (kind: string, spec: object) => ({ apiVersion: 'gateway.networking.k8s.io/v1alpha2', kind, metadata: { name: 'r', namespace: 'default' }, spec });

describe('TCPRoute and TLSRoute', () => {
  it('loads both at v1alpha2 with weights defaulted to 1', () => {
    const { manifests } = load([
      route('TCPRoute', { parentRefs: [{ name: 'gw', sectionName: 'tcp' }], rules: [{ backendRefs: [{ name: 'db', port: 5432 }] }] }),
      route('TLSRoute', { parentRefs: [{ name: 'gw' }], hostnames: ['*.example.com'], rules: [{ backendRefs: [{ name: 'web', port: 443, weight: 2 }] }] }),
    ]);
    expect(manifests.gatewayApi?.tcpRoutes?.[0]?.rules[0]?.backendRefs[0]).toMatchObject({ name: 'db', port: 5432, weight: 1 });
    expect(manifests.gatewayApi?.tlsRoutes?.[0]).toMatchObject({ hostnames: ['*.example.com'], rules: [{ backendRefs: [{ weight: 2 }] }] });
  });

  it('rejects what the CRDs reject', () => {
    expect(fieldErrors([route('TCPRoute', { parentRefs: [{ name: 'gw' }] })])).toEqual(['spec.rules: Required value']);
    expect(fieldErrors([route('TCPRoute', { rules: [{ backendRefs: [{ name: 'db' }] }] })])).toEqual([
      'spec.rules[0].backendRefs[0]: Invalid value: {"name":"db"}: Must have port for Service reference',
    ]);
    expect(fieldErrors([route('TLSRoute', { hostnames: ['bad_host'], rules: [{ backendRefs: [] }] })]).length).toBe(2);
    expect(
      fieldErrors([{ ...route('TCPRoute', { rules: [{ backendRefs: [{ name: 'db', port: 1 }] }] }), apiVersion: 'gateway.networking.k8s.io/v1' }]),
    ).toEqual(['apiVersion: Invalid value: "gateway.networking.k8s.io/v1": no matches for kind "TCPRoute" in version "gateway.networking.k8s.io/v1"']);
  });
});
