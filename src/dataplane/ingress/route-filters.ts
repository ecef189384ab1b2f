/**
 * HTTPRoute filters applied to one request, as the Gateway API specifies them:
 * header edits (set replaces, add appends with a comma, remove drops; names
 * case-insensitive), RequestRedirect's Location (scheme, hostname, port, path; the port
 * left out when it is the scheme's well-known one, and derived from the scheme or else
 * the listener), and path modifiers (ReplaceFullPath, ReplacePrefixMatch on the matched
 * prefix). The query string is kept by both.
 */
import type { HeaderEdits, PathEdit, RouteFilterConfig } from '../../cluster/ingress/route-rules.js';
import type { CompiledRouteRule } from './route-match.js';

type HeaderBag = Record<string, string | string[] | number | undefined>;

export function applyHeaderEdits(headers: HeaderBag, edits: HeaderEdits): void {
  for (const { name, value } of edits.set) headers[name.toLowerCase()] = value;
  for (const { name, value } of edits.add) {
    const key = name.toLowerCase();
    const existing = headers[key];
    headers[key] = existing === undefined ? value : `${Array.isArray(existing) ? existing.join(',') : String(existing)},${value}`;
  }
  for (const name of edits.remove) delete headers[name.toLowerCase()];
}

/** The path after a modifier; `matched` is the rule's PathPrefix (without trailing slash). */
export function modifyPath(path: string, edit: PathEdit, rule: CompiledRouteRule): string {
  if (edit.type === 'ReplaceFullPath') return edit.value;
  const prefix = rule.config.matches.path.type === 'PathPrefix' ? rule.pathValue : '';
  const rest = path.slice(prefix.length);
  const replacement = edit.value.replace(/\/+$/, '');
  const out = rest === '' ? edit.value : `${replacement}${rest.startsWith('/') ? rest : `/${rest}`}`;
  return out === '' ? '/' : out;
}

function withQuery(path: string, query: string): string {
  return query === '' ? path : `${path}?${query}`;
}

const WELL_KNOWN: Readonly<Record<string, number>> = { http: 80, https: 443 };

export interface RedirectInput {
  readonly scheme: 'http' | 'https';
  /** The Host header's name, without port. */
  readonly host: string;
  readonly path: string;
  readonly query: string;
}

export function redirectLocation(filter: Extract<RouteFilterConfig, { type: 'RequestRedirect' }>, rule: CompiledRouteRule, req: RedirectInput): string {
  const scheme = filter.scheme ?? req.scheme;
  const host = filter.hostname ?? req.host;
  const port = filter.port ?? (filter.scheme !== undefined ? WELL_KNOWN[scheme] : rule.config.listenerPort);
  const showPort = port !== undefined && port !== WELL_KNOWN[scheme];
  const path = filter.path ? modifyPath(req.path, filter.path, rule) : req.path;
  return `${scheme}://${host}${showPort ? `:${port}` : ''}${withQuery(path, req.query)}`;
}

/** The request target after URLRewrite's path modifier (undefined: unchanged). */
export function rewrittenTarget(rule: CompiledRouteRule, path: string, query: string): string | undefined {
  const edit = rule.rewrite?.path;
  return edit ? withQuery(modifyPath(path, edit, rule), query) : undefined;
}
