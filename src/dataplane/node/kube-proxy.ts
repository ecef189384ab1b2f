/**
 * The routing of one node, as kube-proxy programs it (iptables proxier): external
 * traffic (a NodePort, or a flow the LB delivered to this node) and ClusterIP traffic
 * from clients on this node. Compiled per snapshot; holds no policy of its own.
 */
import type { Socket } from 'node:net';

import type { NodeInfo } from '../../cluster/snapshot.js';
import type { ForwardingContext } from '../context.js';
import type { LocalEndpoints } from '../l4/local-endpoints.js';
import { resetSocket } from '../l4/reset.js';
import { flowAtRoute, flowVerdict } from '../observe/flow.js';
import type { IdleTimeout } from '../lb/idle-timeout.js';
import { servicePortKey, type ServicePortRoute, type UpstreamEndpoint } from './service-port-route.js';
import { policyDrops, UpstreamDial } from './upstream-dial.js';
import { portFaultKey } from '../../faults/compile.js';
import type { ProbeSocketReason } from '../lb/probe-answer.js';
import { countEndpointPick } from '../stats.js';

/** Which endpoints a flow through the KUBE-EXT chain may use, and the source they see. */
interface ExternalChoice {
  readonly candidates: readonly UpstreamEndpoint[];
  readonly byKey: ReadonlyMap<string, UpstreamEndpoint>;
  readonly source: string;
}

export class KubeProxy {
  constructor(
    readonly node: NodeInfo,
    private readonly routes: ReadonlyMap<string, ServicePortRoute>,
    /** The same route for the LB's health probes (see probeRoute), made on the first probe. */
    private readonly probeRoute: (servicePort: string) => ServicePortRoute | undefined,
    /** Pod IP → node name, for every pod of the cluster. */
    private readonly podNodes: ReadonlyMap<string, string>,
    /** Service key → distinct local ready endpoint IPs (the healthCheckNodePort count). */
    private readonly localReady: ReadonlyMap<string, number>,
    private readonly ctx: ForwardingContext,
    /** Endpoints served in this process, which take the client socket itself. */
    private readonly localEndpoints?: LocalEndpoints,
  ) {}

  get running(): boolean {
    return this.node.running;
  }

  localReadyEndpoints(serviceKey: string): number {
    return this.localReady.get(serviceKey) ?? 0;
  }

  /**
   * A connection to a NodePort of this node, or handed over by the LB. The KUBE-EXT
   * chain: Cluster policy masquerades to the node and may use any endpoint. Local policy
   * keeps the client's address and only uses endpoints on this node; pod clients and
   * this node's own address still get Cluster routing (without and with masquerade).
   */
  acceptExternal(client: Socket, servicePort: string, idle?: IdleTimeout): void {
    const clientIP = client.remoteAddress ?? '';
    const route = this.routeFor(client, clientIP === this.ctx.probeSource ? this.probeRoute(servicePort) : this.routes.get(servicePort));
    if (route === undefined) return;
    const { candidates, byKey, source } = this.externalChoice(route, clientIP);
    this.forward(client, route, candidates, byKey, clientIP, source, idle);
  }

  /**
   * The KUBE-EXT chain's choice for a client: Cluster policy, or this node's own address,
   * masquerades to the node and may use any endpoint; a pod client may use any endpoint
   * and keeps its address; otherwise Local policy keeps the client's address and only
   * uses endpoints on this node.
   */
  private externalChoice(route: ServicePortRoute, clientIP: string): ExternalChoice {
    const nodeAddress = this.node.address;
    if (route.externalTrafficPolicy === 'Cluster' || clientIP === nodeAddress) return { candidates: route.all, byKey: route.allByKey, source: nodeAddress };
    if (this.podNodes.has(clientIP)) return { candidates: route.all, byKey: route.allByKey, source: clientIP };
    return { candidates: route.local, byKey: route.localByKey, source: clientIP };
  }

