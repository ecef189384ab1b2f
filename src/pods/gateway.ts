/**
 * A Gateway's pod (Istio's gateway proxy, istio-proxy in the generated Deployment): one
 * HTTP or HTTPS listener per listener port of its Gateway, each routing with that port's
 * table, and Istio's status port 15021 answering `GET /healthz/ready`, which the pod's
 * readinessProbe targets. The L7 machinery is the ingress controller's (L7Pod).
 */
import type { PodInfo } from '../cluster/snapshot.js';
import { GATEWAY_STATUS_PORT, type GatewayCompileResult } from '../cluster/gateway/types.js';
import { buildRouter, type Router } from '../dataplane/ingress/router.js';
import { L7Pod, type Listener } from './ingress-controller.js';
import type { PodRuntime } from './pod-runtime.js';

export interface GatewayPodOptions {
  /** The router of a listener port (an empty one when the port has no table yet). */
  routerFor(port: number): Router;
  /** HTTPS for ports whose listeners terminate TLS; read when the pod starts. */
  protocolOf(port: number): 'HTTP' | 'HTTPS';
  readonly random?: () => number;
}

/** The ports the Deployment declares, bar the status port, as HTTP or HTTPS listeners. */
export function gatewayListeners(pod: PodInfo, protocolOf: (port: number) => 'HTTP' | 'HTTPS'): Listener[] {
  const listeners: Listener[] = [];
  for (const container of pod.containers) {
    for (const p of container.ports) {
      if (p.protocol !== 'TCP' || p.containerPort === GATEWAY_STATUS_PORT || listeners.some((l) => l.port === p.containerPort)) continue;
      listeners.push({ port: p.containerPort, kind: protocolOf(p.containerPort) === 'HTTPS' ? 'https' : 'http' });
    }
  }
  listeners.push({ port: GATEWAY_STATUS_PORT, kind: 'health' });
  return listeners;
}

export function createGatewayPod(pod: PodInfo, options: GatewayPodOptions): PodRuntime {
  return new L7Pod(pod, {
    listeners: gatewayListeners(pod, options.protocolOf),
    routerFor: options.routerFor,
    health: { port: GATEWAY_STATUS_PORT, path: '/healthz/ready' },
    sharedProxy: false,
    h2c: true,
    random: options.random,
  });
}

/** Each Gateway's routers by listener port, rebuilt when the compiled tables change. */
export class GatewayRouters {
  #tables: GatewayCompileResult['gateways'] | undefined;
  #routers = new Map<string, ReadonlyMap<number, { router: Router; protocol: 'HTTP' | 'HTTPS' }>>();
  readonly #empty = buildRouter({ servers: [], upstreams: [], certificates: [], dialect: 'gateway-api' });

  update(result: GatewayCompileResult | undefined): void {
    if (!result || result.gateways === this.#tables) return;
    this.#tables = result.gateways;
    this.#routers = new Map(
      result.gateways.map((g) => [`${g.namespace}/${g.name}`, new Map(g.tables.map((t) => [t.port, { router: buildRouter(t.config), protocol: t.protocol }]))]),
    );
  }

  /** An empty router (404 for everything) until the port has a table. */
  routerFor(gateway: string, port: number): Router {
    return this.#routers.get(gateway)?.get(port)?.router ?? this.#empty;
  }

  protocolOf(gateway: string, port: number): 'HTTP' | 'HTTPS' {
    return this.#routers.get(gateway)?.get(port)?.protocol ?? 'HTTP';
  }
}
