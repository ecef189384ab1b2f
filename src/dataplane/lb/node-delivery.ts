/**
 * How the LB reaches the node it picked. Embedded, all nodes live in this process: the
 * accepted socket is handed straight to the node's kube-proxy, which splices it to the
 * pod (the hop collapse, docs/architecture.md). A runtime with real node hosts supplies a
 * delivery that dials node.address:backendPort instead.
 */
import { connect, type Socket } from 'node:net';

import type { BackendNode } from '../balance/distribution.js';
import type { Clock } from '../clock.js';
import type { ConnectionTracker } from '../l4/connection-tracker.js';
import { resetSocket } from '../l4/reset.js';
import { flowAtNode, flowVerdict } from '../observe/flow.js';
import { Splice } from '../l4/splice.js';
import type { GlobalCounters } from '../stats.js';
import type { IdleTimeout } from './idle-timeout.js';
import type { FaultHolder } from '../../faults/compile.js';
import type { HeldConnections } from '../node/held-connections.js';
import { markDelivered } from '../faults/partition.js';

/** A node's handling of external traffic (KubeProxy is one). */
export interface NodeTrafficHandler {
  readonly running: boolean;
  acceptExternal(client: Socket, servicePort: string, idle?: IdleTimeout): void;
}

export interface NodeDelivery {
  /**
   * Hand over the client; false when the node cannot take it (the client has been reset).
   * backendPort is the rule's: the NodePort, or the frontend port with floating IP.
   */
  deliver(client: Socket, node: BackendNode, servicePort: string, idle: IdleTimeout, backendPort: number): boolean;
}

export class EmbeddedNodeDelivery implements NodeDelivery {
  constructor(
    private readonly nodes: ReadonlyMap<string, NodeTrafficHandler>,
    private readonly faults: FaultHolder = { table: undefined },
    private readonly held?: HeldConnections,
  ) {}

  deliver(client: Socket, node: BackendNode, servicePort: string, idle: IdleTimeout): boolean {
    const partition = this.faults.table?.nodes.get(node.name)?.partition;
    if (partition !== undefined && this.held !== undefined) {
      // The LB cannot reach the node: the flow's packets go nowhere until the probes take the node out.
      partition.state.fire();
      this.held.hold(client);
      return true;
    }
    markDelivered(client, node.name);
    const handler = this.nodes.get(node.name);
    flowAtNode(client, node.name);
    if (handler === undefined || !handler.running) {
      // A stopped VM: the SYN goes nowhere useful until the probe takes the node out.
      flowVerdict(client, 'backend_unreachable');
      resetSocket(client);
      return false;
    }
    handler.acceptExternal(client, servicePort, idle);
    return true;
  }
}

const DELIVERY = Symbol('aks-emu.delivery');
type DeliverySocket = Socket & { [DELIVERY]: NetworkFlow };

/**
 * Nodes on other hosts (the container runtime): the flow is dialled to the node over the
 * network, as the Azure LB forwards to a VM's NIC. With floating IP (AKS's default) the
 * packet keeps the frontend IP as its destination and kube-proxy on the node captures it;
 * a proxy cannot send to an address it owns itself, so the flow goes to the Service's
 * NodePort instead, which kube-proxy handles with the same chain (KUBE-EXT). A node that
 * is down answers nothing or refuses; the client is reset, and the probes take the node
 * out after their threshold, as on Azure.
 */
export class NetworkNodeDelivery implements NodeDelivery {
  constructor(
    private readonly clock: Clock,
    private readonly tracker: ConnectionTracker,
    private readonly counters: GlobalCounters,
    /** Service port key → its NodePort. */
    private readonly nodePorts: ReadonlyMap<string, number>,
  ) {}

  deliver(client: Socket, node: BackendNode, servicePort: string, idle: IdleTimeout, backendPort: number): boolean {
    const port = this.nodePorts.get(servicePort) ?? backendPort;
    flowAtNode(client, node.name);
    const upstream = connect({ host: node.address, port, allowHalfOpen: true, noDelay: true }) as DeliverySocket;
    this.tracker.trackOther(upstream);
    const flow: NetworkFlow = { client, upstream, idle, delivery: this };
    upstream[DELIVERY] = flow;
    (client as DeliverySocket)[DELIVERY] = flow;
    upstream.once('connect', onDeliveryConnect);
    upstream.once('error', onDeliveryError);
    client.on('error', onDeliveryClientGone);
    client.on('close', onDeliveryClientGone);
    return true;
  }

  connected(flow: NetworkFlow): void {
    flow.upstream.off('error', onDeliveryError);
    flow.client.off('error', onDeliveryClientGone);
    flow.client.off('close', onDeliveryClientGone);
    flow.idle.watch(new Splice(flow.client, flow.upstream, this.counters, this.clock.now()));
  }
}

interface NetworkFlow {
  readonly client: Socket;
  readonly upstream: Socket;
  readonly idle: IdleTimeout;
  readonly delivery: NetworkNodeDelivery;
}

function onDeliveryConnect(this: DeliverySocket): void {
  const flow = this[DELIVERY];
  flow.delivery.connected(flow);
}

function onDeliveryError(this: DeliverySocket): void {
  const flow = this[DELIVERY];
  flow.client.off('error', onDeliveryClientGone);
  flow.client.off('close', onDeliveryClientGone);
  flowVerdict(flow.client, 'backend_unreachable');
  resetSocket(flow.client);
}

function onDeliveryClientGone(this: DeliverySocket): void {
  const flow = this[DELIVERY];
  flow.upstream.off('connect', onDeliveryConnect);
  flow.upstream.destroy();
}
