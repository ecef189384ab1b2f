/**
 * The compiled ingress configuration: plain, JSON-serialisable data that says what the
 * built-in ingress-nginx controller serves. compileIngress() produces it from the
 * Ingresses, Services and endpoints; buildRouter() turns it into frozen matchers. The
 * shapes follow ingress-nginx's own model (internal/ingress/types.go): servers per host,
 * locations per path, upstreams per Service port, alternative (canary) upstreams.
 */
import type { PathType } from '../../model/types.js';
import type { RouteRuleConfig } from './route-rules.js';

export const ANNOTATION_PREFIX = 'nginx.ingress.kubernetes.io/';

/** IngressClass names served by the built-in controller: self-installed ingress-nginx and AKS app routing. */
export const CONTROLLER_CLASSES: readonly string[] = ['nginx', 'webapprouting.kubernetes.azure.com'];

/** spec.controller values of those IngressClasses. */
export const CONTROLLER_NAMES: readonly string[] = ['k8s.io/ingress-nginx', 'webapprouting.kubernetes.azure.com/nginx'];

/** ingress-nginx's catch-all server: host-less rules and every unmatched host land here. */
export const DEFAULT_SERVER_NAME = '_';

export type BackendProtocol = 'HTTP' | 'HTTPS';

/** Per-location proxy settings (ingress-nginx's proxy.Config), durations in milliseconds. */
export interface ProxySettings {
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
  readonly sendTimeoutMs: number;
  /** client_max_body_size in bytes; 0 disables the check. */
  readonly bodySizeLimit: number;
  /** proxy_next_upstream_tries: attempts in total, the first included. */
  readonly nextUpstreamTries: number;
}

export interface CookieAffinity {
  readonly cookieName: string;
  /** undefined: the path of the location that set the cookie. */
  readonly path?: string;
  readonly maxAgeSeconds?: number;
  readonly expiresSeconds?: number;
  readonly secure: boolean;
  readonly sameSite?: string;
}

/** ingress-nginx's TrafficShapingPolicy of a canary upstream. */
export interface CanaryPolicy {
  /** `namespace/name` of the canary Ingress. */
  readonly ingress: string;
  readonly header?: string;
  readonly headerValue?: string;
  readonly headerPattern?: string;
  readonly cookie?: string;
  readonly weight: number;
  readonly weightTotal: number;
}

export interface UpstreamEndpoint {
  readonly ip: string;
  readonly port: number;
  readonly podNamespace?: string;
  readonly podName?: string;
  readonly nodeName?: string;
}

export interface ServiceRef {
  readonly namespace: string;
  readonly name: string;
  /** The Ingress backend's port: a number or a ServicePort name. */
  readonly port: number | string;
}

/** One Service port as ingress-nginx proxies to it: the ready pod endpoints, never the ClusterIP. */
export interface UpstreamConfig {
  /** `namespace-service-port`, ingress-nginx's upstream name. */
  readonly name: string;
  readonly service: ServiceRef;
  /** Why there are no endpoints, when there are none (missing Service, no such port, none ready). */
  readonly problem?: string;
  readonly endpoints: readonly UpstreamEndpoint[];
  readonly affinity?: CookieAffinity;
  /** Name of the canary upstream merged into this one (ingress-nginx's alternativeBackends[0]). */
  readonly alternative?: string;
  /** Set on canary upstreams only. */
  readonly canary?: CanaryPolicy;
}

export interface LocationConfig {
  readonly path: string;
  readonly pathType: PathType;
  /** `namespace/name` of the Ingress that defined it; undefined for the built-in root location. */
  readonly ingress?: string;
  /** Where in that Ingress: spec.rules[rule].http.paths[path]; undefined for root/default locations. */
  readonly rule?: { readonly rule: number; readonly path: number };
  /** The host's fallback root location (the Ingress's spec.defaultBackend or the built-in 404). */
  readonly isDefaultBackend: boolean;
  /** undefined: the controller's built-in default backend (404). */
  readonly upstream?: string;
  readonly rewriteTarget?: string;
  readonly useRegex: boolean;
  readonly sslRedirect: boolean;
  readonly forceSslRedirect: boolean;
  /** whitelist-source-range: client CIDRs allowed; empty allows all. */
  readonly allowSourceRanges: readonly string[];
  /** Set when an annotation is invalid in a way that makes ingress-nginx deny the location (503). */
  readonly denied?: string;
  readonly proxy: ProxySettings;
  readonly backendProtocol: BackendProtocol;
  readonly customHttpErrors: readonly number[];
  /** Upstream of the `default-backend` annotation, used for custom errors and when the upstream has no endpoints. */
  readonly errorUpstream?: string;
}

