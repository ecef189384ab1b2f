/**
 * `aks-emu explain`: what the controller does with one request and why, step by step in
 * nginx's order (see proxy.ts): which server (host rule) and location (path rule) match
 * and by which precedence, whether regex mode is on and which Ingress turned it on, the
 * rewrite, redirects, the Service and its endpoints, and the canary decision.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { hostFromHeader } from './host-match.js';
import { normalizePath } from '../../cluster/ingress/path-match.js';
import { appRootLocation, applyRewrite, sslRedirectLocation } from './rewrite.js';
import type { CompiledUpstream, Router } from './router.js';
import type { PathType } from '../../model/types.js';
import { DEFAULT_SERVER_NAME, type ServiceRef, type UpstreamEndpoint } from '../../cluster/ingress/types.js';
import { canaryDecision, routesToCanary, type CanaryDecision } from './upstream-pool.js';

export interface ExplainRequest {
  readonly host: string;
  /** Path with an optional query string. */
  readonly path: string;
  readonly scheme?: 'http' | 'https';
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly cookies?: Readonly<Record<string, string>>;
  readonly clientIp?: string;
  readonly contentLength?: number;
}

export interface ExplainedUpstream {
  readonly name: string;
  readonly service: ServiceRef;
  readonly endpoints: readonly UpstreamEndpoint[];
  readonly problem?: string;
}

export interface Explanation {
  readonly request: { readonly method: string; readonly url: string; readonly host: string; readonly scheme: 'http' | 'https' };
  readonly server: { readonly hostname: string; readonly match: 'exact' | 'wildcard' | 'default'; readonly tls: boolean };
  readonly regex: { readonly enabled: boolean; readonly by: readonly string[] };
  readonly location?: {
    readonly path: string;
    readonly pathType: PathType | 'built-in';
    readonly ingress?: string;
    readonly rule?: { readonly rule: number; readonly path: number };
    readonly isDefaultBackend: boolean;
    readonly how: string;
  };
  readonly rewrite?: { readonly target: string; readonly result: string };
  readonly upstream?: ExplainedUpstream;
  readonly canary?: { readonly upstream: ExplainedUpstream; readonly decision: CanaryDecision; readonly routed: boolean; readonly detail: string };
  readonly outcome: { readonly status: number | 'proxied'; readonly location?: string; readonly reason: string };
  readonly notes: readonly string[];
}

function explainUpstream(u: CompiledUpstream): ExplainedUpstream {
  return { name: u.name, service: u.config.service, endpoints: u.config.endpoints, problem: u.config.problem };
}

function canaryDetail(decision: CanaryDecision, u: CompiledUpstream): string {
  const p = u.canary?.policy;
  const total = p && p.weightTotal > 100 ? p.weightTotal : 100;
  switch (decision) {
    case 'canary-has-no-endpoints':
      return 'the canary has no ready endpoints, so every request stays on the main upstream';
    case 'affinity-main':
      return 'the affinity cookie pins the client to the main upstream';
    case 'affinity-canary':
      return 'the affinity cookie pins the client to the canary';
    case 'header-value':
    case 'header-pattern':
    case 'header-always':
      return `header ${p?.header} selects the canary`;
    case 'header-never':
      return `header ${p?.header}: never`;
    case 'cookie-always':
      return `cookie ${p?.cookie}=always selects the canary`;
    case 'cookie-never':
      return `cookie ${p?.cookie}=never keeps the main upstream`;
    case 'weight-in':
    case 'weight-out':
      return `no header or cookie decides; canary-weight ${p?.weight ?? 0} of ${total}: ${(((p?.weight ?? 0) / total) * 100).toFixed(1)}% of requests go to the canary`;
    case 'no-canary':
      return 'no canary';
  }
}

