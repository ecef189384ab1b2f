/**
 * GRPCRoute rules as path matches (gRPC calls are `POST /<service>/<method>` over HTTP/2),
 * the translation Istio makes: service and method exact → Exact path; service only →
 * PathPrefix `/<service>/`; method only or RegularExpression → a regex over the path.
 * And the order routes are considered in (creation time, then namespace/name).
 */
import type { GRPCRoute, HTTPRoute, HTTPRouteMatch } from '../../model/gateway-types.js';
import { objectKey } from '../../model/types.js';
import type { RuleInput } from './route-compile.js';

const ANY_SEGMENT = '[^/]+';

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function grpcPath(method: GRPCRoute['rules'][number]['matches'][number]['method']): HTTPRouteMatch['path'] {
  if (!method) return { type: 'PathPrefix', value: '/' };
  const { service, method: name, type } = method;
  if (type === 'Exact') {
    if (service !== undefined && name !== undefined) return { type: 'Exact', value: `/${service}/${name}` };
    if (service !== undefined) return { type: 'PathPrefix', value: `/${service}` };
    return { type: 'RegularExpression', value: `/${ANY_SEGMENT}/${escapeRegex(name ?? '')}` };
  }
  return { type: 'RegularExpression', value: `/${service ?? ANY_SEGMENT}/${name ?? ANY_SEGMENT}` };
}

export function grpcRuleInputs(route: GRPCRoute): RuleInput[] {
  const name = `GRPCRoute ${objectKey(route.metadata)}`;
  return route.rules.map((r, i) => ({
    route: name,
    rule: i,
    matches: (r.matches.length > 0 ? r.matches : [{ headers: [] }]).map((m) => ({ path: grpcPath(m.method), headers: m.headers, queryParams: [] })),
    filters: r.filters,
    backendRefs: r.backendRefs,
  }));
}

/**
 * The Gateway API breaks precedence ties by the oldest route, then namespace/name; the
 * manifests' order stands in for creation time (as for Ingresses), so only kinds are
 * ordered here: HTTPRoutes before GRPCRoutes keeps each kind in its given order.
 */
export function compareRouteOrder(a: HTTPRoute | GRPCRoute, b: HTTPRoute | GRPCRoute): number {
  return a.kind === b.kind ? 0 : a.kind === 'HTTPRoute' ? -1 : 1;
}