export interface ServerTls {
  /** The Ingress whose spec.tls lists this host. */
  readonly ingress: string;
  /** Id in IngressConfig.certificates; undefined: the default (fake) certificate is served. */
  readonly certificate?: string;
  readonly secret?: string;
}

export interface ServerConfig {
  /** `_`, an exact host (lower case) or a wildcard `*.foo.com`. */
  readonly hostname: string;
  /** Every path of the host is a case-insensitive regex, because of these Ingresses (use-regex / rewrite-target). */
  readonly regexBy: readonly string[];
  readonly tls?: ServerTls;
  readonly appRoot?: { readonly path: string; readonly ingress: string };
  /** In ingress-nginx's order: longest path first. */
  readonly locations: readonly LocationConfig[];
  /**
   * Gateway API servers: match rules in the spec's precedence order, used instead of
   * locations (which are then empty).
   */
  readonly routes?: readonly RouteRuleConfig[];
}

export interface TlsCertificate {
  /** `namespace/secretName`. */
  readonly id: string;
  readonly certPem: string;
  readonly keyPem: string;
}

/** The controller ConfigMap's settings the data plane applies to every request (ingress-nginx's lua_ingress.lua). */
export interface ControllerTraffic {
  /** The Strict-Transport-Security value sent on HTTPS (hsts, hsts-max-age, hsts-include-subdomains, hsts-preload); undefined: none. */
  readonly hsts?: string;
  /** use-forwarded-headers: trust the client's X-Forwarded-For (real IP), -Proto, -Port and -Host. */
  readonly useForwardedHeaders: boolean;
  /** compute-full-forwarded-for: append the connection's address to the client's X-Forwarded-For. */
  readonly computeFullForwardedFor: boolean;
  /** disable-access-log: the controller writes no access log line (absent: false). */
  readonly disableAccessLog?: boolean;
}

export interface IngressConfig {
  /** The controller ConfigMap's per-request settings; absent: ingress-nginx's defaults. */
  readonly controller?: ControllerTraffic;
  readonly servers: readonly ServerConfig[];
  readonly upstreams: readonly UpstreamConfig[];
  readonly certificates: readonly TlsCertificate[];
  /**
   * Whose rules the table follows. `gateway-api`: wildcards cover one or more labels, the
   * most specific host wins with no fallback to `_`, and the proxy answers as Envoy does.
   * Absent: ingress-nginx.
   */
  readonly dialect?: 'ingress-nginx' | 'gateway-api';
  /** Gateway API listeners' certificates by SNI name (`_`: the listener without a hostname). */
  readonly sni?: readonly { readonly hostname: string; readonly certificate: string }[];
}

export interface IngressStatus {
  readonly admitted: boolean;
  readonly reason?: string;
}

export interface CompileResult {
  readonly config: IngressConfig;
  /** Keyed `namespace/name`. */
  readonly statuses: Readonly<Record<string, IngressStatus>>;
  /** One line per thing ingress-nginx would log and carry on with (unimplemented annotations, missing Secrets...). */
  readonly notices: readonly string[];
  /**
   * `namespace/name` of the Service whose address the Ingresses' status shows (the chart's
   * `--publish-service`: the controller Service, or the user's Service in its place).
   */
  readonly publishService?: string;
}

/** The address the controller publishes in its Ingresses' status (undefined while its frontend is pending). */
export function publishedAddress(snapshot: {
  readonly ingress?: CompileResult;
  readonly services: readonly { readonly namespace: string; readonly name: string; readonly loadBalancer?: { readonly ip?: string } }[];
}): string | undefined {
  const key = snapshot.ingress?.publishService;
  return key === undefined ? undefined : snapshot.services.find((s) => `${s.namespace}/${s.name}` === key)?.loadBalancer?.ip;
}
