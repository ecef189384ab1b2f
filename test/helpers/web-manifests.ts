/**
 * The workload most integration tests start from, as YAML text: a Deployment `web` of echo
 * pods and a Service `web` in front of them, plus the Ingress and Gateway pieces several
 * files route to it. Each test names only what differs (replicas, ports, the probe).
 */

/** The echo pod's HTTP port, named. */
export const HTTP_PORT = '[{ name: http, containerPort: 8080 }]';
/** HTTP and the TCP echo port (a name the echo pod serves bytes back on). */
export const HTTP_AND_ECHO_PORTS = '[{ name: http, containerPort: 8080 }, { name: tcp-echo, containerPort: 9000 }]';
/** The Service ports in front of HTTP_AND_ECHO_PORTS. */
export const HTTP_AND_ECHO_SERVICE_PORTS = `
    - { name: http, port: 80, targetPort: http }
    - { name: tcp-echo, port: 9000, targetPort: 9000 }`;

export interface WebOptions {
  readonly replicas?: number;
  readonly image?: string;
  /** The container's ports, a YAML flow list. */
  readonly containerPorts?: string;
  /** kubelet's readinessProbe on GET /healthz:8080 every second. */
  readonly readiness?: boolean;
  /** No `type` line when undefined (ClusterIP). */
  readonly type?: 'LoadBalancer' | 'NodePort';
  /** The Service's ports: a YAML flow list, or block lines (starting with a newline). */
  readonly servicePorts?: string;
}

/** Deployment `web` and Service `web` (app=web). */
export function webApp(options: WebOptions = {}): string {
  const probe = options.readiness ? '\n          readinessProbe: { httpGet: { path: /healthz, port: 8080 }, periodSeconds: 1 }' : '';
  return `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: ${options.replicas ?? 2}
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: ${options.image ?? 'web'}
          ports: ${options.containerPorts ?? HTTP_PORT}${probe}
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:${options.type === undefined ? '' : `\n  type: ${options.type}`}
  selector: { app: web }
  ports: ${options.servicePorts ?? '[{ port: 80, targetPort: http }]'}
`;
}

/**
 * The smallest workload most hardening tests need: a Deployment of echo pods and one
 * Service in front of them (LoadBalancer by default).
 */
export function webManifests(options: { replicas?: number; type?: 'LoadBalancer' | 'NodePort'; ports?: string } = {}): string {
  return webApp({
    replicas: options.replicas ?? 2,
    containerPorts: '[{ containerPort: 8080 }, { name: tcp-echo, containerPort: 9000 }]',
    type: options.type ?? 'LoadBalancer',
    servicePorts: options.ports ?? '[{ name: http, port: 80, targetPort: 8080 }]',
  }).trimStart();
}

/** ingress-nginx's rewrite example: shop.example.com/store/x reaches `service` as /x. */
export function storeRewriteIngress(service: string): string {
  return `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  annotations:
    nginx.ingress.kubernetes.io/use-regex: "true"
    nginx.ingress.kubernetes.io/rewrite-target: /$2
spec:
  ingressClassName: nginx
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /store(/|$)(.*)
            pathType: ImplementationSpecific
            backend: { service: { name: ${service}, port: { number: 80 } } }
`;
}

/**
 * An app-routing Istio Gateway `gateway` with one HTTP listener on 80 and an HTTPRoute for
 * `host` to `service`:80, for paths under `prefix` (every path without one).
 */
export function gatewayRoute(o: { gateway: string; route: string; host: string; prefix?: string; service: string }): string {
  const rule =
    o.prefix === undefined
      ? `    - backendRefs: [{ name: ${o.service}, port: 80 }]`
      : `    - matches: [{ path: { type: PathPrefix, value: ${o.prefix} } }]
      backendRefs: [{ name: ${o.service}, port: 80 }]`;
  return `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: ${o.gateway} }
spec:
  gatewayClassName: approuting-istio
  listeners: [{ name: http, port: 80, protocol: HTTP }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${o.route} }
spec:
  parentRefs: [{ name: ${o.gateway} }]
  hostnames: ["${o.host}"]
  rules:
${rule}
`;
}
