/**
 * Gateway API match rules, compiled once per router: paths (Exact; PathPrefix on whole
 * segments, a trailing slash ignored; RegularExpression over the whole path), headers
 * (names case-insensitive, Exact values case-sensitive), query parameters (names
 * case-sensitive, the first value), method. Rules arrive in precedence order, so the
 * first match wins. Weighted backends are picked by cumulative weight. Regexes compile
 * with RE2 first, as Envoy's safe_regex does (the compiler has rejected the others).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { LocationConfig } from '../../cluster/ingress/types.js';
import type { RouteFilterConfig, RouteRuleConfig, ValueMatchConfig } from '../../cluster/ingress/route-rules.js';
import type { CompiledLocation, CompiledUpstream } from './router.js';
import { compileSafeRegex, type SafeRegex } from '../../cluster/ingress/safe-regex.js';

interface CompiledValueMatch {
  readonly name: string;
  readonly exact?: string;
  readonly re?: SafeRegex;
}

export interface CompiledBackend {
  /** Running total of weights up to and including this backend. */
  readonly upTo: number;
  readonly upstream?: CompiledUpstream;
  readonly ref: string;
  readonly invalid?: string;
}

export interface CompiledRouteRule {
  readonly config: RouteRuleConfig;
  /** Exact: the path; PathPrefix: the prefix without trailing slashes ('' for `/`). */
  readonly pathValue: string;
  readonly pathRegex?: SafeRegex;
  readonly headers: readonly CompiledValueMatch[];
  readonly queryParams: readonly CompiledValueMatch[];
  readonly backends: readonly CompiledBackend[];
  readonly totalWeight: number;
  /** What the proxy's location-based stages read (timeouts, retries, protocol). */
  readonly location: CompiledLocation;
  readonly redirect?: Extract<RouteFilterConfig, { type: 'RequestRedirect' }>;
  readonly rewrite?: Extract<RouteFilterConfig, { type: 'URLRewrite' }>;
  readonly requestEdits?: Extract<RouteFilterConfig, { type: 'RequestHeaderModifier' }>['edits'];
  readonly responseEdits?: Extract<RouteFilterConfig, { type: 'ResponseHeaderModifier' }>['edits'];
  readonly mirrors: readonly { readonly upstream: CompiledUpstream; readonly percent: number }[];
}

/** Istio's defaults: connect timeout 10 s, no route timeout, two retries on connect failure. */
function locationConfig(rule: RouteRuleConfig): LocationConfig {
  const timeouts = [rule.requestTimeoutMs, rule.backendRequestTimeoutMs].filter((t): t is number => t !== undefined && t > 0);
  const readTimeoutMs = timeouts.length > 0 ? Math.min(...timeouts) : 0;
  return {
    path: rule.matches.path.value,
    pathType: rule.matches.path.type === 'Exact' ? 'Exact' : 'Prefix',
    ingress: rule.route,
    isDefaultBackend: false,
    useRegex: false,
    sslRedirect: false,
    forceSslRedirect: false,
    allowSourceRanges: [],
    proxy: { connectTimeoutMs: 10_000, readTimeoutMs, sendTimeoutMs: readTimeoutMs, bodySizeLimit: 0, nextUpstreamTries: 3 },
    backendProtocol: 'HTTP',
    customHttpErrors: [],
  };
}

function valueMatch(m: ValueMatchConfig): CompiledValueMatch {
  return m.type === 'Exact' ? { name: m.name, exact: m.value } : { name: m.name, re: compileSafeRegex(m.value) };
}

function find<T extends RouteFilterConfig['type']>(filters: readonly RouteFilterConfig[], type: T): Extract<RouteFilterConfig, { type: T }> | undefined {
  return filters.find((f): f is Extract<RouteFilterConfig, { type: T }> => f.type === type);
}

