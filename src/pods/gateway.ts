/**
 * A Gateway's pod (Istio's gateway proxy, istio-proxy in the generated Deployment): one
 * HTTP or HTTPS listener per listener port of its Gateway, each routing with that port's
 * table, and Istio's status port 15021 answering `GET /healthz/ready`, which the pod's
 * readinessProbe targets. The L7 machinery is the ingress controller's (L7Pod).
 */
import type { NetpolGate } from '../dataplane/netpol-gate.js';
import type { PodInfo } from '../cluster/snapshot.js';
import { GATEWAY_STATUS_PORT, type GatewayCompileResult } from '../cluster/gateway/types.js';
import { buildRouter, type Router } from '../dataplane/ingress/router.js';
import type { FaultHolder } from '../faults/compile.js';
import { L7Pod, type Listener } from './ingress-controller.js';
import type { PodRuntime } from './pod-runtime.js';
import type { TcpListenerTable } from '../cluster/gateway/types.js';
import type { LocalEndpoint } from '../dataplane/l4/local-endpoints.js';
import { GatewayTcpListeners } from './gateway-tcp.js';
import type { L7Observe } from '../dataplane/observe/l7-observe.js';

export type GatewayPortProtocol = 'HTTP' | 'HTTPS' | 'TCP';

export interface GatewayPodOptions {
  /** The router of a listener port (an empty one when the port has no table yet). */
  routerFor(port: number): Router;
  /** HTTPS for ports whose listeners terminate TLS, TCP for TCP listeners; read when the pod starts. */
  protocolOf(port: number): GatewayPortProtocol;
  /** A TCP listener port's route, read per connection. */
  tcpTableFor?(port: number): TcpListenerTable | undefined;
  readonly random?: () => number;
  readonly now?: () => number;
  log?(line: string): void;
  readonly observe?: L7Observe;
  /** The current snapshot's NetworkPolicies, for the gateway's upstream connections. */
  readonly netpol?: () => NetpolGate | undefined;
  /** Active faults (HTTPRoute faults act in the proxy). */
  readonly faults?: FaultHolder | undefined;
}

/** The ports the Deployment declares, bar the status port, as HTTP or HTTPS listeners. */
export function gatewayListeners(pod: PodInfo, protocolOf: (port: number) => GatewayPortProtocol): Listener[] {
  const listeners: Listener[] = [];
  for (const container of pod.containers) {
    for (const p of container.ports) {
      if (p.protocol !== 'TCP' || p.containerPort === GATEWAY_STATUS_PORT || listeners.some((l) => l.port === p.containerPort)) continue;
      if (protocolOf(p.containerPort) === 'TCP') continue;
      listeners.push({ port: p.containerPort, kind: protocolOf(p.containerPort) === 'HTTPS' ? 'https' : 'http' });
    }
  }
  listeners.push({ port: GATEWAY_STATUS_PORT, kind: 'health' });
  return listeners;
}

/** The ports of TCP listeners, which get raw TCP servers rather than HTTP ones. */
export function gatewayTcpPorts(pod: PodInfo, protocolOf: (port: number) => GatewayPortProtocol): number[] {
  const ports = pod.containers.flatMap((c) => c.ports.filter((p) => p.protocol === 'TCP' && protocolOf(p.containerPort) === 'TCP').map((p) => p.containerPort));
  return [...new Set(ports)];
}

/** The L7 pod plus the TCP listeners, started and stopped together. */
class GatewayPod implements PodRuntime {
  readonly #l7: L7Pod;
  readonly #tcp: GatewayTcpListeners;

  constructor(l7: L7Pod, tcp: GatewayTcpListeners) {
    this.#l7 = l7;
    this.#tcp = tcp;
  }

  get pod(): PodInfo {
    return this.#l7.pod;
  }

  async start(): Promise<void> {
    await this.#l7.start();
    try {
      await this.#tcp.start();
    } catch (err) {
      await this.#l7.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    await Promise.all([this.#l7.stop(), this.#tcp.stop()]);
  }

  setHealthy(healthy: boolean): void {
    this.#l7.setHealthy(healthy);
  }

  update(pod: PodInfo): void {
    this.#l7.update(pod);
  }

  localEndpoint(port: number): LocalEndpoint | undefined {
    return this.#tcp.localEndpoint(port) ?? this.#l7.localEndpoint(port);
  }
}

export function createGatewayPod(pod: PodInfo, options: GatewayPodOptions): PodRuntime {
  const l7 = new L7Pod(pod, {
    listeners: gatewayListeners(pod, options.protocolOf),
    routerFor: options.routerFor,
    health: { port: GATEWAY_STATUS_PORT, path: '/healthz/ready' },
    sharedProxy: false,
    h2c: true,
    random: options.random,
    ...(options.observe === undefined ? {} : { observe: options.observe }),
    netpol: options.netpol,
    faults: options.faults,
  });
  const tcpPorts = gatewayTcpPorts(pod, options.protocolOf);
  if (tcpPorts.length === 0) return l7;
  const tcp = new GatewayTcpListeners(() => l7.pod, tcpPorts, {
    tableFor: (port) => options.tcpTableFor?.(port),
    random: options.random ?? Math.random,
    now: options.now ?? Date.now,
    ...(options.log ? { log: options.log } : {}),
    ...(options.netpol ? { netpol: options.netpol } : {}),
  });
  return new GatewayPod(l7, tcp);
}

/** Each Gateway's routers by listener port, rebuilt when the compiled tables change. */
export class GatewayRouters {
  #tables: GatewayCompileResult['gateways'] | undefined;
  #routers = new Map<string, ReadonlyMap<number, { router: Router; protocol: 'HTTP' | 'HTTPS' }>>();
  #tcp = new Map<string, ReadonlyMap<number, TcpListenerTable>>();
  readonly #empty = buildRouter({ servers: [], upstreams: [], certificates: [], dialect: 'gateway-api' });

  update(result: GatewayCompileResult | undefined): void {
    if (!result || result.gateways === this.#tables) return;
    this.#tables = result.gateways;
    this.#routers = new Map(
      result.gateways.map((g) => [`${g.namespace}/${g.name}`, new Map(g.tables.map((t) => [t.port, { router: buildRouter(t.config), protocol: t.protocol }]))]),
    );
    this.#tcp = new Map(result.gateways.map((g) => [`${g.namespace}/${g.name}`, new Map((g.tcpTables ?? []).map((t) => [t.port, t]))]));
  }

  tcpTableFor(gateway: string, port: number): TcpListenerTable | undefined {
    return this.#tcp.get(gateway)?.get(port);
  }

  /** An empty router (404 for everything) until the port has a table. */
  routerFor(gateway: string, port: number): Router {
    return this.#routers.get(gateway)?.get(port)?.router ?? this.#empty;
  }

  protocolOf(gateway: string, port: number): GatewayPortProtocol {
    if (this.#tcp.get(gateway)?.has(port)) return 'TCP';
    return this.#routers.get(gateway)?.get(port)?.protocol ?? 'HTTP';
  }
}
