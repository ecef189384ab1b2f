/**
 * What the built-in Gateway API controller computes: per Gateway, one route table per
 * listener port (the same IngressConfig shape the ingress controller compiles, in the
 * `gateway-api` dialect), and the status a real controller writes back.
 */
import type { IngressConfig, UpstreamEndpoint } from '../ingress/types.js';

/** Istio's controller name; both built-in classes use it, as istiod serves both on AKS. */
export const GATEWAY_CONTROLLER_NAME = 'istio.io/gateway-controller';
/** AKS app routing's class (az aks approuting gateway istio enable) and upstream Istio's. */
export const BUILT_IN_GATEWAY_CLASSES: readonly string[] = ['approuting-istio', 'istio'];
/** Istio's readiness port on gateway pods (`/healthz/ready`), also a port of the generated Service. */
export const GATEWAY_STATUS_PORT = 15021;
/** Marks the pods of a Gateway's Deployment with the Gateway they serve (`namespace/name`). */
export const GATEWAY_POD_ANNOTATION = 'aks-emu.io/gateway';

export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration: number;
  readonly lastTransitionTime: string;
}

export interface ListenerStatus {
  readonly name: string;
  readonly supportedKinds: readonly { readonly group: string; readonly kind: string }[];
  readonly attachedRoutes: number;
  readonly conditions: readonly Condition[];
}

export interface GatewayStatus {
  readonly addresses: readonly { readonly type: 'IPAddress'; readonly value: string }[];
  readonly conditions: readonly Condition[];
  readonly listeners: readonly ListenerStatus[];
}

export interface RouteParentStatus {
  readonly parentRef: {
    readonly group: string;
    readonly kind: string;
    readonly namespace: string;
    readonly name: string;
    readonly sectionName?: string;
    readonly port?: number;
  };
  readonly controllerName: string;
  readonly conditions: readonly Condition[];
}

export interface RouteStatus {
  readonly parents: readonly RouteParentStatus[];
}

export interface ListenerTable {
  readonly port: number;
  readonly protocol: 'HTTP' | 'HTTPS';
  readonly config: IngressConfig;
}

/** One backendRef of a TCPRoute rule: its ready endpoints (pod IP:targetPort), or why it has none. */
export interface TcpBackend {
  readonly weight: number;
  /** `namespace/name:port` as written. */
  readonly ref: string;
  readonly endpoints: readonly UpstreamEndpoint[];
  readonly invalid?: string;
}

/** A TLSRoute's backends for one server name (`*.example.com` wildcards; `*`: any name). */
export interface SniRoute {
  readonly hostname: string;
  /** `TLSRoute namespace/name`. */
  readonly route: string;
  readonly backends: readonly TcpBackend[];
}

/**
 * A `protocol: TCP` listener port: the backends of the first TCPRoute attached to it
 * (Istio's behaviour); or a `protocol: TLS` Passthrough port: backends by SNI (`sni`).
 */
export interface TcpListenerTable {
  readonly port: number;
  /** `TCPRoute namespace/name`; empty when no route is attached (every connection is reset). */
  readonly route: string;
  readonly backends: readonly TcpBackend[];
  /** Present on TLS Passthrough ports: the connection's ClientHello SNI picks the backends. */
  readonly sni?: readonly SniRoute[];
}

export interface CompiledGateway {
  readonly namespace: string;
  readonly name: string;
  readonly className: string;
  /** `<gateway>-<class>`, Istio's name for the generated Deployment and Service. */
  readonly serviceName: string;
  /** The LB frontend IP, once the Service has one. */
  readonly address?: string;
  readonly tables: readonly ListenerTable[];
  /** The usable TCP listener ports. */
  readonly tcpTables?: readonly TcpListenerTable[];
}

export interface GatewayCompileResult {
  readonly gateways: readonly CompiledGateway[];
  /** By class name; only the classes this controller serves. */
  readonly gatewayClasses: Readonly<Record<string, { readonly controllerName: string; readonly conditions: readonly Condition[] }>>;
  /** By `namespace/name`. */
  readonly gatewayStatuses: Readonly<Record<string, GatewayStatus>>;
  /** By `HTTPRoute/namespace/name`, `GRPCRoute/namespace/name` `TCPRoute/namespace/name` or `TLSRoute/namespace/name`. */
  readonly routeStatuses: Readonly<Record<string, RouteStatus>>;
  readonly notices: readonly string[];
}
