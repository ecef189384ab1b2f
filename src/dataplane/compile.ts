/**
 * Snapshot → frozen forwarding tables: one KubeProxy per node, one Frontend per LB rule,
 * and the listeners the snapshot calls for, each with the accept handler that reads
 * those tables. State that must outlive a swap (balancers, counters, idle timeouts,
 * probe results) comes from the retained registries, keyed by what still exists.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

import type { LoadBalancerInfo, LoadBalancingRule, NodeInfo, ServiceEndpoints, ServiceInfo, ServicePortEndpoints, Snapshot } from '../cluster/snapshot.js';
import { backendNode, createDistribution, type Distribution } from './balance/distribution.js';
import { EndpointBalancer } from './balance/endpoint-balancer.js';
import { RandomSelection } from './balance/random.js';
import { RoundRobin } from './balance/round-robin.js';
import type { Selector } from './balance/selector.js';
import type { Clock } from './clock.js';
import type { ForwardingContext } from './context.js';
import type { ConnectionTracker } from './l4/connection-tracker.js';
import type { LocalEndpoints } from './l4/local-endpoints.js';
import { listenerKey, type ListenerRole, type ListenerSpec } from './l4/listener.js';
import { resetSocket } from './l4/reset.js';
import { flowAtRule, flowVerdict } from './observe/flow.js';
import { Frontend } from './lb/frontend.js';
import { IdleTimeout } from './lb/idle-timeout.js';
import { EmbeddedNodeDelivery, NetworkNodeDelivery, type NodeDelivery } from './lb/node-delivery.js';
import { BackendSet, type Prober } from './lb/prober.js';
import type { ProbeSocketReason } from './lb/probe-answer.js';
import { SourceRanges } from './lb/source-ranges.js';
import type { HeldConnections } from './node/held-connections.js';
import { KUBE_PROXY_HEALTHZ_PORT, respondProxierHealth, respondServiceHealth, serviceHealthStatus } from './node/health-check.js';
import { KubeProxy } from './node/kube-proxy.js';
import {
  compileRoute,
  endpointsByKey,
  probeRoute,
  servicePortKey,
  upstreamEndpoints,
  type ServicePortRoute,
  type UpstreamEndpoint,
} from './node/service-port-route.js';
import type { Retained } from './retained.js';
import { netpolGate } from './netpol-gate.js';
import type { Counters, GlobalCounters } from './stats.js';
import type { FaultHolder } from '../faults/compile.js';
import { gatePort } from './faults/l4-faults.js';

/** Linux keeps retransmitting unanswered data for about 15 minutes (tcp_retries2 = 15). */
const DROPPED_FLOW_LIFETIME_MS = 15 * 60 * 1000;

export interface Tables {
  readonly version: number;
  readonly kubeProxies: ReadonlyMap<string, KubeProxy>;
  readonly listeners: ReadonlyMap<string, ListenerSpec>;
}

/**
 * Which parts of a snapshot one process serves. The embedded runtime serves all of
 * them; the container runtime splits them over an `lb` container and `node` containers.
 */
export interface DataPlaneRoles {
  /** LB frontends and their health probes. */
  readonly loadBalancer: boolean;
  /** Nodes whose NodePorts, healthCheckNodePorts and kube-proxy healthz listen here. */
  readonly nodes: readonly string[] | 'all';
  /** ClusterIP VIPs listen here. */
  readonly clusterIPs: boolean;
  /**
   * How a frontend reaches the node it picked: handed over in process ('embedded'), or
   * dialled at node.address:backendPort ('network'). With 'network' the nodes capture
   * their own in-cluster clients, so every client of a frontend counts as external.
   */
  readonly delivery: 'embedded' | 'network';
  /**
   * The node whose kube-proxy serves ClusterIP clients that are neither a pod nor a node
   * (the container runtime routes the service CIDR of other hosts through a node).
   * Undefined: such clients are outside the cluster and are refused.
   */
  readonly gatewayNode?: string;
  /** See ForwardingContext.canSendFrom. */
  readonly canSendFrom?: (address: string) => boolean;
}

export const ALL_ROLES: DataPlaneRoles = Object.freeze({ loadBalancer: true, nodes: 'all', clusterIPs: true, delivery: 'embedded' });

