/**
 * The routing decision for a Gateway API server, as Envoy takes it for an Istio gateway:
 * the first match rule in precedence order; no match → 404; RequestRedirect answers
 * itself; a rule without backends, with all weights 0, or whose picked backend does not
 * resolve → 500 (the spec's words); a backend without endpoints → 503 (`no healthy
 * upstream`). URLRewrite changes the target and the Host.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { ReleasingHandler } from './upstream-connections.js';
import type { Exchange } from './exchange.js';
import { redirectLocation, rewrittenTarget } from './route-filters.js';
import { matchRouteRule, pickBackend, type CompiledRouteRule } from './route-match.js';
import { hostFromHeader } from './host-match.js';
import type { CompiledServer } from './router.js';

/** Envoy's own bodies for the errors it generates; 404 and 500 have none. */
const ENVOY_BODIES: Readonly<Record<number, string>> = {
  502: 'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
  503: 'no healthy upstream',
  504: 'upstream request timeout',
};

export const ENVOY_SERVER = 'istio-envoy';

/** true: proxy to ex.upstream; false: answer with ex.status (and ex.redirect). */
export function routeByRules(ex: Exchange, server: CompiledServer, rules: readonly CompiledRouteRule[], path: string, random: () => number): boolean {
  const req = ex.req;
  const rule = matchRouteRule(rules, { method: req.method ?? 'GET', path, query: ex.query, headers: req.headers });
  ex.server = server;
  if (!rule) {
    ex.status = 404;
    return false;
  }
  ex.rule = rule;
  ex.location = rule.location;
  if (rule.redirect) {
    ex.status = rule.redirect.statusCode;
    ex.redirect = redirectLocation(rule.redirect, rule, { scheme: ex.scheme, host: hostFromHeader(req.headers.host), path, query: ex.query });
    return false;
  }
  const backend = pickBackend(rule, random());
  if (!backend?.upstream) {
    ex.status = 500;
    return false;
  }
  if (backend.upstream.endpoints.length === 0) {
    ex.status = 503;
    return false;
  }
  ex.upstream = backend.upstream;
  ex.target = rewrittenTarget(rule, path, ex.query) ?? ex.url;
  if (rule.rewrite?.hostname !== undefined) ex.host = rule.rewrite.hostname;
  return true;
}

/** A response the gateway makes itself: an error or a redirect, as Envoy writes them. */
export function gatewayReply(status: number, redirect: string | undefined): { headers: OutgoingHttpHeaders; body: string } {
  const body = ENVOY_BODIES[status] ?? '';
  const headers: OutgoingHttpHeaders = { server: ENVOY_SERVER, 'content-length': Buffer.byteLength(body) };
  if (body !== '') headers['content-type'] = 'text/plain';
  if (redirect !== undefined) headers.location = redirect;
  return { headers, body };
}

/** Envoy's shadow requests carry the Host with `-shadow` appended to the name. */
export function shadowHost(host: string): string {
  const colon = host.lastIndexOf(':');
  return colon > 0 && !host.endsWith(']') ? `${host.slice(0, colon)}-shadow${host.slice(colon)}` : `${host}-shadow`;
}

/** Mirrored requests fail on their own: counted, never answered to the client. */
export class MirrorCall implements ReleasingHandler {
  release: (() => void) | undefined;
  constructor(readonly failures: { count: number }) {}
  onConnect(): void {}
  onHeaders(): boolean {
    return true;
  }
  onData(): boolean {
    return true;
  }
  onComplete(): void {
    this.#released();
  }
  onError(): void {
    this.failures.count++;
    this.#released();
  }
  #released(): void {
    const release = this.release;
    this.release = undefined;
    release?.();
  }
}
