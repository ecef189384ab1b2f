/**
 * What the controller ConfigMap's use-forwarded-headers and compute-full-forwarded-for
 * change per request (the IngressConfig's `controller` settings, compiled from the
 * ConfigMap by the control plane), as ingress-nginx does it:
 *
 * - the realip module (nginx.tmpl: `real_ip_header X-Forwarded-For; real_ip_recursive on;
 *   set_real_ip_from 0.0.0.0/0`, proxy-real-ip-cidr's default) makes $remote_addr the
 *   left-most address of the client's X-Forwarded-For, every hop being trusted: X-Real-IP,
 *   X-Forwarded-For and whitelist-source-range use it;
 * - lua_ingress.lua's rewrite phase takes X-Forwarded-Proto, X-Forwarded-Port and the first
 *   X-Forwarded-Host as the scheme (so ssl-redirect does not redirect what a TLS proxy in
 *   front already terminated), port and host passed upstream;
 * - compute-full-forwarded-for sends `<client's X-Forwarded-For>, <connection's address>`;
 * - hsts, hsts-max-age, hsts-include-subdomains and hsts-preload make the header HTTPS
 *   responses carry.
 *
 * Without use-forwarded-headers (the default) all of these are the connection's own.
 */
import { isIP } from 'node:net';
import type { ControllerTraffic } from '../../cluster/ingress/types.js';
import { clientIp, type Exchange } from './exchange.js';
import type { ForwardedContext } from './proxy-headers.js';

/** ingress-nginx's default `hsts` settings, used when no ConfigMap says otherwise. */
const DEFAULT_HSTS = 'max-age=31536000; includeSubDomains';

function header(ex: Exchange, name: string): string | undefined {
  const v = ex.req.headers[name];
  const s = Array.isArray(v) ? v.join(', ') : v;
  return s === undefined || s === '' ? undefined : s;
}

function trusting(ex: Exchange): ControllerTraffic | undefined {
  return ex.traffic?.useForwardedHeaders ? ex.traffic : undefined;
}

/** $remote_addr after the realip module: with every proxy trusted, the left-most valid address. */
export function remoteAddr(ex: Exchange): string {
  const own = clientIp(ex.req);
  const xff = trusting(ex) && header(ex, 'x-forwarded-for');
  if (!xff) return own;
  let addr = own;
  const hops = xff.split(',').map((s) => s.trim());
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] ?? '';
    if (isIP(hop) === 0) break;
    addr = hop;
  }
  return addr;
}

/** $pass_access_scheme: what ssl-redirect and X-Forwarded-Proto go by. */
export function passScheme(ex: Exchange): string {
  return (trusting(ex) && header(ex, 'x-forwarded-proto')) || ex.scheme;
}

/** The headers' values towards the backend for this request. */
export function forwardedContext(ex: Exchange): ForwardedContext {
  const traffic = trusting(ex);
  const ctx = { clientIp: remoteAddr(ex), scheme: ex.scheme, port: ex.port, host: ex.host, requestId: ex.requestId };
  if (!traffic) return ctx;
  const forwardedHost = header(ex, 'x-forwarded-host');
  const xff = header(ex, 'x-forwarded-for');
  const own = clientIp(ex.req);
  return {
    ...ctx,
    scheme: passScheme(ex),
    port: header(ex, 'x-forwarded-port') ?? ex.port,
    host: forwardedHost === undefined ? ex.host : (forwardedHost.split(',')[0] ?? ex.host),
    ...(traffic.computeFullForwardedFor ? { forwardedFor: xff === undefined ? own : `${xff}, ${own}` } : {}),
  };
}

/**
 * The Strict-Transport-Security value for this response; undefined: none (plain HTTP,
 * Gateway API, hsts off, or a host without a certificate of its own: lua_ingress.lua sends
 * it only when certificate.configured_for_current_request(), never with the fake default one).
 */
export function hstsFor(ex: Exchange): string | undefined {
  if (ex.scheme !== 'https' || ex.gateway || ex.server?.config.tls?.certificate === undefined) return undefined;
  return ex.traffic ? ex.traffic.hsts : DEFAULT_HSTS;
}