  /**
   * What acceptExternal does with an LB health probe's connection to a NodePort, done
   * without the connection (lb/probe-answer.ts), for the one case where that is all it
   * does: the flow ends in an in-process pod that a reset connection leaves no trace in.
   * Then this counts the route, picks with the probe route's own balancer among the same
   * candidates, and counts the pick, as the socket path does; the pod's hand-over, which
   * the probe's reset would end at once, is left out. Any other way (no route, Local policy
   * without a local endpoint, a fault anywhere on the path, a NetworkPolicy drop, a
   * candidate that would be dialled or is not quiet) returns why, having touched nothing:
   * the probe then takes a real socket.
   */
  probeHandOver(servicePort: string): ProbeSocketReason | undefined {
    const clientIP = this.ctx.probeSource;
    const local = this.localEndpoints;
    if (clientIP === undefined) return 'no-probe-source';
    if (local === undefined) return 'dialled-endpoint';
    const route = this.probeRoute(servicePort);
    if (route === undefined || route.all.length === 0) return 'no-route';
    const { candidates, byKey, source } = this.externalChoice(route, clientIP);
    if (candidates.length === 0) return 'no-local-endpoint';
    const faults = this.ctx.faults.table;
    if (faults !== undefined) {
      const { counters } = route;
      const onPath =
        faults.nodes.get(this.node.name)?.slow !== undefined ||
        faults.ports.has(portFaultKey('nodeport', servicePort)) ||
        faults.ports.has(portFaultKey('service', servicePortKey(counters.service, counters.port))) ||
        candidates.some((e) => faults.pods.has(e.ip));
      if (onPath) return 'fault';
    }
    const nodeAddress = this.node.address;
    for (const endpoint of candidates) {
      // The source the pod would see, as UpstreamDial has it.
      if (policyDrops(this.ctx, endpoint.ip === clientIP ? nodeAddress : source, endpoint, clientIP)) return 'network-policy';
      const pod = local.lookup(endpoint.ip, endpoint.port);
      if (pod === undefined) return 'dialled-endpoint';
      if (pod.quietOnProbe !== true) return 'not-quiet';
    }
    const picked = route.balancer.pick(candidates, byKey, clientIP, false);
    if (picked === undefined) return 'no-route';
    route.counters.connections++;
    countEndpointPick(route.counters, picked.key);
    return undefined;
  }

  /**
   * A connection to a ClusterIP from a client on this node. No masquerade: the pod sees
   * the client. internalTrafficPolicy Local only uses endpoints on this node.
   */
  acceptClusterIP(client: Socket, servicePort: string): void {
    const route = this.routeFor(client, this.routes.get(servicePort));
    if (route === undefined) return;
    const clientIP = client.remoteAddress ?? '';
    if (route.internalTrafficPolicy === 'Local') {
      this.forward(client, route, route.local, route.localByKey, clientIP, clientIP, undefined);
    } else {
      this.forward(client, route, route.all, route.allByKey, clientIP, clientIP, undefined);
    }
  }

  /** The route, counted; undefined (client reset) when kube-proxy would REJECT. */
  private routeFor(client: Socket, route: ServicePortRoute | undefined): ServicePortRoute | undefined {
    if (route === undefined) {
      flowVerdict(client, 'no_route');
      resetSocket(client);
      return undefined;
    }
    route.counters.connections++;
    flowAtRoute(client, route.counters);
    if (route.all.length === 0) {
      // No usable endpoint anywhere: kube-proxy REJECTs, the client sees a refusal at once.
      route.counters.refused++;
      flowVerdict(client, 'no_endpoints');
      resetSocket(client);
      return undefined;
    }
    return route;
  }

  private forward(
    client: Socket,
    route: ServicePortRoute,
    candidates: readonly UpstreamEndpoint[],
    byKey: ReadonlyMap<string, UpstreamEndpoint>,
    clientIP: string,
    source: string,
    idle: IdleTimeout | undefined,
  ): void {
    if (candidates.length === 0) {
      // Local policy and no local endpoint: kube-proxy DROPs, the client times out.
      route.counters.dropped++;
      flowVerdict(client, 'no_local_endpoint');
      this.ctx.held.hold(client);
      return;
    }
    // A handed-over flow can be reset at idle timeout but not silenced (see LocalFlow),
    // so flows of a rule without TCP reset keep their own spliced upstream socket.
    const local = idle !== undefined && !idle.settings.enableTcpReset ? undefined : this.localEndpoints;
    const request = { route, candidates, byKey, clientIP, source, nodeAddress: this.node.address, idle, local };
    new UpstreamDial(client, request, this.ctx).start();
  }
}