/** What lives across snapshots. */
export interface RetainedState {
  readonly clock: Clock;
  readonly random: () => number;
  readonly startedAt: number;
  readonly probeSource: string | undefined;
  readonly tracker: ConnectionTracker;
  readonly held: HeldConnections;
  readonly counters: Counters;
  readonly prober: Prober;
  /** Per Service port and selection mode, shared by every node (see compileKubeProxy). */
  readonly selectors: Retained<Selector<UpstreamEndpoint>>;
  /** Per node and Service port: kube-proxy's affinity state lives on each node. */
  readonly balancers: Retained<EndpointBalancer<UpstreamEndpoint>>;
  readonly distributions: Retained<Distribution>;
  readonly idleTimeouts: Retained<IdleTimeout>;
  readonly roles: DataPlaneRoles;
  /** Endpoints served in this process: flows to them are handed over, not dialled. */
  readonly localEndpoints: LocalEndpoints | undefined;
  readonly faults: FaultHolder;
}

/** A Service kube-proxy proxies: not ExternalName, not headless. */
function isProxied(service: ServiceInfo): boolean {
  return service.type !== 'ExternalName' && service.clusterIP !== 'None' && service.clusterIP !== '';
}

interface CompiledPort {
  readonly service: ServiceInfo;
  readonly serviceKey: string;
  readonly port: ServiceInfo['ports'][number];
  /** servicePortKey(serviceKey, port.name). */
  readonly key: string;
  readonly endpoints: ServicePortEndpoints;
  readonly all: readonly UpstreamEndpoint[];
  /** endpointsByKey(all): one map per Service port, shared by every node's route. */
  readonly allByKey: ReadonlyMap<string, UpstreamEndpoint>;
}

/**
 * What one compile keeps for the next, so that a change to one Service compiles that
 * Service's routes and not the other 999 (a snapshot built on the previous one shares its
 * unchanged Services and endpoints entries as the same frozen objects). Everything here
 * is keyed by those objects, and every retained value a kept item holds is asked for
 * again on each compile (which also keeps it from being pruned) and compared: when one
 * was pruned and made anew, the item is compiled again. So a kept item is always what a
 * compile from scratch with the same retained state would give
 * (test/dataplane/compile-incremental.test.ts).
 */
interface CompileCache {
  /** A Service's compiled ports, with the endpoints entry they were compiled from. */
  readonly ports: WeakMap<ServiceInfo, { readonly entry: ServiceEndpoints | undefined; readonly ports: readonly CompiledPort[] }>;
  /** Per node name: each port's route and probe route. */
  readonly routes: Map<string, WeakMap<CompiledPort, CachedRoute>>;
  /** The route each balancer was last configured for (compileRoute configures it): a kept route must be that one. */
  readonly configured: WeakMap<EndpointBalancer<UpstreamEndpoint>, ServicePortRoute>;
}

interface CachedRoute {
  readonly timeScale: number;
  readonly selection: Snapshot['settings']['endpointSelection'];
  readonly selectorKey: string;
  readonly balancerKey: string;
  readonly selector: Selector<UpstreamEndpoint>;
  readonly route: ServicePortRoute;
  /**
   * The route's twin for the LB's health probes, made on the first probe through it
   * (probeRoute): only LoadBalancer Services are probed, and a route compiled again
   * starts a new twin, as it did when the twin was made with the route.
   */
  probe: ServicePortRoute | undefined;
}

const caches = new WeakMap<RetainedState, CompileCache>();

function cacheOf(state: RetainedState): CompileCache {
  let cache = caches.get(state);
  if (cache === undefined) caches.set(state, (cache = { ports: new WeakMap(), routes: new Map(), configured: new WeakMap() }));
  return cache;
}

/** The ports of one Service as compilePorts() would make them now, or undefined when they must be made again. */
function keptPorts(cache: CompileCache, service: ServiceInfo, entry: ServiceEndpoints | undefined, counters: Counters): readonly CompiledPort[] | undefined {
  const kept = cache.ports.get(service);
  if (kept === undefined || kept.entry !== entry) return undefined;
  let same = true;
  for (const { serviceKey, port, all } of kept.ports) {
    // Every endpoint's counters are asked for (so they are kept), and must be the ones the port holds.
    for (const e of all) if (counters.endpoint(serviceKey, port.name, e.key, e.pod, e.nodeName) !== e.counters) same = false;
  }
  return same ? kept.ports : undefined;
}

