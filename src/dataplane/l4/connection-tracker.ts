/**
 * Every socket the data plane owns, so that stop() can release them all. Listeners only
 * stop accepting on a swap; the connections they accepted keep flowing (conntrack keeps
 * established flows after kube-proxy rewrites its rules), so tracking is global.
 */
import type { Socket } from 'node:net';

const TRACKED_IN = Symbol('aks-emu.tracked-in');
type TrackedSocket = Socket & { [TRACKED_IN]?: Set<Socket> };

function untrack(this: TrackedSocket): void {
  this[TRACKED_IN]?.delete(this);
}

export class ConnectionTracker {
  private readonly clients = new Set<Socket>();
  private readonly others = new Set<Socket>();

  /** A connection a client opened to one of our listeners. */
  trackClient(socket: Socket): void {
    this.track(socket, this.clients);
  }

  /** A connection we opened (upstream to a pod) or served (an HTTP health check). */
  trackOther(socket: Socket): void {
    this.track(socket, this.others);
  }

  get activeClients(): number {
    return this.clients.size;
  }

  /** Destroy every tracked socket; resolves once each has emitted 'close'. */
  async destroyAll(): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const socket of [...this.clients, ...this.others]) {
      closing.push(new Promise((resolve) => socket.once('close', () => resolve())));
      socket.destroy();
    }
    await Promise.all(closing);
  }

  private track(socket: TrackedSocket, set: Set<Socket>): void {
    set.add(socket);
    socket[TRACKED_IN] = set;
    socket.once('close', untrack);
  }
}
