/**
 * Per controller pod: the balancer state (connections: upstream-connections.ts). The
 * choices follow rootfs/etc/nginx/lua/balancer.lua: round robin by default, the sticky
 * balancer with `affinity: cookie`, and route_to_alternative_balancer for canaries
 * (affinity first, then header, then cookie, then weight).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { CompiledUpstream, Router } from './router.js';
import type { CookieAffinity } from '../../cluster/ingress/types.js';

/** The value of one cookie in a Cookie header, without allocating a parsed map. */
export function getCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end < 0) end = header.length;
    while (header.charCodeAt(start) === 32) start++;
    const eq = header.indexOf('=', start);
    if (eq > start && eq < end && header.slice(start, eq).trimEnd() === name) return header.slice(eq + 1, end).trim();
    start = end + 1;
  }
  return undefined;
}

/** Why a request went (or not) to the canary: balancer.lua's checks, in order. */
export type CanaryDecision =
  | 'no-canary'
  | 'canary-has-no-endpoints'
  | 'affinity-main'
  | 'affinity-canary'
  | 'header-value'
  | 'header-pattern'
  | 'header-always'
  | 'header-never'
  | 'cookie-always'
  | 'cookie-never'
  | 'weight-in'
  | 'weight-out';

export function routesToCanary(decision: CanaryDecision): boolean {
  return (
    decision === 'affinity-canary' ||
    decision === 'header-value' ||
    decision === 'header-pattern' ||
    decision === 'header-always' ||
    decision === 'cookie-always' ||
    decision === 'weight-in'
  );
}

function pinned(upstream: CompiledUpstream, cookies: string | undefined): boolean {
  const affinity = upstream.affinity;
  if (!affinity || cookies === undefined) return false;
  const value = getCookie(cookies, affinity.cookieName);
  return value !== undefined && upstream.byCookie.has(value);
}

function firstHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** route_to_alternative_balancer. `random` returns [0, 1). */
export function canaryDecision(primary: CompiledUpstream, headers: IncomingHttpHeaders, random: () => number): CanaryDecision {
  const canary = primary.alternative;
  if (!canary?.canary) return 'no-canary';
  // balancer.lua finds no balancer for an upstream without endpoints and stays on the main one.
  if (canary.endpoints.length === 0) return 'canary-has-no-endpoints';
  const cookies = headers.cookie;
  if (pinned(primary, cookies)) return 'affinity-main';
  if (pinned(canary, cookies)) return 'affinity-canary';
  const policy = canary.canary;
  if (policy.header !== undefined) {
    const value = firstHeader(headers, policy.header);
    if (value !== undefined) {
      if (policy.policy.headerValue !== undefined) {
        if (value === policy.policy.headerValue) return 'header-value';
      } else if (policy.headerPattern !== undefined) {
        if (policy.headerPattern.test(value)) return 'header-pattern';
      } else if (value === 'always') {
        return 'header-always';
      } else if (value === 'never') {
        return 'header-never';
      }
    }
  }
  if (policy.policy.cookie !== undefined) {
    const value = getCookie(cookies, policy.policy.cookie);
    if (value === 'always') return 'cookie-always';
    if (value === 'never') return 'cookie-never';
  }
  const total = policy.policy.weightTotal > 100 ? policy.policy.weightTotal : 100;
  // math.random(total) <= weight
  return Math.floor(random() * total) + 1 <= policy.policy.weight ? 'weight-in' : 'weight-out';
}

/** Per-pod balancer state: round-robin positions indexed by CompiledUpstream.index. */
export class Balancer {
  #router: Router | undefined;
  #next = new Uint32Array(0);

  /** Resets the positions when the router changes, as ingress-nginx resets a balancer on new endpoints. */
  sync(router: Router): boolean {
    if (router === this.#router) return false;
    this.#router = router;
    this.#next = new Uint32Array(router.upstreams.length);
    return true;
  }

  /** The next endpoint index in round robin; the upstream must have endpoints. */
  roundRobin(upstream: CompiledUpstream): number {
    const i = (this.#next[upstream.index] ?? 0) % upstream.endpoints.length;
    this.#next[upstream.index] = i + 1;
    return i;
  }

  /** With cookie affinity: the pinned endpoint, or -1 when the client has none (a new cookie is due). */
  pinnedEndpoint(upstream: CompiledUpstream, cookies: string | undefined): number {
    const affinity = upstream.affinity;
    if (!affinity) return -1;
    const value = getCookie(cookies, affinity.cookieName);
    return value === undefined ? -1 : (upstream.byCookie.get(value) ?? -1);
  }
}

/** The Set-Cookie that pins a client, shaped like lua-resty-cookie's as sticky.lua sets it. */
export function affinityCookie(affinity: CookieAffinity, value: string, defaultPath: string, https: boolean, now: number): string {
  let cookie = `${affinity.cookieName}=${value}`;
  if (affinity.expiresSeconds !== undefined) cookie += `; Expires=${new Date(now + affinity.expiresSeconds * 1000).toUTCString()}`;
  if (affinity.maxAgeSeconds !== undefined) cookie += `; Max-Age=${affinity.maxAgeSeconds}`;
  cookie += `; Path=${affinity.path ?? defaultPath}`;
  if (affinity.secure || https) cookie += '; Secure';
  cookie += '; HttpOnly';
  if (affinity.sameSite !== undefined) cookie += `; SameSite=${affinity.sameSite}`;
  return cookie;
}
