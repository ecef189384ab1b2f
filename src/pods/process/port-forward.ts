/**
 * The pod IP side of a process container's port. Replicas of one app run on one host, so
 * each gets its own free port in PORT; aks-emu listens on podIP:containerPort, as the pod
 * would, and splices every connection to 127.0.0.1:PORT, binding the source to the address
 * the pod would have seen (the node under SNAT, else the client) so the app sees it too.
 * The listener opens only once the app listens on PORT: until then a connection to the pod
 * is refused and a tcpSocket probe fails, as with a container whose port is not open yet.
 */
import type { PolicyLookup } from '../policy-guard.js';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { PodInfo } from '../../cluster/snapshot.js';
import { closeAll, listenAll } from '../pod-listeners.js';

/** A port no one listens on now, for one replica's PORT. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves true when 127.0.0.1:port accepts a connection. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function splice(client: Socket, port: number): void {
  const remote = client.remoteAddress;
  const upstream = connect({ host: '127.0.0.1', port, ...(remote && remote.startsWith('127.') ? { localAddress: remote } : {}) });
  client.pipe(upstream);
  upstream.pipe(client);
  // A failure on one side resets the other, as a broken TCP path would.
  const reset = () => {
    client.resetAndDestroy();
    upstream.resetAndDestroy();
  };
  client.on('error', reset);
  upstream.on('error', reset);
}

export class PortForward {
  readonly #pod: PodInfo;
  readonly containerPort: number;
  readonly hostPort: number;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();

  readonly #policy: PolicyLookup | undefined;

  constructor(pod: PodInfo, containerPort: number, hostPort: number, policy?: PolicyLookup) {
    this.#pod = pod;
    this.#policy = policy;
    this.containerPort = containerPort;
    this.hostPort = hostPort;
  }

  get open(): boolean {
    return this.#server !== undefined;
  }

  async openListener(): Promise<void> {
    if (this.#server) return;
    const server = createServer((socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      splice(socket, this.hostPort);
    });
    this.#server = server;
    try {
      await listenAll(this.#pod, [{ server, port: this.containerPort }], this.#policy);
    } catch (err) {
      this.#server = undefined;
      throw err;
    }
  }

  /** The app exited: the port closes and open connections reset, as the container's would. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.resetAndDestroy();
    this.#sockets.clear();
    if (server) await closeAll([server]);
  }
}
