/**
 * Upstreams as ingress-nginx builds them (controller.go createUpstreams/serviceEndpoints):
 * one per namespace + Service + backend port, holding the ready pod endpoints of that
 * Service port (EndpointSlices), never the ClusterIP. A numeric backend port matches the
 * ServicePort's port or its numeric targetPort; a name matches the port's name.
 */
import type { ServiceEndpoints, ServiceInfo, ServicePortInfo } from '../snapshot.js';
import type { IngressServiceBackend } from '../../model/types.js';
import type { CanaryPolicy, CookieAffinity, UpstreamConfig, UpstreamEndpoint } from './types.js';

export interface MutableUpstream {
  name: string;
  service: { namespace: string; name: string; port: number | string };
  problem?: string;
  endpoints: UpstreamEndpoint[];
  affinity?: CookieAffinity;
  alternative?: string;
  canary?: CanaryPolicy;
}

export function upstreamName(namespace: string, backend: IngressServiceBackend): string {
  return `${namespace}-${backend.name}-${backendPort(backend)}`;
}

export function backendPort(backend: IngressServiceBackend): number | string {
  return backend.port.number ?? backend.port.name ?? '';
}

function findServicePort(svc: ServiceInfo, port: number | string): ServicePortInfo | undefined {
  if (typeof port === 'number') {
    return svc.ports.find((p) => p.port === port) ?? svc.ports.find((p) => p.targetPort === port);
  }
  return svc.ports.find((p) => p.name === port) ?? svc.ports.find((p) => p.targetPort === port);
}

export class UpstreamTable {
  readonly #byName = new Map<string, MutableUpstream>();
  readonly #services: ReadonlyMap<string, ServiceInfo>;
  readonly #endpoints: ReadonlyMap<string, ServiceEndpoints>;

  constructor(services: readonly ServiceInfo[], endpoints: readonly ServiceEndpoints[]) {
    this.#services = new Map(services.map((s) => [`${s.namespace}/${s.name}`, s]));
    this.#endpoints = new Map(endpoints.map((e) => [e.serviceKey, e]));
  }

  get(name: string | undefined): MutableUpstream | undefined {
    return name === undefined ? undefined : this.#byName.get(name);
  }

  /** The upstream for a backend, created on first use (later Ingresses reuse it as ingress-nginx does). */
  ensure(namespace: string, backend: IngressServiceBackend): MutableUpstream {
    const name = upstreamName(namespace, backend);
    let ups = this.#byName.get(name);
    if (!ups) {
      ups = { name, service: { namespace, name: backend.name, port: backendPort(backend) }, endpoints: [] };
      this.#resolve(ups);
      this.#byName.set(name, ups);
    }
    return ups;
  }

  /** A `default-backend` annotation: ingress-nginx uses the Service's first port. */
  ensureFirstPort(namespace: string, serviceName: string): MutableUpstream | undefined {
    const svc = this.#services.get(`${namespace}/${serviceName}`);
    const first = svc?.ports[0];
    return first ? this.ensure(namespace, { name: serviceName, port: { number: first.port } }) : undefined;
  }

  all(): UpstreamConfig[] {
    return [...this.#byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  #resolve(ups: MutableUpstream): void {
    const key = `${ups.service.namespace}/${ups.service.name}`;
    const svc = this.#services.get(key);
    if (!svc) {
      ups.problem = `Service ${key} not found`;
      return;
    }
    if (svc.type === 'ExternalName') {
      ups.problem = `Service ${key} is of type ExternalName, which the built-in controller does not proxy to`;
      return;
    }
    const port = findServicePort(svc, ups.service.port);
    if (!port) {
      ups.problem = `Service ${key} has no port ${JSON.stringify(ups.service.port)}`;
      return;
    }
    const published = this.#endpoints.get(key)?.ports.find((p) => p.name === port.name)?.endpoints ?? [];
    ups.endpoints = published
      .filter((e) => e.ready || svc.publishNotReadyAddresses)
      .map((e) => ({ ip: e.ip, port: e.port, podNamespace: e.podNamespace, podName: e.podName, nodeName: e.nodeName }));
    if (ups.endpoints.length === 0) ups.problem = `Service ${key} port ${JSON.stringify(ups.service.port)} has no ready endpoints`;
  }
}
