/**
 * The request-target and Host as nginx reads them (ngx_http_parse_request_line,
 * ngx_http_process_host, RFC 9112 §3.2):
 * - origin-form `/path?query`: the server is chosen by the Host header;
 * - absolute-form `http://host[:port]/path?query`: the server is chosen by the request
 *   line's host, whatever the Host header says, and the path is what is proxied (the
 *   upstream gets origin-form); the Host header still goes upstream as `$http_host`;
 * - anything else (`*`, `host:port`, a relative path, a bad authority): 400;
 * - more than one Host header field: 400 (nginx: "client sent duplicate host header").
 */
import type { IncomingMessage } from 'node:http';

export type RequestTarget =
  /** `authority`: the absolute-form host (lower case, with its port), else undefined. */
  { readonly kind: 'ok'; readonly authority: string | undefined; readonly url: string } | { readonly kind: 'bad'; readonly why: string };

const ABSOLUTE = /^https?:\/\/([^/?#]*)/i;
/** reg-name or IPv4 with an optional port, or an IP literal in brackets: what nginx's host parser accepts. */
const AUTHORITY = /^(?:[a-z0-9._~!$&'()*+,;=-]+|\[[0-9a-f:.]+\])(?::[0-9]*)?$/i;

function duplicateHost(raw: readonly string[]): boolean {
  let seen = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] ?? '';
    if (name.length !== 4 || name.toLowerCase() !== 'host') continue;
    if (seen) return true;
    seen = true;
  }
  return false;
}

export function parseRequestTarget(req: IncomingMessage): RequestTarget {
  if (duplicateHost(req.rawHeaders)) return { kind: 'bad', why: 'duplicate Host header' };
  const url = req.url ?? '/';
  if (url.startsWith('/')) return { kind: 'ok', authority: undefined, url };
  const m = ABSOLUTE.exec(url);
  if (!m) return { kind: 'bad', why: 'request-target is neither origin-form nor absolute-form' };
  const authority = m[1] ?? '';
  if (!AUTHORITY.test(authority)) return { kind: 'bad', why: 'invalid host in the request line' };
  const rest = url.slice(m[0].length);
  if (rest.startsWith('#')) return { kind: 'bad', why: 'fragment in the request-target' };
  return { kind: 'ok', authority: authority.toLowerCase(), url: rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest };
}
