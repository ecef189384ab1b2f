/**
 * The built-in Gateway API controller as part of the cluster: every snapshot carries the
 * route tables and status it computes from the Gateway API objects, against the
 * snapshot's Services (the Gateways' own LoadBalancer Services included) and endpoints.
 */
import { compileGateways, GATEWAY_POD_ANNOTATION, type GatewayCompileResult } from '../cluster/gateway/index.js';
import type { PodInfo, Snapshot } from '../cluster/snapshot.js';
import { buildRouter, type Router } from '../dataplane/ingress/index.js';
import { createGatewayPod } from '../pods/gateway.js';
import type { PodRuntime } from '../pods/pod-runtime.js';
import type { Manifests } from '../model/types.js';

export function withGatewayConfig(snapshot: Snapshot, manifests: Manifests): Snapshot {
  const objects = manifests.gatewayApi;
  if (!objects) return snapshot;
  const gateway = compileGateways({
    objects,
    namespaces: manifests.namespaces,
    services: snapshot.services,
    endpoints: snapshot.endpoints,
    secrets: manifests.secrets,
    now: snapshot.generatedAt,
  });
  return Object.freeze({ ...snapshot, gateway });
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

  /** A pod of the Gateway named in its annotation, routing with these routers. */
  createPod(pod: PodInfo): PodRuntime {
    const gateway = pod.annotations[GATEWAY_POD_ANNOTATION] ?? '';
    return createGatewayPod(pod, {
      routerFor: (port) => this.routerFor(gateway, port),
      protocolOf: (port) => this.#routers.get(gateway)?.get(port)?.protocol ?? 'HTTP',
    });
  }
}
