/**
 * URI rewrites and redirects, with nginx's rules:
 * - rewrite-target: ingress-nginx emits `rewrite "(?i)<path>" <target> break;`. `$1`..`$9`
 *   (and named groups) come from the path's captures; the whole URI is replaced. The
 *   original query string is appended, after `&` when the target has its own, and not at
 *   all when the target ends with `?` (ngx_http_rewrite_module).
 * - ssl-redirect / force-ssl-redirect: lua_ingress.lua redirects to
 *   `https://<host without port><request_uri>`, dropping one trailing `/` (preserve-trailing-slash
 *   is off by default), with http-redirect-code 308.
 * - app-root: `return 302 $scheme://$http_host<app-root>` when `$uri` is `/`.
 */
import { escapePath } from '../../cluster/ingress/path-match.js';

type Part = string | { readonly group: number } | { readonly name: string };

export interface RewriteTemplate {
  readonly source: string;
  readonly parts: readonly Part[];
}

const VARIABLE = /\$(?:(\d)|\{(\w+)\}|([A-Za-z_]\w*))/g;

export function parseRewriteTarget(target: string): RewriteTemplate {
  const parts: Part[] = [];
  let last = 0;
  for (const m of target.matchAll(VARIABLE)) {
    if (m.index > last) parts.push(target.slice(last, m.index));
    if (m[1] !== undefined) parts.push({ group: Number(m[1]) });
    else parts.push({ name: m[2] ?? m[3] ?? '' });
    last = m.index + m[0].length;
  }
  if (last < target.length) parts.push(target.slice(last));
  return { source: target, parts };
}

function expand(template: RewriteTemplate, captures: RegExpExecArray): string {
  let out = '';
  for (const part of template.parts) {
    if (typeof part === 'string') out += part;
    else if ('group' in part) out += captures[part.group] ?? '';
    else out += captures.groups?.[part.name] ?? `$${part.name}`;
  }
  return out;
}

/**
 * The request-target sent upstream after a rewrite. `query` is the original query string
 * without `?` ('' when none); `escape` re-encodes a path that was percent-decoded for matching.
 */
export function applyRewrite(template: RewriteTemplate, captures: RegExpExecArray, query: string, escape: boolean): string {
  const expanded = expand(template, captures);
  const q = expanded.indexOf('?');
  let path = expanded;
  let args = query;
  if (q >= 0) {
    path = expanded.slice(0, q);
    if (expanded.endsWith('?')) {
      args = expanded.slice(q + 1, -1);
    } else {
      const own = expanded.slice(q + 1);
      args = query === '' ? own : `${own}&${query}`;
    }
  }
  if (path === '') path = '/';
  if (escape) path = escapePath(path);
  return args === '' ? path : `${path}?${args}`;
}

function hostWithoutPort(hostHeader: string): string {
  if (hostHeader.startsWith('[')) {
    const close = hostHeader.indexOf(']');
    return close < 0 ? hostHeader : hostHeader.slice(0, close + 1);
  }
  const colon = hostHeader.indexOf(':');
  return colon < 0 ? hostHeader : hostHeader.slice(0, colon);
}

export function sslRedirectLocation(hostHeader: string, requestUri: string): string {
  const uri = requestUri.endsWith('/') ? requestUri.slice(0, -1) : requestUri;
  return `https://${hostWithoutPort(hostHeader)}${uri}`;
}

export function appRootLocation(scheme: string, hostHeader: string, appRoot: string): string {
  return `${scheme}://${hostHeader}${appRoot}`;
}
