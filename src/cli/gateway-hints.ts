/**
 * `up`'s "try:" lines for the Gateway API: one curl per accepted HTTPRoute, with its first
 * hostname and the literal start of its first path, through its Gateway's frontend. The
 * Gateways' own Services are left to these lines (their first port is Istio's status port).
 */
import type { ServiceInfo, Snapshot } from '../cluster/snapshot.js';
import type { Manifests } from '../model/types.js';

export function isGatewayService(s: ServiceInfo): boolean {
  return s.labels['gateway.istio.io/managed'] !== undefined;
}

export function gatewayHints(snapshot: Snapshot, manifests: Manifests): string[] {
  const lines: string[] = [];
  for (const route of manifests.gatewayApi?.httpRoutes ?? []) {
    const key = `${route.metadata.namespace}/${route.metadata.name}`;
    const parent = snapshot.gateway?.routeStatuses[`HTTPRoute/${key}`]?.parents.find((p) =>
      p.conditions.some((c) => c.type === 'Accepted' && c.status === 'True'),
    );
    if (!parent) continue;
    const gateway = snapshot.gateway?.gateways.find((g) => g.namespace === parent.parentRef.namespace && g.name === parent.parentRef.name);
    const table = gateway?.tables.find((t) => t.protocol === 'HTTP') ?? gateway?.tables[0];
    if (!gateway?.address || !table) continue;
    const host = route.hostnames.find((h) => !h.startsWith('*'));
    const match = route.rules[0]?.matches[0]?.path;
    const path = match?.type === 'RegularExpression' ? '/' : (match?.value ?? '/');
    const scheme = table.protocol === 'HTTPS' ? 'https' : 'http';
    const port = (scheme === 'http' && table.port === 80) || (scheme === 'https' && table.port === 443) ? '' : `:${table.port}`;
    const hostFlag = host ? (scheme === 'https' ? `--resolve ${host}:${table.port}:${gateway.address} -k ` : `-H 'Host: ${host}' `) : '';
    const target = scheme === 'https' && host ? `${host}${port}` : `${gateway.address}${port}`;
    lines.push(`try:       curl ${hostFlag}${scheme}://${target}${path}   (HTTPRoute ${key} via Gateway ${gateway.namespace}/${gateway.name})`);
  }
  return lines;
}