export function explainRequest(router: Router, req: ExplainRequest): Explanation {
  const scheme = req.scheme ?? 'http';
  const method = req.method ?? 'GET';
  const notes: string[] = [];
  const headers: IncomingHttpHeaders = { host: req.host };
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
  const cookieList = Object.entries(req.cookies ?? {}).map(([k, v]) => `${k}=${v}`);
  if (cookieList.length > 0) headers.cookie = cookieList.join('; ');

  const server = router.matchServer(req.host);
  const host = hostFromHeader(req.host);
  const match: 'exact' | 'wildcard' | 'default' = server === router.defaultServer ? 'default' : server.hostname === host ? 'exact' : 'wildcard';
  const base = {
    request: { method, url: req.path, host: req.host, scheme },
    server: { hostname: server.hostname, match, tls: server.hasTls },
    regex: { enabled: server.config.regexBy.length > 0, by: server.config.regexBy },
    notes,
  };
  if (match === 'default' && host !== DEFAULT_SERVER_NAME)
    notes.push(`no Ingress rule names host ${JSON.stringify(host)}: the "_" default server (host-less rules) answers`);

  const q = req.path.indexOf('?');
  const rawPath = q < 0 ? req.path : req.path.slice(0, q);
  const query = q < 0 ? '' : req.path.slice(q + 1);
  const path = normalizePath(rawPath);
  if (server.appRoot !== undefined && path === '/') {
    const location = appRootLocation(scheme, req.host, server.appRoot);
    return { ...base, outcome: { status: 302, location, reason: `app-root of Ingress ${server.config.appRoot?.ingress}` } };
  }
  const found = router.matchLocation(server, path);
  if (!found) return { ...base, outcome: { status: 404, reason: 'no location matches (a regex path failed to compile)' } };
  const loc = found.target;
  const cfg = loc.config;
  const how = server.matcher.regexMode
    ? `${found.how}; regex locations are tried in order, longest path first, and the first match wins`
    : found.how === 'exact'
      ? `exact match ${JSON.stringify(path)} (Exact, or the exact half of a Prefix rule; exact matches win)`
      : `${found.how}: the longest matching prefix wins`;
  const withLocation = {
    ...base,
    location: {
      path: cfg.path,
      pathType: loc.builtin ? ('built-in' as const) : cfg.pathType,
      ingress: cfg.ingress,
      rule: cfg.rule,
      isDefaultBackend: cfg.isDefaultBackend,
      how,
    },
  };
  if (loc.builtin === 'healthz')
    return { ...withLocation, outcome: { status: 200, reason: "the default server's /healthz (cloud load balancer health checks)" } };
  if (cfg.proxy.bodySizeLimit > 0 && (req.contentLength ?? 0) > cfg.proxy.bodySizeLimit) {
    return { ...withLocation, outcome: { status: 413, reason: `Content-Length above proxy-body-size (${cfg.proxy.bodySizeLimit} bytes)` } };
  }
  if (cfg.denied !== undefined) return { ...withLocation, outcome: { status: 503, reason: `location denied: ${cfg.denied}` } };
  if (scheme === 'http' && (cfg.forceSslRedirect || (cfg.sslRedirect && server.hasTls))) {
    const why = cfg.forceSslRedirect ? 'force-ssl-redirect' : 'the host has TLS and ssl-redirect is on (default)';
    return { ...withLocation, outcome: { status: 308, location: sslRedirectLocation(req.host, req.path), reason: why } };
  }
  const rewrite = loc.rewrite && found.captures ? { target: loc.rewrite.source, result: applyRewrite(loc.rewrite, found.captures, query, false) } : undefined;
  const withRewrite = { ...withLocation, rewrite };
  if (!loc.upstream) {
    const why = cfg.isDefaultBackend ? 'no path rule matches; the built-in default backend answers' : 'the location has no Service backend';
    return { ...withRewrite, outcome: { status: 404, reason: why } };
  }
  const upstream = explainUpstream(loc.upstream);
  if (loc.upstream.endpoints.length === 0) {
    if (loc.errorUpstream) notes.push(`default-backend ${loc.errorUpstream.name} answers instead, with X-Code: 503`);
    else return { ...withRewrite, upstream, outcome: { status: 503, reason: upstream.problem ?? 'no ready endpoints' } };
  }
  if (cfg.allowSourceRanges.length > 0) {
    const ip = req.clientIp ?? '127.0.0.1';
    if (loc.allow && !loc.allow.check(ip, ip.includes(':') ? 'ipv6' : 'ipv4')) {
      return {
        ...withRewrite,
        upstream,
        outcome: { status: 403, reason: `client ${ip} is outside whitelist-source-range ${cfg.allowSourceRanges.join(',')}` },
      };
    }
  }
  let canary: Explanation['canary'];
  if (loc.upstream.alternative) {
    const decision = canaryDecision(loc.upstream, headers, () => 0.999999);
    const alt = loc.upstream.alternative;
    canary = { upstream: explainUpstream(alt), decision, routed: routesToCanary(decision), detail: canaryDetail(decision, alt) };
  }
  if (loc.upstream.affinity) notes.push(`cookie affinity: cookie ${loc.upstream.affinity.cookieName} pins a client to one endpoint`);
  const target = canary?.routed ? canary.upstream : upstream;
  const pick = loc.upstream.affinity ? 'the pinned endpoint (or round robin, setting the cookie)' : 'round robin';
  return {
    ...withRewrite,
    upstream,
    canary,
    outcome: { status: 'proxied', reason: `proxied to ${target.name}: ${pick} over ${target.endpoints.length} ready endpoint(s), never the ClusterIP` },
  };
}

