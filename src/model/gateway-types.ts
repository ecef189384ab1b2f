/**
 * Gateway API objects (gateway.networking.k8s.io: GatewayClass, Gateway, HTTPRoute and
 * GRPCRoute at v1, ReferenceGrant at v1beta1), normalised by the manifests layer: defaults
 * applied as the CRDs' OpenAPI defaults apply them, field names as in the API.
 */
import type { ObjectMeta, Source } from './types.js';

interface Located {
  readonly source: Source;
  readonly metadata: ObjectMeta;
}

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export interface GatewayClass extends Located {
  readonly kind: 'GatewayClass';
  readonly controllerName: string;
  readonly description?: string;
}

export type ListenerProtocol = 'HTTP' | 'HTTPS' | 'TLS' | 'TCP' | 'UDP';
export type FromNamespaces = 'Same' | 'All' | 'Selector';

export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly { readonly key: string; readonly operator: string; readonly values: readonly string[] }[];
}

/** A reference to another object: group '' is the core group. */
export interface ObjectReference {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

export interface Listener {
  readonly name: string;
  readonly hostname?: string;
  readonly port: number;
  readonly protocol: ListenerProtocol;
  readonly tls?: { readonly mode: 'Terminate' | 'Passthrough'; readonly certificateRefs: readonly ObjectReference[] };
  readonly allowedRoutes: {
    readonly from: FromNamespaces;
    readonly selector?: LabelSelector;
    /** undefined: the kinds the protocol allows (HTTPRoute and GRPCRoute for HTTP/HTTPS). */
    readonly kinds?: readonly { readonly group: string; readonly kind: string }[];
  };
}

export interface Gateway extends Located {
  readonly kind: 'Gateway';
  readonly gatewayClassName: string;
  readonly listeners: readonly Listener[];
  readonly infrastructure: {
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
  };
  readonly addresses: readonly { readonly type: string; readonly value: string }[];
}

export interface ParentReference {
  readonly group: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly sectionName?: string;
  readonly port?: number;
}

export type PathMatchType = 'Exact' | 'PathPrefix' | 'RegularExpression';
export type ValueMatchType = 'Exact' | 'RegularExpression';

export interface HTTPHeaderMatch {
  readonly type: ValueMatchType;
  readonly name: string;
  readonly value: string;
}

export interface HTTPRouteMatch {
  /** Always set: the CRD defaults a match to PathPrefix `/`. */
  readonly path: { readonly type: PathMatchType; readonly value: string };
  readonly headers: readonly HTTPHeaderMatch[];
  readonly queryParams: readonly HTTPHeaderMatch[];
  readonly method?: string;
}

export interface HeaderModifier {
  readonly set: readonly { readonly name: string; readonly value: string }[];
  readonly add: readonly { readonly name: string; readonly value: string }[];
  readonly remove: readonly string[];
}

export type PathModifier = { readonly type: 'ReplaceFullPath'; readonly value: string } | { readonly type: 'ReplacePrefixMatch'; readonly value: string };

export type HTTPRouteFilter =
  | { readonly type: 'RequestHeaderModifier'; readonly modifier: HeaderModifier }
  | { readonly type: 'ResponseHeaderModifier'; readonly modifier: HeaderModifier }
  | {
      readonly type: 'RequestRedirect';
      readonly scheme?: string;
      readonly hostname?: string;
      readonly port?: number;
      readonly path?: PathModifier;
      readonly statusCode: number;
    }
  | { readonly type: 'URLRewrite'; readonly hostname?: string; readonly path?: PathModifier }
  | { readonly type: 'RequestMirror'; readonly backendRef: BackendRef; readonly percent?: number }
  | { readonly type: 'ExtensionRef' | 'CORS' | 'ExternalAuth'; readonly name: string };

export interface BackendRef extends ObjectReference {
  readonly port?: number;
  /** Default 1. */
  readonly weight: number;
}

export interface HTTPBackendRef extends BackendRef {
  readonly filters: readonly HTTPRouteFilter[];
}

export interface HTTPRouteRule {
  readonly name?: string;
  readonly matches: readonly HTTPRouteMatch[];
  readonly filters: readonly HTTPRouteFilter[];
  readonly backendRefs: readonly HTTPBackendRef[];
  readonly timeouts?: { readonly request?: string; readonly backendRequest?: string };
}

export interface HTTPRoute extends Located {
  readonly kind: 'HTTPRoute';
  readonly parentRefs: readonly ParentReference[];
  readonly hostnames: readonly string[];
  readonly rules: readonly HTTPRouteRule[];
}

export interface GRPCMethodMatch {
  readonly type: ValueMatchType;
  readonly service?: string;
  readonly method?: string;
}

export interface GRPCRouteRule {
  readonly matches: readonly { readonly method?: GRPCMethodMatch; readonly headers: readonly HTTPHeaderMatch[] }[];
  readonly filters: readonly HTTPRouteFilter[];
  readonly backendRefs: readonly HTTPBackendRef[];
}

export interface GRPCRoute extends Located {
  readonly kind: 'GRPCRoute';
  readonly parentRefs: readonly ParentReference[];
  readonly hostnames: readonly string[];
  readonly rules: readonly GRPCRouteRule[];
}

/** TCPRoute (v1alpha2, experimental channel): every connection goes to one backend of its one rule. */
export interface TCPRoute extends Located {
  readonly kind: 'TCPRoute';
  readonly parentRefs: readonly ParentReference[];
  readonly rules: readonly { readonly backendRefs: readonly BackendRef[] }[];
}

/** TLSRoute (v1alpha2, experimental channel): connections to a TLS Passthrough listener by their SNI. */
export interface TLSRoute extends Located {
  readonly kind: 'TLSRoute';
  readonly parentRefs: readonly ParentReference[];
  readonly hostnames: readonly string[];
  readonly rules: readonly { readonly backendRefs: readonly BackendRef[] }[];
}

export interface ReferenceGrant extends Located {
  readonly kind: 'ReferenceGrant';
  readonly from: readonly { readonly group: string; readonly kind: string; readonly namespace: string }[];
  readonly to: readonly { readonly group: string; readonly kind: string; readonly name?: string }[];
}

export interface GatewayApiObjects {
  readonly gatewayClasses: readonly GatewayClass[];
  readonly gateways: readonly Gateway[];
  readonly httpRoutes: readonly HTTPRoute[];
  readonly grpcRoutes: readonly GRPCRoute[];
  /** Experimental channel; absent where none was given. */
  readonly tcpRoutes?: readonly TCPRoute[];
  readonly tlsRoutes?: readonly TLSRoute[];
  readonly referenceGrants: readonly ReferenceGrant[];
}

export const NO_GATEWAY_OBJECTS: GatewayApiObjects = Object.freeze({
  gatewayClasses: [],
  gateways: [],
  httpRoutes: [],
  grpcRoutes: [],
  referenceGrants: [],
});

/** Several manifest sets' Gateway API objects as one; undefined when none has any. */
export function mergeGatewayObjects(sets: readonly (GatewayApiObjects | undefined)[]): GatewayApiObjects | undefined {
  const present = sets.filter((s): s is GatewayApiObjects => s !== undefined);
  if (present.length === 0) return undefined;
  return {
    gatewayClasses: present.flatMap((s) => s.gatewayClasses),
    gateways: present.flatMap((s) => s.gateways),
    httpRoutes: present.flatMap((s) => s.httpRoutes),
    grpcRoutes: present.flatMap((s) => s.grpcRoutes),
    tcpRoutes: present.flatMap((s) => s.tcpRoutes ?? []),
    tlsRoutes: present.flatMap((s) => s.tlsRoutes ?? []),
    referenceGrants: present.flatMap((s) => s.referenceGrants),
  };
}
