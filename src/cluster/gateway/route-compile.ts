/**
 * One route rule → match rules of the route table: backends resolved to upstreams (with
 * the ResolvedRefs reason a controller reports when they do not resolve), filters
 * translated, and Istio's precedence for sorting (conversion.go sortHTTPRoutes, which
 * follows the Gateway API's: Exact, then PathPrefix by length, then RegularExpression;
 * then a method match, more header matches, more query matches; ties keep route order).
 */
import type { BackendRef, HTTPRouteFilter, HTTPRouteMatch } from '../../model/gateway-types.js';
import { parseDurationMs } from '../../manifests/kinds/http-route.js';
import type { ReferenceGrant } from '../../model/gateway-types.js';
import type { RouteFilterConfig, RouteRuleConfig, WeightedBackendConfig } from '../ingress/route-rules.js';
import type { UpstreamTable } from '../ingress/upstream-table.js';
import type { ServiceInfo } from '../snapshot.js';
import { referencePermitted } from './attachment.js';

export type RefProblem = { readonly reason: 'BackendNotFound' | 'RefNotPermitted' | 'InvalidKind'; readonly message: string };

export interface RouteContext {
  readonly table: UpstreamTable;
  readonly grants: readonly ReferenceGrant[];
  readonly routeKind: 'HTTPRoute' | 'GRPCRoute' | 'TCPRoute' | 'TLSRoute';
  readonly namespace: string;
  /** By `namespace/name`. */
  readonly services: ReadonlyMap<string, ServiceInfo>;
}

/** A backendRef → an upstream name, or why it does not resolve. */
export function resolveBackend(ctx: RouteContext, ref: BackendRef): { upstream?: string; problem?: RefProblem } {
  const ns = ref.namespace ?? ctx.namespace;
  const label = `${ns}/${ref.name}`;
  if (ref.group !== '' || ref.kind !== 'Service') {
    return { problem: { reason: 'InvalidKind', message: `referencing unsupported backendRef: group "${ref.group}" kind "${ref.kind}"` } };
  }
  const from = { group: 'gateway.networking.k8s.io', kind: ctx.routeKind, namespace: ctx.namespace };
  if (!referencePermitted(ctx.grants, from, { group: '', kind: 'Service', namespace: ns, name: ref.name })) {
    return {
      problem: {
        reason: 'RefNotPermitted',
        message: `backendRef ${label} not accessible to a ${ctx.routeKind} in namespace "${ctx.namespace}" (missing a ReferenceGrant?)`,
      },
    };
  }
  if (ref.port === undefined) return { problem: { reason: 'BackendNotFound', message: `backendRef ${label}: port is required` } };
  const svc = ctx.services.get(label);
  if (!svc) return { problem: { reason: 'BackendNotFound', message: `backend(${label}) not found` } };
  if (!svc.ports.some((p) => p.port === ref.port)) {
    return { problem: { reason: 'BackendNotFound', message: `backend(${label}) has no port ${ref.port}` } };
  }
  return { upstream: ctx.table.ensure(ns, { name: ref.name, port: { number: ref.port } }).name };
}

function filters(ctx: RouteContext, list: readonly HTTPRouteFilter[], problems: RefProblem[]): RouteFilterConfig[] {
  const out: RouteFilterConfig[] = [];
  for (const f of list) {
    switch (f.type) {
      case 'RequestHeaderModifier':
      case 'ResponseHeaderModifier':
        out.push({ type: f.type, edits: { set: f.modifier.set, add: f.modifier.add, remove: f.modifier.remove } });
        break;
      case 'RequestRedirect': {
        const { type, statusCode, scheme, hostname, port, path } = f;
        out.push({ type, statusCode, ...(scheme ? { scheme } : {}), ...(hostname ? { hostname } : {}), ...(port ? { port } : {}), ...(path ? { path } : {}) });
        break;
      }
      case 'URLRewrite':
        out.push({ type: f.type, ...(f.hostname ? { hostname: f.hostname } : {}), ...(f.path ? { path: f.path } : {}) });
        break;
      case 'RequestMirror': {
        const r = resolveBackend(ctx, f.backendRef);
        if (r.problem) problems.push(r.problem);
        out.push({ type: 'RequestMirror', percent: f.percent ?? 100, ...(r.upstream ? { upstream: r.upstream } : {}) });
        break;
      }
      default:
        break;
    }
  }
  return out;
}

export interface RuleInput {
  readonly route: string;
  readonly rule: number;
  readonly matches: readonly HTTPRouteMatch[];
  readonly filters: readonly HTTPRouteFilter[];
  readonly backendRefs: readonly BackendRef[];
  readonly timeouts?: { readonly request?: string; readonly backendRequest?: string };
}

/** The rule's match rules (one per match) for a listener port, and its reference problems. */
export function compileRule(ctx: RouteContext, input: RuleInput, listenerPort: number): { rules: RouteRuleConfig[]; problems: RefProblem[] } {
  const problems: RefProblem[] = [];
  const backends: WeightedBackendConfig[] = input.backendRefs.map((ref) => {
    const r = resolveBackend(ctx, ref);
    if (r.problem) problems.push(r.problem);
    const refText = `${ref.namespace ?? ctx.namespace}/${ref.name}:${ref.port ?? ''}`;
    return { weight: ref.weight, ref: refText, ...(r.upstream ? { upstream: r.upstream } : {}), ...(r.problem ? { invalid: r.problem.message } : {}) };
  });
  const compiledFilters = filters(ctx, input.filters, problems);
  const requestTimeoutMs = input.timeouts?.request === undefined ? undefined : parseDurationMs(input.timeouts.request);
  const backendRequestTimeoutMs = input.timeouts?.backendRequest === undefined ? undefined : parseDurationMs(input.timeouts.backendRequest);
  const rules = input.matches.map((m, i) => ({
    route: input.route,
    rule: input.rule,
    match: i,
    matches: {
      path: m.path,
      headers: m.headers.map((h) => ({ ...h, name: h.name.toLowerCase() })),
      queryParams: m.queryParams,
      ...(m.method === undefined ? {} : { method: m.method }),
    },
    filters: compiledFilters,
    backends,
    ...(requestTimeoutMs ? { requestTimeoutMs } : {}),
    ...(backendRequestTimeoutMs ? { backendRequestTimeoutMs } : {}),
    listenerPort,
  }));
  return { rules, problems };
}

const PATH_RANK = { Exact: 3, PathPrefix: 2, RegularExpression: 1 } as const;

/** Istio's sortHTTPRoutes comparator; Array.prototype.sort is stable, so ties keep route order. */
export function comparePrecedence(a: RouteRuleConfig, b: RouteRuleConfig): number {
  const ma = a.matches;
  const mb = b.matches;
  return (
    PATH_RANK[mb.path.type] - PATH_RANK[ma.path.type] ||
    mb.path.value.length - ma.path.value.length ||
    Number(mb.method !== undefined) - Number(ma.method !== undefined) ||
    mb.headers.length - ma.headers.length ||
    mb.queryParams.length - ma.queryParams.length
  );
}