function describeUpstream(u: ExplainedUpstream): string[] {
  const s = u.service;
  const lines = [`${u.name}: Service ${s.namespace}/${s.name} port ${s.port}`];
  if (u.problem) lines.push(`  ${u.problem}`);
  for (const e of u.endpoints) lines.push(`  ${e.ip}:${e.port}${e.podName ? ` (pod ${e.podName}${e.nodeName ? ` on ${e.nodeName}` : ''})` : ''}`);
  return lines;
}

export function formatExplanation(e: Explanation): string {
  const lines: string[] = [];
  const add = (label: string, text: string): void => void lines.push(`${(label === '' ? '' : `${label}:`).padEnd(11)}${text}`);
  add('Request', `${e.request.method} ${e.request.scheme}://${e.request.host}${e.request.url}`);
  const serverHow = { exact: 'exact host match', wildcard: 'wildcard host match (one label)', default: 'default server' }[e.server.match];
  add('Server', `${e.server.hostname} (${serverHow}); TLS: ${e.server.tls ? 'yes' : 'no'}`);
  add(
    'Regex',
    e.regex.enabled
      ? `on: every path of this host is a case-insensitive regex anchored at the start, because of Ingress ${e.regex.by.join(', ')} (use-regex / rewrite-target); Exact paths act as prefixes`
      : 'off',
  );
  if (e.location) {
    const l = e.location;
    const from = l.ingress
      ? ` from Ingress ${l.ingress}${l.rule ? ` spec.rules[${l.rule.rule}].http.paths[${l.rule.path}]` : ' (default backend)'}`
      : ' (built-in)';
    add('Location', `${l.path} (${l.pathType})${from}`);
    add('Matched', l.how);
  }
  if (e.rewrite) add('Rewrite', `${e.request.url} -> ${e.rewrite.result} (rewrite-target ${e.rewrite.target})`);
  if (e.upstream) for (const [i, line] of describeUpstream(e.upstream).entries()) add(i === 0 ? 'Upstream' : '', line);
  if (e.canary) {
    const weighed = e.canary.decision === 'weight-in' || e.canary.decision === 'weight-out';
    add('Canary', `${weighed ? 'by weight' : e.canary.routed ? 'yes' : 'no'}: ${e.canary.detail}`);
    for (const line of describeUpstream(e.canary.upstream)) add('', line);
  }
  for (const note of e.notes) add('Note', note);
  const status = e.outcome.status === 'proxied' ? 'proxied' : String(e.outcome.status);
  add('Result', `${status}${e.outcome.location ? ` -> ${e.outcome.location}` : ''}: ${e.outcome.reason}`);
  return lines.join('\n');
}
