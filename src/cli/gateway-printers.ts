/**
 * Gateway API lists → the tables `kubectl get` prints from the CRDs' printer columns
 * (gatewayclass: NAME CONTROLLER ACCEPTED AGE; gateway: NAME CLASS ADDRESS PROGRAMMED AGE;
 * httproute/grpcroute: NAME HOSTNAMES AGE), with `-o wide` adding what the status says.
 */
import { age, formatTable } from './table.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- these read API JSON */
type Obj = any;

function condition(o: Obj, type: string): string {
  return o.status?.conditions?.find((c: Obj) => c.type === type)?.status ?? 'Unknown';
}

function table(all: boolean, headers: string[], rows: string[][], items: Obj[]): string {
  if (items.length === 0) return 'No resources found';
  if (!all) return formatTable(headers, rows);
  return formatTable(
    ['NAMESPACE', ...headers],
    rows.map((r, i) => [items[i].metadata.namespace ?? '', ...r]),
  );
}

export function printGatewayClasses(list: Obj): string {
  const items: Obj[] = list.items;
  const rows = items.map((c) => [c.metadata.name, c.spec.controllerName, condition(c, 'Accepted'), age(c.metadata.creationTimestamp)]);
  return table(false, ['NAME', 'CONTROLLER', 'ACCEPTED', 'AGE'], rows, items);
}

export function printGateways(list: Obj, all: boolean, wide: boolean): string {
  const items: Obj[] = list.items;
  const rows = items.map((g) => {
    const row = [
      g.metadata.name,
      g.spec.gatewayClassName,
      (g.status?.addresses ?? []).map((a: Obj) => a.value).join(','),
      condition(g, 'Programmed'),
      age(g.metadata.creationTimestamp),
    ];
    if (!wide) return row;
    const listeners = (g.status?.listeners ?? []).map((l: Obj) => `${l.name}(${l.attachedRoutes})`).join(',');
    return [...row, listeners || '<none>'];
  });
  return table(all, ['NAME', 'CLASS', 'ADDRESS', 'PROGRAMMED', 'AGE', ...(wide ? ['LISTENERS(ATTACHED)'] : [])], rows, items);
}

export function printRoutes(list: Obj, all: boolean, wide: boolean): string {
  const items: Obj[] = list.items;
  const rows = items.map((r) => {
    const hostnames: string[] = r.spec.hostnames ?? [];
    const row = [r.metadata.name, hostnames.length ? JSON.stringify(hostnames) : '', age(r.metadata.creationTimestamp)];
    if (!wide) return row;
    const parents = (r.status?.parents ?? []).map((p: Obj) => {
      const bad = (p.conditions ?? []).filter((c: Obj) => c.status !== 'True').map((c: Obj) => c.reason);
      return `${p.parentRef.namespace}/${p.parentRef.name}:${bad.length ? bad.join('+') : 'Accepted'}`;
    });
    return [...row, parents.join(',') || '<none>'];
  });
  return table(all, ['NAME', 'HOSTNAMES', 'AGE', ...(wide ? ['PARENTS'] : [])], rows, items);
}
