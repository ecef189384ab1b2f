import { describe, expect, it } from 'vitest';
import { LoadBalancerSyncEvents } from '../../../src/api/kube/load-balancer-events.js';
import type { Snapshot } from '../../../src/cluster/snapshot.js';

const snapshot = (services: { name: string; ip?: string; pendingReason?: string }[]) =>
  ({
    services: services.map((s) => ({
      namespace: 'shop',
      name: s.name,
      loadBalancer: { internal: false, loadBalancerName: 'kubernetes', frontendName: 'a1', ...s },
    })),
  }) as unknown as Snapshot;

describe('SyncLoadBalancerFailed events', () => {
  it('are recorded when a Service is first seen without a frontend and when the reason changes, not on every snapshot', () => {
    const events = new LoadBalancerSyncEvents();
    const first = events.of(
      snapshot([
        { name: 'web', pendingReason: 'reason one' },
        { name: 'ok', ip: '127.20.0.1' },
      ]),
    );
    expect(first).toEqual([
      {
        involved: { apiVersion: 'v1', kind: 'Service', namespace: 'shop', name: 'web' },
        type: 'Warning',
        reason: 'SyncLoadBalancerFailed',
        message: 'Error syncing load balancer: failed to ensure load balancer: reason one',
        component: 'service-controller',
      },
    ]);
    expect(events.of(snapshot([{ name: 'web', pendingReason: 'reason one' }]))).toEqual([]);
    expect(events.of(snapshot([{ name: 'web', pendingReason: 'reason two' }])).map((e) => e.message)).toEqual([
      'Error syncing load balancer: failed to ensure load balancer: reason two',
    ]);
  });

  it('are recorded again when a Service that got its frontend loses it', () => {
    const events = new LoadBalancerSyncEvents();
    events.of(snapshot([{ name: 'web', pendingReason: 'taken' }]));
    expect(events.of(snapshot([{ name: 'web', ip: '127.20.0.5' }]))).toEqual([]);
    expect(events.of(snapshot([{ name: 'web', pendingReason: 'taken' }]))).toHaveLength(1);
  });
});
