/**
 * How the LB reaches the node it picked. Embedded, all nodes live in this process: the
 * accepted socket is handed straight to the node's kube-proxy, which splices it to the
 * pod (the hop collapse of DESIGN.md). A runtime with real node hosts supplies a
 * delivery that dials node.address:backendPort instead.
 */
import type { Socket } from 'node:net';

import type { BackendNode } from '../balance/distribution.js';
import { resetSocket } from '../l4/reset.js';
import type { IdleTimeout } from './idle-timeout.js';

/** A node's handling of external traffic (KubeProxy is one). */
export interface NodeTrafficHandler {
  readonly running: boolean;
  acceptExternal(client: Socket, servicePort: string, idle?: IdleTimeout): void;
}

export interface NodeDelivery {
  /** Hand over the client; false when the node cannot take it (the client has been reset). */
  deliver(client: Socket, node: BackendNode, servicePort: string, idle: IdleTimeout): boolean;
}

export class EmbeddedNodeDelivery implements NodeDelivery {
  constructor(private readonly nodes: ReadonlyMap<string, NodeTrafficHandler>) {}

  deliver(client: Socket, node: BackendNode, servicePort: string, idle: IdleTimeout): boolean {
    const handler = this.nodes.get(node.name);
    if (handler === undefined || !handler.running) {
      // A stopped VM: the SYN goes nowhere useful until the probe takes the node out.
      resetSocket(client);
      return false;
    }
    handler.acceptExternal(client, servicePort, idle);
    return true;
  }
}
