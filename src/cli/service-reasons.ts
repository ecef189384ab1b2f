/**
 * Under `aks-emu get svc`, why each LoadBalancer Service shows `<pending>`: the newest
 * SyncLoadBalancerFailed event of each (what `kubectl describe svc` lists under Events),
 * so the reason is where the user is already looking.
 */
import { AksEmuError } from '../errors/index.js';
import { externalIP } from './printers.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- API JSON */
type Obj = any;

/** `shop/web: <pending>: Error syncing load balancer: ...`, one line per pending Service that has a reason. */
export function pendingReasonLines(services: readonly Obj[], events: readonly Obj[]): string[] {
  const newest = new Map<string, Obj>();
  for (const e of events) {
    if (e.reason !== 'SyncLoadBalancerFailed' || e.involvedObject?.kind !== 'Service') continue;
    const key = `${e.involvedObject.namespace}/${e.involvedObject.name}`;
    const seen = newest.get(key);
    if (!seen || String(e.lastTimestamp ?? '') >= String(seen.lastTimestamp ?? '')) newest.set(key, e);
  }
  return services
    .filter((s) => s.spec?.type === 'LoadBalancer' && externalIP(s) === '<pending>')
    .flatMap((s) => {
      const e = newest.get(`${s.metadata.namespace}/${s.metadata.name}`);
      return e ? [`${s.metadata.namespace}/${s.metadata.name}: <pending>: ${e.message}`] : [];
    });
}

/**
 * The events of `namespace` (all when undefined) from the Kubernetes API of the emulator; an
 * admin API without one (a role of the container runtime) answers 404, and then there is
 * nothing to add to the table.
 */
export async function serviceEvents(request: (path: string) => Promise<unknown>, namespace: string | undefined): Promise<Obj[]> {
  try {
    const list = (await request(namespace === undefined ? '/api/v1/events' : `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`)) as Obj;
    return Array.isArray(list?.items) ? list.items : [];
  } catch (err) {
    if (err instanceof AksEmuError && err.code === 'AKS_EMU_NOT_FOUND') return [];
    throw err;
  }
}
