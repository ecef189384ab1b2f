import { describe, expect, it } from 'vitest';
import { HANDLED_KINDS, type HandledKind } from '../../../src/manifests/kind-table.js';
import { apiGroupList, apiResourceList } from '../../../src/api/kube/discovery.js';
import { keepTransitionTimes } from '../../../src/api/kube/gateway-status.js';
import { RESOURCES, groupVersion, qualifiedResource } from '../../../src/api/kube/resources.js';
import { toTable } from '../../../src/api/kube/table.js';
import type { KubeObject } from '../../../src/cluster/store/index.js';

describe('the served resources', () => {
  // The object store rebuilds the cluster's whole manifest set from what it holds: a kind the
  // manifests layer reads but the API does not serve would vanish at the next write.
  it('serve every kind the manifests layer reads, at the apiVersion it reads', () => {
    for (const [kind, info] of Object.entries(HANDLED_KINDS) as [HandledKind, (typeof HANDLED_KINDS)[HandledKind]][]) {
      const served = RESOURCES.find((r) => r.kind === kind);
      expect(served, kind).toBeDefined();
      expect(groupVersion(served!), kind).toBe(info.apiVersion);
      expect(qualifiedResource(served!), kind).toBe(info.resource);
      expect(!served!.namespaced, kind).toBe(info.clusterScoped);
    }
  });

  it('list gateway.networking.k8s.io with its three versions, v1 preferred', () => {
    const group = apiGroupList().groups.find((g) => g.name === 'gateway.networking.k8s.io')!;
    expect(group.versions.map((v) => v.version)).toEqual(['v1', 'v1beta1', 'v1alpha2']);
    expect(group.preferredVersion).toEqual({ groupVersion: 'gateway.networking.k8s.io/v1', version: 'v1' });
    const v1 = apiResourceList('gateway.networking.k8s.io', 'v1')!.resources;
    expect(v1.find((r) => r.name === 'gateways')).toMatchObject({ shortNames: ['gtw'], categories: ['gateway-api'], namespaced: true });
    expect(v1.find((r) => r.name === 'gatewayclasses')).toMatchObject({ shortNames: ['gc'], namespaced: false });
    expect(v1.map((r) => r.name)).toContain('httproutes/status');
    expect(apiResourceList('gateway.networking.k8s.io', 'v1beta1')!.resources.map((r) => r.name)).toEqual(['referencegrants']);
  });
});

describe('Gateway API status', () => {
  const cond = (type: string, status: string, at: string) => ({ type, status, reason: 'R', message: 'm', observedGeneration: 1, lastTransitionTime: at });

  it('keeps a condition’s lastTransitionTime while its status stays, moves it when the status changes', () => {
    const before = {
      conditions: [cond('Accepted', 'True', 't1'), cond('Programmed', 'False', 't1')],
      listeners: [{ conditions: [cond('Accepted', 'True', 't1')] }],
    };
    const next = {
      conditions: [cond('Accepted', 'True', 't2'), cond('Programmed', 'True', 't2')],
      listeners: [{ conditions: [cond('Accepted', 'True', 't2')] }],
    };
    expect(keepTransitionTimes(before, next)).toEqual({
      conditions: [cond('Accepted', 'True', 't1'), cond('Programmed', 'True', 't2')],
      listeners: [{ conditions: [cond('Accepted', 'True', 't1')] }],
    });
  });

  it('prints a Gateway with the CRD’s columns: Class, Address, Programmed, Age', () => {
    const gw = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'gw', namespace: 'shop', creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { gatewayClassName: 'istio' },
      status: { addresses: [{ type: 'IPAddress', value: '10.0.0.4' }], conditions: [cond('Programmed', 'True', 't')] },
    } as KubeObject;
    const table = toTable('Gateway', [gw], '1', null, Date.parse('2026-01-01T00:01:00Z'));
    expect(table.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Class', 'Address', 'Programmed', 'Age']);
    expect(table.rows[0]!.cells).toEqual(['gw', 'istio', '10.0.0.4', 'True', '60s']);
    const pending = toTable('Gateway', [{ ...gw, status: undefined }], '1', null, Date.parse('2026-01-01T00:01:00Z'));
    expect(pending.rows[0]!.cells).toEqual(['gw', 'istio', '', '', '60s']);
  });
});
