/**
 * Match rules of the compiled route table, for servers that follow the Gateway API: one
 * entry per HTTPRoute (or GRPCRoute) rule match, already in the spec's precedence order,
 * with the filters, weighted backends and timeouts of its rule. Plain data; the data
 * plane's router compiles the regexes once.
 */

import type { HeaderModifier, HTTPHeaderMatch, HTTPRouteMatch, PathModifier } from '../../model/gateway-types.js';

/** Header names lower case; query parameter names as written (they are case-sensitive). */
export type ValueMatchConfig = HTTPHeaderMatch;
/** An HTTPRoute match as written, header names lower-cased. */
export type RouteMatchConfig = HTTPRouteMatch;
export type HeaderEdits = HeaderModifier;
export type PathEdit = PathModifier;

export type RouteFilterConfig =
  | { readonly type: 'RequestHeaderModifier'; readonly edits: HeaderEdits }
  | { readonly type: 'ResponseHeaderModifier'; readonly edits: HeaderEdits }
  | {
      readonly type: 'RequestRedirect';
      readonly scheme?: string;
      readonly hostname?: string;
      readonly port?: number;
      readonly path?: PathEdit;
      readonly statusCode: number;
    }
  | { readonly type: 'URLRewrite'; readonly hostname?: string; readonly path?: PathEdit }
  /** upstream undefined: the mirror's backend does not resolve, so nothing is mirrored. */
  | { readonly type: 'RequestMirror'; readonly upstream?: string; readonly percent: number };

export interface WeightedBackendConfig {
  readonly weight: number;
  /** The upstream's name; undefined when the backendRef does not resolve (requests for it get 500). */
  readonly upstream?: string;
  /** `namespace/name:port` as written, for explain. */
  readonly ref: string;
  /** Why it does not resolve (BackendNotFound, RefNotPermitted, InvalidKind...). */
  readonly invalid?: string;
}

export interface RouteRuleConfig {
  /** `HTTPRoute namespace/name`. */
  readonly route: string;
  readonly rule: number;
  readonly match: number;
  readonly matches: RouteMatchConfig;
  readonly filters: readonly RouteFilterConfig[];
  /** Empty with no redirect filter: the rule answers 500 (no backendRefs). */
  readonly backends: readonly WeightedBackendConfig[];
  /** timeouts.request / timeouts.backendRequest in ms; 0 or absent: none. */
  readonly requestTimeoutMs?: number;
  readonly backendRequestTimeoutMs?: number;
  /** Listener port: a redirect without scheme and port keeps it. */
  readonly listenerPort: number;
}
