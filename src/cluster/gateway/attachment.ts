/**
 * The rules that decide whether a route may attach to a listener and for which hosts:
 * hostname intersection (Gateway API: a wildcard covers one or more labels), allowedRoutes
 * (Same, All, Selector over namespace labels, which always include
 * kubernetes.io/metadata.name), and ReferenceGrants for references across namespaces.
 */
import type { LabelSelector, Listener, ReferenceGrant } from '../../model/gateway-types.js';
import type { Namespace } from '../../model/types.js';

/** `*.example.com` covers `a.example.com` and `a.b.example.com`, never `example.com`. */
function wildcardCovers(wildcard: string, host: string): boolean {
  return host.endsWith(wildcard.slice(1)) && host.length > wildcard.length - 1;
}

/**
 * The hostname a route serves under a listener: the more specific of the two when they
 * intersect; undefined when they do not. A listener without hostname takes any route host.
 */
export function intersectHostname(listener: string | undefined, route: string): string | undefined {
  if (listener === undefined || listener === route) return route;
  const lw = listener.startsWith('*.');
  const rw = route.startsWith('*.');
  if (lw && !rw) return wildcardCovers(listener, route) ? route : undefined;
  if (!lw && rw) return wildcardCovers(route, listener) ? listener : undefined;
  if (lw && rw) {
    if (wildcardCovers(listener, route.slice(2))) return route;
    if (wildcardCovers(route, listener.slice(2))) return listener;
  }
  return undefined;
}

/** Hostnames a route gets on a listener; `*` means every host. Empty: none intersect. */
export function routeHostnames(listener: Listener, hostnames: readonly string[]): string[] {
  if (hostnames.length === 0) return [listener.hostname ?? '*'];
  const out = new Set<string>();
  for (const h of hostnames) {
    const i = intersectHostname(listener.hostname, h.toLowerCase());
    if (i !== undefined) out.add(i);
  }
  return [...out];
}

export function namespaceLabels(namespaces: readonly Namespace[], name: string): Record<string, string> {
  const ns = namespaces.find((n) => n.metadata.name === name);
  return { ...(ns?.metadata.labels ?? {}), 'kubernetes.io/metadata.name': name };
}

export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels)) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    if (e.operator === 'In' && !(has && e.values.includes(value ?? ''))) return false;
    if (e.operator === 'NotIn' && has && e.values.includes(value ?? '')) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

export function namespaceAllowed(listener: Listener, gatewayNamespace: string, routeNamespace: string, namespaces: readonly Namespace[]): boolean {
  const { from, selector } = listener.allowedRoutes;
  if (from === 'All') return true;
  if (from === 'Same') return routeNamespace === gatewayNamespace;
  return selector !== undefined && selectorMatches(selector, namespaceLabels(namespaces, routeNamespace));
}

/** The route kinds a listener of this protocol takes (Istio: TCP → TCPRoute, TLS → TLSRoute). */
export function protocolRouteKinds(protocol: Listener['protocol']): string[] {
  if (protocol === 'TCP') return ['TCPRoute'];
  if (protocol === 'TLS') return ['TLSRoute'];
  return ['HTTPRoute', 'GRPCRoute'];
}

export function kindAllowed(listener: Listener, kind: string): boolean {
  const kinds = listener.allowedRoutes.kinds;
  if (kinds === undefined) return protocolRouteKinds(listener.protocol).includes(kind);
  return kinds.some((k) => k.kind === kind && k.group === 'gateway.networking.k8s.io');
}

export interface ReferenceFrom {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
}

export interface ReferenceTo {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/** A reference into another namespace needs a ReferenceGrant there that names both ends. */
export function referencePermitted(grants: readonly ReferenceGrant[], from: ReferenceFrom, to: ReferenceTo): boolean {
  if (from.namespace === to.namespace) return true;
  return grants.some(
    (g) =>
      g.metadata.namespace === to.namespace &&
      g.from.some((f) => f.group === from.group && f.kind === from.kind && f.namespace === from.namespace) &&
      g.to.some((t) => t.group === to.group && t.kind === to.kind && (t.name === undefined || t.name === '' || t.name === to.name)),
  );
}
