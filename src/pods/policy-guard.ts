/**
 * NetworkPolicy in front of a pod's own listeners, for connections that reach the pod's
 * IP directly rather than through kube-proxy (a process calling another pod's IP, a
 * headless Service's name): the pod's server hands a connection to its handlers only
 * when the snapshot's policies allow it. A denied one is held silent, read and discarded
 * until the client gives up, as a pod behind a dropping CNI never answers; the kernel has
 * already completed the handshake here, so the client's wait is for the answer, not the
 * connect. Flows kube-proxy masqueraded to a node were decided there; flows the L7 proxy
 * dialled from its pod are decided again with the same source, which can only agree.
 */
import type { Server, Socket } from 'node:net';
import type { NetpolGate } from '../dataplane/netpol-gate.js';
import { seenRemoteAddress } from '../dataplane/l4/local-endpoints.js';

/** The latest snapshot's NetworkPolicies; undefined when it has none. */
export type PolicyLookup = () => NetpolGate | undefined;

const held = new WeakMap<Server, Set<Socket>>();

function discard(): void {}

function hold(server: Server, socket: Socket): void {
  let set = held.get(server);
  if (set === undefined) held.set(server, (set = new Set()));
  const sockets = set;
  sockets.add(socket);
  socket.on('data', discard);
  socket.on('error', () => socket.destroy());
  socket.on('end', () => socket.destroy());
  socket.once('close', () => sockets.delete(socket));
  socket.resume();
}

/** Puts the policy check in front of every `connection` handler the server has now. */
export function guardConnections(server: Server, podIP: string, port: number, lookup: PolicyLookup): void {
  const handlers = server.listeners('connection') as ((this: Server, socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', function guarded(this: Server, socket: Socket) {
    const gate = lookup();
    if (gate !== undefined) {
      const source = stripV4Mapped(seenRemoteAddress(socket));
      // A node's address is kube-proxy (which decided already, on the address the pod would
      // see on AKS) or the node itself (kubelet): the data plane's business, not the pod's.
      if (!gate.isNode(source) && gate.drops(source, podIP, port)) return hold(server, socket);
    }
    for (const handler of handlers) handler.call(this, socket);
  });
}

function stripV4Mapped(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** Closes what the guard holds on this server, so that closing it does not wait for them. */
export function releaseHeld(server: Server): void {
  const sockets = held.get(server);
  if (sockets === undefined) return;
  for (const socket of sockets) socket.destroy();
  sockets.clear();
}