function compilePorts(snapshot: Snapshot, counters: Counters, cache: CompileCache): CompiledPort[] {
  const endpointsByService = new Map(snapshot.endpoints.map((e) => [e.serviceKey, e]));
  const ports: CompiledPort[] = [];
  for (const service of snapshot.services) {
    if (!isProxied(service)) continue;
    const serviceKey = `${service.namespace}/${service.name}`;
    const entry = endpointsByService.get(serviceKey);
    const kept = keptPorts(cache, service, entry, counters);
    if (kept !== undefined) {
      ports.push(...kept);
      continue;
    }
    const published = entry?.ports ?? [];
    const own: CompiledPort[] = [];
    for (const port of service.ports) {
      // UDP and SCTP Services are kept in the snapshot but not forwarded.
      if (port.protocol !== 'TCP') continue;
      const endpoints = published.find((p) => p.name === port.name) ?? {
        name: port.name,
        protocol: port.protocol,
        endpoints: [],
        usable: [],
      };
      const countersOf = (key: string, pod: string | undefined, node: string | undefined) => counters.endpoint(serviceKey, port.name, key, pod, node);
      const all = upstreamEndpoints(endpoints.usable, countersOf);
      own.push({ service, serviceKey, port, key: servicePortKey(serviceKey, port.name), endpoints, all, allByKey: endpointsByKey(all) });
    }
    cache.ports.set(service, { entry, ports: own });
    ports.push(...own);
  }
  return ports;
}

/**
 * Distinct IPs of this node's ready endpoints per Service (kube-proxy's
 * LocalReadyEndpoints: terminating ones do not count, one pod with two ports counts once).
 */
function localReadyCounts(ports: readonly CompiledPort[], node: string): Map<string, number> {
  const ips = new Map<string, Set<string>>();
  for (const { service, serviceKey, endpoints } of ports) {
    for (const endpoint of endpoints.usable) {
      if (endpoint.nodeName !== node || !(endpoint.ready || service.publishNotReadyAddresses)) continue;
      let set = ips.get(serviceKey);
      if (set === undefined) ips.set(serviceKey, (set = new Set()));
      set.add(endpoint.ip);
    }
  }
  return new Map([...ips].map(([key, set]) => [key, set.size]));
}

function compileKubeProxy(
  node: NodeInfo,
  ports: readonly CompiledPort[],
  podNodes: ReadonlyMap<string, string>,
  state: RetainedState,
  snapshot: Snapshot,
  ctx: ForwardingContext,
  cache: CompileCache,
): KubeProxy {
  const routes = new Map<string, ServicePortRoute>();
  const probed = new Map<string, CachedRoute>();
  const selection = snapshot.settings.endpointSelection;
  const timeScale = snapshot.settings.timeScale;
  let kept = cache.routes.get(node.name);
  if (kept === undefined) cache.routes.set(node.name, (kept = new WeakMap()));
  for (const compiled of ports) {
    const { service, serviceKey, port, key, all, allByKey } = compiled;
    const cached = kept.get(compiled);
    const same = cached !== undefined && cached.timeScale === timeScale && cached.selection === selection;
    const selectorKey = same ? cached.selectorKey : `${key}|${selection}`;
    const balancerKey = same ? cached.balancerKey : `${node.name}|${key}`;
    // One round-robin position per Service port for all nodes: with one per node, the
    // LB's round robin over N nodes and each node's over N pods would move in lock step
    // and send N connections in a row to the same pod.
    const selector = state.selectors.get(selectorKey, () =>
      selection === 'random' ? new RandomSelection<UpstreamEndpoint>(state.random) : new RoundRobin<UpstreamEndpoint>(),
    );
    const balancer = state.balancers.get(balancerKey, () => new EndpointBalancer(state.clock, selector));
    const counters = state.counters.servicePort(node.name, serviceKey, port.name);
    if (
      same &&
      cached.selector === selector &&
      cached.route.balancer === balancer &&
      cached.route.counters === counters &&
      cache.configured.get(balancer) === cached.route
    ) {
      routes.set(key, cached.route);
      probed.set(key, cached);
      continue;
    }
    const route = compileRoute({ node: node.name, service, all, allByKey, timeScale, selector, balancer, counters });
    cache.configured.set(balancer, route);
    const entry: CachedRoute = { timeScale, selection, selectorKey, balancerKey, selector, route, probe: undefined };
    kept.set(compiled, entry);
    routes.set(key, route);
    probed.set(key, entry);
  }
  const clock = state.clock;
  const probeRouteOf = (servicePort: string): ServicePortRoute | undefined => {
    const entry = probed.get(servicePort);
    return entry === undefined ? undefined : (entry.probe ??= probeRoute(entry.route, clock));
  };
  return new KubeProxy(node, routes, probeRouteOf, podNodes, localReadyCounts(ports, node.name), ctx, state.localEndpoints);
}

class ListenerPlan {
  readonly specs = new Map<string, ListenerSpec>();

  constructor(private readonly counters: Counters) {}

