/**
 * SyncLoadBalancerFailed on a LoadBalancer Service that gets no frontend, with the
 * message the service controller writes (`Error syncing load balancer: failed to ensure
 * load balancer: <cloud-provider-azure's error>`). It is recorded when a Service is first
 * seen without a frontend and again when the reason changes, not on every snapshot: the
 * controller retries with back-off, and a repeat would only raise the event's count.
 */
import { syncLoadBalancerFailedMessage } from '../../cluster/loadbalancer/sync-failures.js';
import type { Snapshot } from '../../cluster/snapshot.js';
import type { EventRecord } from './events.js';

export class LoadBalancerSyncEvents {
  /** Service key (`ns/name`) → the reason last reported. */
  readonly #reported = new Map<string, string>();

  /** The events for the Services whose reason is new since the last snapshot. */
  of(snapshot: Snapshot): EventRecord[] {
    const out: EventRecord[] = [];
    const pending = new Set<string>();
    for (const s of snapshot.services) {
      const reason = s.loadBalancer?.ip === undefined ? s.loadBalancer?.pendingReason : undefined;
      if (reason === undefined) continue;
      const key = `${s.namespace}/${s.name}`;
      pending.add(key);
      if (this.#reported.get(key) === reason) continue;
      this.#reported.set(key, reason);
      out.push({
        involved: { apiVersion: 'v1', kind: 'Service', namespace: s.namespace, name: s.name },
        type: 'Warning',
        reason: 'SyncLoadBalancerFailed',
        message: syncLoadBalancerFailedMessage(reason),
        component: 'service-controller',
      });
    }
    // A Service that got its frontend (or went away) reports again if it loses it later.
    for (const key of [...this.#reported.keys()]) if (!pending.has(key)) this.#reported.delete(key);
    return out;
  }
}