export function compileRouteRule(rule: RouteRuleConfig, upstreams: ReadonlyMap<string, CompiledUpstream>): CompiledRouteRule {
  const { path } = rule.matches;
  let total = 0;
  const backends = rule.backends.map((b) => {
    total += b.weight;
    return {
      upTo: total,
      upstream: b.upstream === undefined ? undefined : upstreams.get(b.upstream),
      ref: b.ref,
      ...(b.invalid ? { invalid: b.invalid } : {}),
    };
  });
  const location: CompiledLocation = Object.freeze({ config: locationConfig(rule), cookiePath: '/' });
  const mirrors = rule.filters.flatMap((f) => {
    const upstream = f.type === 'RequestMirror' && f.upstream !== undefined ? upstreams.get(f.upstream) : undefined;
    return upstream && f.type === 'RequestMirror' ? [{ upstream, percent: f.percent }] : [];
  });
  return Object.freeze({
    config: rule,
    pathValue: path.type === 'PathPrefix' ? path.value.replace(/\/+$/, '') : path.value,
    ...(path.type === 'RegularExpression' ? { pathRegex: compileSafeRegex(`^(?:${path.value})$`) } : {}),
    headers: rule.matches.headers.map(valueMatch),
    queryParams: rule.matches.queryParams.map(valueMatch),
    backends,
    totalWeight: total,
    location,
    redirect: find(rule.filters, 'RequestRedirect'),
    rewrite: find(rule.filters, 'URLRewrite'),
    requestEdits: find(rule.filters, 'RequestHeaderModifier')?.edits,
    responseEdits: find(rule.filters, 'ResponseHeaderModifier')?.edits,
    mirrors,
  });
}

const SLASH = 0x2f;

function pathMatches(rule: CompiledRouteRule, path: string): boolean {
  switch (rule.config.matches.path.type) {
    case 'Exact':
      return path === rule.pathValue;
    case 'PathPrefix': {
      const p = rule.pathValue;
      return p === '' || path === p || (path.startsWith(p) && path.charCodeAt(p.length) === SLASH);
    }
    default:
      return rule.pathRegex?.test(path) === true;
  }
}

function valueOk(m: CompiledValueMatch, value: string | undefined): boolean {
  if (value === undefined) return false;
  return m.exact !== undefined ? value === m.exact : m.re?.test(value) === true;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export interface RouteRequest {
  readonly method: string;
  /** Normalised path, without the query. */
  readonly path: string;
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
}

/** Which condition of a rule failed: none, the path, the method, or header/query i. */
export type RuleCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly on: 'path' | 'method' }
  | { readonly ok: false; readonly on: 'header' | 'query'; readonly index: number };

const OK: RuleCheck = Object.freeze({ ok: true });
const FAILED_PATH: RuleCheck = Object.freeze({ ok: false, on: 'path' });
const FAILED_METHOD: RuleCheck = Object.freeze({ ok: false, on: 'method' });

/** The one place a rule is checked against a request; `params` is the parsed query, made on demand. */
export function checkRule(rule: CompiledRouteRule, req: RouteRequest, params: { value?: URLSearchParams }): RuleCheck {
  if (!pathMatches(rule, req.path)) return FAILED_PATH;
  const method = rule.config.matches.method;
  if (method !== undefined && method !== req.method) return FAILED_METHOD;
  for (let i = 0; i < rule.headers.length; i++) {
    const h = rule.headers[i]!;
    if (!valueOk(h, headerValue(req.headers, h.name))) return { ok: false, on: 'header', index: i };
  }
  if (rule.queryParams.length > 0) {
    params.value ??= new URLSearchParams(req.query);
    for (let i = 0; i < rule.queryParams.length; i++) {
      const q = rule.queryParams[i]!;
      if (!valueOk(q, params.value.get(q.name) ?? undefined)) return { ok: false, on: 'query', index: i };
    }
  }
  return OK;
}

/** The first rule (in precedence order) whose every condition holds. */
export function matchRouteRule(rules: readonly CompiledRouteRule[], req: RouteRequest): CompiledRouteRule | undefined {
  const params: { value?: URLSearchParams } = {};
  for (const rule of rules) if (checkRule(rule, req, params).ok) return rule;
  return undefined;
}

/** The backend for a draw in [0, 1), by weight; undefined when every weight is 0. */
export function pickBackend(rule: CompiledRouteRule, draw: number): CompiledBackend | undefined {
  if (rule.totalWeight === 0) return undefined;
  const point = draw * rule.totalWeight;
  for (const b of rule.backends) if (point < b.upTo) return b;
  return rule.backends[rule.backends.length - 1];
}