  tcp(
    address: string,
    port: number,
    role: ListenerRole,
    description: string,
    accept: (socket: Socket) => void,
    probeHandOver?: () => ProbeSocketReason | undefined,
  ): void {
    const key = listenerKey(address, port, role);
    const counters = this.counters.listener(key, role, address, port);
    this.specs.set(key, { kind: 'tcp', key, address, port, role, description, accept, counters, ...(probeHandOver === undefined ? {} : { probeHandOver }) });
  }

  http(
    address: string,
    port: number,
    role: ListenerRole,
    description: string,
    respond: (request: IncomingMessage, response: ServerResponse) => void,
    statusOfAnyGet?: () => number,
  ): void {
    const key = listenerKey(address, port, role);
    this.specs.set(key, { kind: 'http', key, address, port, role, description, respond, ...(statusOfAnyGet === undefined ? {} : { statusOfAnyGet }) });
  }
}

function planNode(plan: ListenerPlan, proxy: KubeProxy, ports: readonly CompiledPort[], state: RetainedState): void {
  const node = proxy.node;
  if (!node.running) return;
  plan.http(node.address, KUBE_PROXY_HEALTHZ_PORT, 'healthz', `kube-proxy healthz of node ${node.name}`, (request, response) =>
    respondProxierHealth(request, response, state.clock, state.startedAt),
  );
  const checked = new Set<string>();
  for (const { service, serviceKey, port, all } of ports) {
    const hcPort = service.healthCheckNodePort;
    if (hcPort !== undefined && !checked.has(serviceKey)) {
      checked.add(serviceKey);
      plan.http(
        node.address,
        hcPort,
        'health-check',
        `healthCheckNodePort of Service ${serviceKey} on node ${node.name}`,
        (_, response) => respondServiceHealth(response, service.namespace, service.name, proxy.localReadyEndpoints(serviceKey)),
        () => serviceHealthStatus(proxy.localReadyEndpoints(serviceKey)),
      );
    }
    // kube-proxy REJECTs a port without usable endpoints: no listener, so a refusal.
    if (port.nodePort === undefined || all.length === 0) continue;
    const key = servicePortKey(serviceKey, port.name);
    plan.tcp(
      node.address,
      port.nodePort,
      'nodeport',
      `NodePort of Service ${key} on node ${node.name}`,
      (socket) => {
        const faults = state.faults.table;
        if (faults !== undefined && gatePort(socket, faults, 'nodeport', key, state)) return;
        proxy.acceptExternal(socket, key);
      },
      () => proxy.probeHandOver(key),
    );
  }
}

function planClusterIPs(
  plan: ListenerPlan,
  ports: readonly CompiledPort[],
  inCluster: ReadonlyMap<string, KubeProxy>,
  gateway: KubeProxy | undefined,
  counters: GlobalCounters,
): void {
  for (const { service, serviceKey, port, all } of ports) {
    if (all.length === 0) continue;
    const key = servicePortKey(serviceKey, port.name);
    plan.tcp(service.clusterIP, port.port, 'clusterip', `ClusterIP of Service ${key}`, (socket) => {
      const proxy = inCluster.get(socket.remoteAddress ?? '') ?? gateway;
      if (proxy === undefined) {
        // ClusterIPs are only routed inside the cluster; the host is outside.
        counters.rejectedOutsideCluster++;
        flowVerdict(socket, 'outside_cluster');
        resetSocket(socket);
      } else if (!proxy.running) {
        flowVerdict(socket, 'node_stopped');
        resetSocket(socket);
      } else {
        proxy.acceptClusterIP(socket, key);
      }
    });
  }
}

