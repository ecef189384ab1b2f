/**
 * Events (v1) for what aks-emu's controllers do, with the reasons the Kubernetes and
 * cloud-provider-azure components use: EnsuredLoadBalancer / SyncLoadBalancerFailed on a
 * Service, ScalingReplicaSet on a Deployment, Sync on an Ingress (ingress-nginx), Unhealthy
 * on a pod whose readiness probe fails, and aks-emu's own LoadBalancerProbe on the node an
 * Azure LB probe marks up or down. Repeats increase `count`; the newest 1,000 are kept.
 */
import { randomBytes } from 'node:crypto';
import type { Change, KubeObject, ObjectRef, ObjectStore, StoredEntry } from '../../cluster/store/index.js';
import type { Snapshot } from '../../cluster/snapshot.js';
import { refOf, resourceOfKind } from './resources.js';

export interface Involved {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export interface EventRecord {
  readonly involved: Involved;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
  readonly component: string;
}

const LIMIT = 1000;
const EVENT = resourceOfKind('v1', 'Event')!;

/** The changes that record `records` (and drop the oldest events past the limit). */
export function eventChanges(store: ObjectStore, records: readonly EventRecord[], now: Date): Change[] {
  const changes: Change[] = [];
  const time = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const existing = store.list('', 'Event');
  // One pass over the stored Events, then one lookup per record: a burst of probe transitions
  // (every node of every LB rule at start) must not scan every Event once per record.
  const bySignature = new Map<string, StoredEntry>();
  for (const e of existing) {
    const o = e.object as KubeObject & { involvedObject?: Involved; reason?: string; message?: string };
    if (o.involvedObject) bySignature.set(signature(o.involvedObject, o.reason, o.message), e);
  }
  for (const r of records) {
    const namespace = r.involved.namespace || 'default';
    const key = signature(r.involved, r.reason, r.message);
    const same = bySignature.get(key);
    const uid = involvedUid(store, r.involved);
    if (same) {
      const o = same.object as KubeObject & { count?: number };
      const object = { ...o, count: (o.count ?? 1) + 1, lastTimestamp: time };
      changes.push({ op: 'put', ref: same.ref, owner: 'controller', object });
      // A later record of the same batch counts on from this one.
      bySignature.set(key, { ...same, object });
      continue;
    }
    const name = `${r.involved.name}.${randomBytes(8).toString('hex')}`;
    const ref: ObjectRef = refOf(EVENT, namespace, name);
    const object: KubeObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: { ...r.involved, ...(uid ? { uid } : {}) },
      type: r.type,
      reason: r.reason,
      message: r.message,
      source: { component: r.component },
      firstTimestamp: time,
      lastTimestamp: time,
      count: 1,
      reportingComponent: r.component,
      reportingInstance: '',
    };
    changes.push({ op: 'put', ref, owner: 'controller', object });
    bySignature.set(key, { ref, owner: 'controller', object });
  }
  const created = new Set(changes.flatMap((c) => (c.op === 'put' && !store.get(c.ref) ? [c.ref.name] : [])));
  const excess = existing.length + created.size - LIMIT;
  if (excess > 0) {
    const oldest = [...existing].sort((a, b) => Number(a.object.metadata.resourceVersion) - Number(b.object.metadata.resourceVersion)).slice(0, excess);
    for (const e of oldest) changes.push({ op: 'delete', ref: e.ref });
  }
  return changes;
}

function signature(i: Involved, reason: string | undefined, message: string | undefined): string {
  return JSON.stringify([i.kind, i.namespace, i.name, reason, message]);
}

function involvedUid(store: ObjectStore, i: Involved): string | undefined {
  const r = resourceOfKind(i.apiVersion, i.kind);
  return r ? store.get(refOf(r, i.namespace, i.name))?.object.metadata.uid : undefined;
}

type Json = Record<string, unknown>;
const lbIP = (o: KubeObject | undefined) =>
  ((o?.['status'] as Json | undefined)?.['loadBalancer'] as { ingress?: { ip?: string }[] } | undefined)?.ingress?.[0]?.ip;

/**
 * What a controller would report about the writes the mirror is about to make: a Service
 * that got (or could not get) its LB frontend, a ReplicaSet scaled, an Ingress admitted,
 * a node cordoned or uncordoned.
 */
export function eventsOfChanges(store: ObjectStore, changes: readonly Change[], snapshot: Snapshot): EventRecord[] {
  const out: EventRecord[] = [];
  for (const c of changes) {
    if (c.op !== 'put') continue;
    const before = store.get(c.ref)?.object;
    const o = c.object;
    const involved = { apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata.namespace ?? '', name: o.metadata.name };
    if (o.kind === 'Service' && (o['spec'] as Json | undefined)?.['type'] === 'LoadBalancer') {
      const ip = lbIP(o);
      if (ip && ip !== lbIP(before)) {
        // Looked up only for an event: the mirror puts every LoadBalancer Service again after each snapshot.
        const info = snapshot.services.find((s) => s.namespace === involved.namespace && s.name === involved.name);
        out.push({
          involved,
          type: 'Normal',
          reason: 'EnsuredLoadBalancer',
          message: `Ensured load balancer (frontend ${ip} on ${info?.loadBalancer?.loadBalancerName ?? 'kubernetes'})`,
          component: 'service-controller',
        });
      }
    }
    if (o.kind === 'Ingress' && lbIP(o) && lbIP(o) !== lbIP(before)) {
      out.push({ involved, type: 'Normal', reason: 'Sync', message: 'Scheduled for sync', component: 'nginx-ingress-controller' });
    }
    const unschedulable = (x: KubeObject | undefined) => (x?.['spec'] as Json | undefined)?.['unschedulable'] === true;
    if (o.kind === 'Node' && before && unschedulable(o) !== unschedulable(before)) {
      // kubelet's recordNodeSchedulableEvent, on the first status sync after a cordon or uncordon.
      const status = unschedulable(o) ? 'NodeNotSchedulable' : 'NodeSchedulable';
      out.push({ involved, type: 'Normal', reason: status, message: `Node ${o.metadata.name} status is now: ${status}`, component: 'kubelet' });
    }
    if (o.kind === 'ReplicaSet') {
      const owner = (o.metadata['ownerReferences'] as { kind: string; name: string }[] | undefined)?.[0];
      const to = (o['spec'] as Json)['replicas'];
      const from = before ? (before['spec'] as Json)['replicas'] : 0;
      if (owner?.kind === 'Deployment' && to !== from) {
        out.push({
          involved: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: involved.namespace, name: owner.name },
          type: 'Normal',
          reason: 'ScalingReplicaSet',
          message: `Scaled ${Number(to) > Number(from) ? 'up' : 'down'} replica set ${o.metadata.name} from ${String(from)} to ${String(to)}`,
          component: 'deployment-controller',
        });
      }
    }
  }
  return out;
}
