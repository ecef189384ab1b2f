/**
 * The status the built-in Gateway controller writes back to the Gateway API objects users
 * wrote (GatewayClass, Gateway, the Routes), as src/cluster/gateway computed it, and the
 * GatewayClasses it serves that no user wrote. Objects it does not serve (a Gateway of
 * another class) keep the status the upstream CRDs default to: "Waiting for controller".
 */
import type { KubeObject, StoredEntry } from '../../cluster/store/index.js';
import type { GatewayCompileResult } from '../../cluster/gateway/types.js';

type Json = Record<string, unknown>;

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** The CRDs' default: a condition no controller has written yet. */
function pending(type: string) {
  return { type, status: 'Unknown', reason: 'Pending', message: 'Waiting for controller', lastTransitionTime: '1970-01-01T00:00:00Z' };
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCondition = (v: unknown): v is Json => isObj(v) && typeof v['type'] === 'string' && typeof v['lastTransitionTime'] === 'string';

/**
 * A condition's lastTransitionTime moves only when its status does (the compiler stamps every
 * condition with the compile time): an unchanged status stays the same object, so a new
 * snapshot writes nothing and watchers see no event.
 */
export function keepTransitionTimes(previous: unknown, next: unknown): unknown {
  if (Array.isArray(next)) {
    const before = Array.isArray(previous) ? previous : [];
    return next.map((n: unknown, i) => {
      if (!isCondition(n)) return keepTransitionTimes(before[i], n);
      const old = before.find((c): c is Json => isCondition(c) && c['type'] === n['type']);
      return old && old['status'] === n['status'] ? { ...n, lastTransitionTime: old['lastTransitionTime'] } : n;
    });
  }
  if (!isObj(next)) return next;
  const before = isObj(previous) ? previous : {};
  return Object.fromEntries(Object.entries(next).map(([k, v]) => [k, keepTransitionTimes(before[k], v)]));
}

/** The status the controller gives one user-written Gateway API object. */
function statusOf(entry: StoredEntry, compiled: GatewayCompileResult | undefined): unknown {
  const { kind, namespace, name } = entry.ref;
  switch (kind) {
    case 'GatewayClass': {
      const served = compiled?.gatewayClasses[name];
      return served ? { conditions: served.conditions } : { conditions: [pending('Accepted')] };
    }
    case 'Gateway':
      return compiled?.gatewayStatuses[`${namespace}/${name}`] ?? { conditions: [pending('Accepted'), pending('Programmed')] };
    case 'HTTPRoute':
    case 'GRPCRoute':
    case 'TCPRoute':
    case 'TLSRoute':
      return compiled?.routeStatuses[`${kind}/${namespace}/${name}`] ?? { parents: [] };
    default:
      return undefined; // ReferenceGrant has no status
  }
}

/** Each user-written Gateway API object with its status (unchanged objects included). */
export function gatewayStatusUpdates(user: Iterable<StoredEntry>, compiled: GatewayCompileResult | undefined): { entry: StoredEntry; object: KubeObject }[] {
  const out: { entry: StoredEntry; object: KubeObject }[] = [];
  for (const entry of user) {
    if (entry.ref.group !== GATEWAY_GROUP) continue;
    const status = statusOf(entry, compiled);
    if (status === undefined) continue;
    out.push({ entry, object: { ...entry.object, status: keepTransitionTimes(entry.object['status'], status) } });
  }
  return out;
}

/** The GatewayClasses the controller serves that no user wrote (AKS's istio add-on installs its own). */
export function builtInGatewayClasses(
  user: ReadonlySet<string>,
  compiled: GatewayCompileResult | undefined,
  previous: (name: string) => KubeObject | undefined,
): KubeObject[] {
  return Object.entries(compiled?.gatewayClasses ?? {})
    .filter(([name]) => !user.has(name))
    .map(([name, c]) => ({
      apiVersion: `${GATEWAY_GROUP}/v1`,
      kind: 'GatewayClass',
      metadata: { name },
      spec: { controllerName: c.controllerName },
      status: keepTransitionTimes(previous(name)?.['status'], { conditions: c.conditions }),
    }));
}
