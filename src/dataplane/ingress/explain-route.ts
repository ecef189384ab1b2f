/**
 * `explain route`: which Gateway API route, rule and backend a request would take on a
 * Gateway's listener, and why, using the same matcher the proxy uses: the host's server,
 * every rule in precedence order with the first condition that fails, the filters, and
 * the weighted backends with their endpoints.
 */
import { normalizePath } from '../../cluster/ingress/path-match.js';
import { hostFromHeader } from './host-match.js';
import { redirectLocation, rewrittenTarget } from './route-filters.js';
import { checkRule, matchRouteRule, type CompiledRouteRule, type RouteRequest } from './route-match.js';
import type { Router } from './router.js';

export interface RouteExplainRequest {
  readonly host: string;
  /** Path with an optional query string. */
  readonly path: string;
  readonly method: string;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface RuleVerdict {
  readonly route: string;
  readonly rule: number;
  readonly match: number;
  readonly conditions: string;
  /** undefined: it matched; else the first condition that failed. */
  readonly failed?: string;
}

export interface RouteExplanation {
  /** The route-table host that serves the request (`_`: the listener's catch-all). */
  readonly server: string;
  readonly rules: readonly RuleVerdict[];
  readonly outcome:
    | { readonly kind: 'no-match'; readonly status: 404 }
    | { readonly kind: 'redirect'; readonly status: number; readonly location: string; readonly route: string; readonly rule: number }
    | {
        readonly kind: 'backends';
        readonly route: string;
        readonly rule: number;
        readonly target: string;
        readonly filters: readonly string[];
        readonly backends: readonly { readonly ref: string; readonly weight: number; readonly endpoints: readonly string[]; readonly problem?: string }[];
      };
}

function conditionsOf(rule: CompiledRouteRule): string {
  const m = rule.config.matches;
  const parts = [`path ${m.path.type} ${m.path.value}`];
  if (m.method) parts.push(`method ${m.method}`);
  for (const h of m.headers) parts.push(`header ${h.name} ${h.type === 'Exact' ? '=' : '~'} ${h.value}`);
  for (const q of m.queryParams) parts.push(`query ${q.name} ${q.type === 'Exact' ? '=' : '~'} ${q.value}`);
  return parts.join(', ');
}

/** The first condition of one rule that fails for the request, in words; undefined when it matches. */
function firstFailure(rule: CompiledRouteRule, req: RouteRequest): string | undefined {
  const check = checkRule(rule, req, {});
  if (check.ok) return undefined;
  const m = rule.config.matches;
  if (check.on === 'path') return `path ${req.path} does not match ${m.path.type} ${m.path.value}`;
  if (check.on === 'method') return `method ${req.method} is not ${m.method ?? ''}`;
  if (!('index' in check)) return undefined;
  const wanted = check.on === 'header' ? m.headers[check.index] : m.queryParams[check.index];
  const got = check.on === 'header' ? req.headers[wanted?.name ?? ''] : new URLSearchParams(req.query).get(wanted?.name ?? '');
  const what = `${check.on} ${wanted?.name ?? ''}`;
  return got === undefined || got === null ? `${what} is absent` : `${what} "${String(got)}" does not match ${wanted?.value ?? ''}`;
}

export function explainRoute(router: Router, req: RouteExplainRequest): RouteExplanation {
  const server = router.matchServer(req.host);
  const q = req.path.indexOf('?');
  const rawPath = q < 0 ? req.path : req.path.slice(0, q);
  const query = q < 0 ? '' : req.path.slice(q + 1);
  const path = normalizePath(rawPath);
  const rules = server.rules ?? [];
  const input: RouteRequest = { method: req.method, path, query, headers: req.headers };
  const chosen = matchRouteRule(rules, input);
  const verdicts: RuleVerdict[] = [];
  for (const rule of rules) {
    const failed = rule === chosen ? undefined : (firstFailure(rule, input) ?? 'an earlier rule takes precedence');
    verdicts.push({
      route: rule.config.route,
      rule: rule.config.rule,
      match: rule.config.match,
      conditions: conditionsOf(rule),
      ...(failed ? { failed } : {}),
    });
    if (rule === chosen) break;
  }
  if (!chosen) return { server: server.hostname, rules: verdicts, outcome: { kind: 'no-match', status: 404 } };
  const where = { route: chosen.config.route, rule: chosen.config.rule };
  if (chosen.redirect) {
    const location = redirectLocation(chosen.redirect, chosen, { scheme: 'http', host: hostFromHeader(req.host), path, query });
    return { server: server.hostname, rules: verdicts, outcome: { kind: 'redirect', status: chosen.redirect.statusCode, location, ...where } };
  }
  const filters = chosen.config.filters.map((f) => f.type);
  const backends = chosen.config.backends.map((b, i) => {
    const compiled = chosen.backends[i];
    const endpoints = compiled?.upstream?.endpoints.map((e) => e.address) ?? [];
    const problem = b.invalid ?? (compiled?.upstream === undefined ? 'does not resolve: 500' : endpoints.length === 0 ? 'no ready endpoints: 503' : undefined);
    return { ref: b.ref, weight: b.weight, endpoints, ...(problem ? { problem } : {}) };
  });
  const target = rewrittenTarget(chosen, path, query) ?? req.path;
  return { server: server.hostname, rules: verdicts, outcome: { kind: 'backends', ...where, target, filters, backends } };
}

export function formatRouteExplanation(gateway: string, port: number, e: RouteExplanation): string {
  const lines = [`Gateway ${gateway} listener port ${port}: host served by ${e.server === '_' ? 'the catch-all (no hostname)' : e.server}`];
  for (const v of e.rules)
    lines.push(`  ${v.failed ? 'skip' : 'MATCH'} ${v.route} rules[${v.rule}].matches[${v.match}] (${v.conditions})${v.failed ? `: ${v.failed}` : ''}`);
  const o = e.outcome;
  if (o.kind === 'no-match') lines.push('→ 404: no rule matches');
  else if (o.kind === 'redirect') lines.push(`→ ${o.status} redirect to ${o.location}`);
  else {
    if (o.filters.length > 0) lines.push(`  filters: ${o.filters.join(', ')}`);
    lines.push(`→ upstream request target ${o.target}`);
    for (const b of o.backends) lines.push(`  backend ${b.ref} weight ${b.weight}: ${b.problem ?? b.endpoints.join(' ')}`);
  }
  return lines.join('\n');
}
