/**
 * The headers ingress-nginx's location sets towards the backend (nginx.tmpl, with the
 * default use-forwarded-headers: false) and the ones it drops or adds on the way back.
 *
 *   Host $best_http_host (unchanged)   X-Request-ID $req_id (kept or a new 32-hex id)
 *   X-Real-IP / X-Forwarded-For $remote_addr (an incoming X-Forwarded-For moves to
 *   X-Original-Forwarded-For)   X-Forwarded-Host   X-Forwarded-Port (443 on the HTTPS port)
 *   X-Forwarded-Proto / X-Forwarded-Scheme / X-Scheme $pass_access_scheme   Proxy "" (httpoxy)
 *
 * nginx hides the upstream's Server and Date and sends its own.
 */
import { randomFillSync } from 'node:crypto';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** Hop-by-hop (RFC 9110 §7.6.1) plus what nginx never forwards; undici also refuses `expect`. */
const REQUEST_DROP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'expect',
  'proxy',
  'host',
  'x-request-id',
  'x-real-ip',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-proto',
  'x-forwarded-scheme',
  'x-scheme',
  'x-original-forwarded-for',
]);

const RESPONSE_DROP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'server', 'date']);

/** ingress-nginx's default hsts, hsts-max-age and hsts-include-subdomains. */
export const HSTS_VALUE = 'max-age=31536000; includeSubDomains';

/** server-tokens is false by default: nginx answers `Server: nginx` without a version. */
export const SERVER_VALUE = 'nginx';

const ID_BATCH = 4096;
let idPool = Buffer.alloc(0);
let idOffset = ID_BATCH;

/** nginx's `$request_id`: 16 random bytes in hex; random bytes are drawn in batches. */
export function newRequestId(): string {
  if (idOffset + 16 > idPool.length) {
    idPool = randomFillSync(Buffer.allocUnsafe(ID_BATCH));
    idOffset = 0;
  }
  const id = idPool.toString('hex', idOffset, idOffset + 16);
  idOffset += 16;
  return id;
}

export interface ForwardedContext {
  readonly clientIp: string;
  /** $pass_access_scheme: the listener's, or a trusted X-Forwarded-Proto. */
  readonly scheme: string;
  /** X-Forwarded-Port: the listener's port, `443` for HTTPS. */
  readonly port: string;
  /** $best_http_host: the Host header, or the server name when the request had none. */
  readonly host: string;
  readonly requestId: string;
  /** X-Forwarded-For when it is not clientIp (compute-full-forwarded-for). */
  readonly forwardedFor?: string;
}

function connectionTokens(headers: IncomingHttpHeaders): string[] | undefined {
  const connection = headers.connection;
  if (connection === undefined) return undefined;
  return connection
    .toLowerCase()
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '' && t !== 'close' && t !== 'keep-alive' && t !== 'upgrade');
}

export function upstreamRequestHeaders(headers: IncomingHttpHeaders, ctx: ForwardedContext): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    if (REQUEST_DROP.has(name)) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  const listed = connectionTokens(headers);
  if (listed) for (const name of listed) delete out[name];
  out.host = ctx.host;
  out['x-request-id'] = ctx.requestId;
  out['x-real-ip'] = ctx.clientIp;
  out['x-forwarded-for'] = ctx.forwardedFor ?? ctx.clientIp;
  out['x-forwarded-host'] = ctx.host;
  out['x-forwarded-port'] = ctx.port;
  out['x-forwarded-proto'] = ctx.scheme;
  out['x-forwarded-scheme'] = ctx.scheme;
  out['x-scheme'] = ctx.scheme;
  const xff = headers['x-forwarded-for'];
  if (xff !== undefined && xff !== '') out['x-original-forwarded-for'] = xff;
  return out;
}

/** `hsts`: the Strict-Transport-Security value to send (HTTPS with hsts on), else undefined. */
export function downstreamResponseHeaders(headers: Record<string, string | string[] | undefined>, hsts: string | undefined): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    if (RESPONSE_DROP.has(name)) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  out.server = SERVER_VALUE;
  if (hsts !== undefined) out['strict-transport-security'] = hsts;
  return out;
}

/** Adds a Set-Cookie to the upstream's own (which may already hold several). */
export function appendSetCookie(headers: OutgoingHttpHeaders, cookie: string): void {
  const existing = headers['set-cookie'];
  if (existing === undefined) headers['set-cookie'] = cookie;
  else if (Array.isArray(existing)) headers['set-cookie'] = [...existing, cookie];
  else headers['set-cookie'] = [String(existing), cookie];
}

/** Raw header lines for a hand-written request (WebSocket upgrades go over a spliced socket). */
export function serializeHeaders(headers: Record<string, string | string[]>): string {
  let out = '';
  for (const name in headers) {
    const value = headers[name];
    if (Array.isArray(value)) for (const v of value) out += `${name}: ${v}\r\n`;
    else if (value !== undefined) out += `${name}: ${value}\r\n`;
  }
  return out;
}