function planFrontend(
  plan: ListenerPlan,
  lb: LoadBalancerInfo,
  rule: LoadBalancingRule,
  snapshot: Snapshot,
  state: RetainedState,
  delivery: NodeDelivery,
  inCluster: ReadonlyMap<string, KubeProxy>,
): void {
  if (rule.protocol !== 'TCP') return;
  const counters = state.counters.rule(lb.name, rule.name, servicePortKey(rule.serviceKey, rule.servicePortName));
  const timeScale = snapshot.settings.timeScale;
  const idle = state.idleTimeouts.get(
    `${lb.name}/${rule.name}`,
    () => new IdleTimeout(state.clock, counters, { timeoutMs: 0, enableTcpReset: true, droppedLifetimeMs: 0 }),
  );
  idle.settings = {
    timeoutMs: rule.idleTimeoutMinutes * 60_000 * timeScale,
    enableTcpReset: rule.enableTcpReset,
    droppedLifetimeMs: DROPPED_FLOW_LIFETIME_MS * timeScale,
  };
  const addresses = new Map(snapshot.nodes.map((n) => [n.name, n.address]));
  const pool = lb.backendPool.flatMap((name) => {
    const address = addresses.get(name);
    return address === undefined ? [] : [backendNode(name, address)];
  });
  const probed = rule.probeName === undefined ? undefined : state.prober.backends(lb.name, rule.probeName);
  const frontend = new Frontend({
    rule,
    servicePort: servicePortKey(rule.serviceKey, rule.servicePortName),
    counters,
    // A rule without a probe (port_{port}_no_probe_rule) counts every pool node as up.
    backends: probed ?? new BackendSet(pool),
    distribution: state.distributions.get(`${lb.name}/${rule.name}/${rule.distribution}/${rule.frontendIP}:${rule.frontendPort}`, () =>
      createDistribution(rule.distribution, rule.frontendIP, rule.frontendPort),
    ),
    idle,
    sourceRanges: SourceRanges.compile(rule.sourceRanges),
    delivery,
    inCluster,
  });
  const servicePort = servicePortKey(rule.serviceKey, rule.servicePortName);
  plan.tcp(rule.frontendIP, rule.frontendPort, 'lb', `rule ${rule.name} of load balancer ${lb.name}`, (socket) => {
    flowAtRule(socket, counters);
    const faults = state.faults.table;
    // In-cluster clients never reach the Azure LB (kube-proxy captures the frontend IP), so its faults miss them.
    if (faults !== undefined && !inCluster.has(socket.remoteAddress ?? '') && gatePort(socket, faults, 'frontend', servicePort, state)) return;
    frontend.accept(socket);
  });
}

function nodePortsOf(ports: readonly CompiledPort[]): Map<string, number> {
  const nodePorts = new Map<string, number>();
  for (const { serviceKey, port } of ports) if (port.nodePort !== undefined) nodePorts.set(servicePortKey(serviceKey, port.name), port.nodePort);
  return nodePorts;
}

export function compile(snapshot: Snapshot, state: RetainedState): Tables {
  const netpol = netpolGate(snapshot);
  const ctx: ForwardingContext = {
    clock: state.clock,
    timeScale: snapshot.settings.timeScale,
    tracker: state.tracker,
    held: state.held,
    counters: state.counters.global,
    probeSource: state.probeSource,
    faults: state.faults,
    random: state.random,
    ...(state.roles.canSendFrom === undefined ? {} : { canSendFrom: state.roles.canSendFrom }),
    ...(netpol === undefined ? {} : { netpol }),
  };
  const podNodes = new Map<string, string>();
  for (const pod of snapshot.pods) if (pod.ip !== '' && pod.phase === 'Running') podNodes.set(pod.ip, pod.nodeName);
  const cache = cacheOf(state);
  const ports = compilePorts(snapshot, state.counters, cache);
  const kubeProxies = new Map(snapshot.nodes.map((node) => [node.name, compileKubeProxy(node, ports, podNodes, state, snapshot, ctx, cache)]));
  for (const name of cache.routes.keys()) if (!kubeProxies.has(name)) cache.routes.delete(name);
  const inCluster = new Map<string, KubeProxy>();
  for (const proxy of kubeProxies.values()) inCluster.set(proxy.node.address, proxy);
  for (const [ip, nodeName] of podNodes) {
    const proxy = kubeProxies.get(nodeName);
    if (proxy !== undefined) inCluster.set(ip, proxy);
  }

  const { roles } = state;
  const plan = new ListenerPlan(state.counters);
  for (const proxy of kubeProxies.values()) {
    if (roles.nodes === 'all' || roles.nodes.includes(proxy.node.name)) planNode(plan, proxy, ports, state);
  }
  if (roles.clusterIPs) {
    const gateway = roles.gatewayNode === undefined ? undefined : kubeProxies.get(roles.gatewayNode);
    planClusterIPs(plan, ports, inCluster, gateway, state.counters.global);
  }
  if (roles.loadBalancer) {
    const network = roles.delivery === 'network';
    const delivery = network
      ? new NetworkNodeDelivery(state.clock, state.tracker, state.counters.global, nodePortsOf(ports))
      : new EmbeddedNodeDelivery(kubeProxies, state.faults, state.held);
    const captured = network ? new Map<string, KubeProxy>() : inCluster;
    for (const lb of snapshot.loadBalancers) {
      for (const rule of lb.rules) planFrontend(plan, lb, rule, snapshot, state, delivery, captured);
    }
  }
  state.counters.prune();
  state.selectors.prune();
  state.balancers.prune();
  state.distributions.prune();
  state.idleTimeouts.prune();
  return Object.freeze({ version: snapshot.version, kubeProxies, listeners: plan.specs });
}
