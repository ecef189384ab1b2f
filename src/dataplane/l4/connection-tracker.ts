/**
 * Every socket the data plane owns, so that stop() can release them all. Listeners only
 * stop accepting on a swap; the connections they accepted keep flowing (conntrack keeps
 * established flows after kube-proxy rewrites its rules), so tracking is global.
 */
import type { Socket } from 'node:net';

import { endFlow } from '../observe/flow.js';
import { resetSocket } from './reset.js';

const TRACKED_IN = Symbol('aks-emu.tracked-in');
const TRACKER = Symbol('aks-emu.tracker');
type TrackedSocket = Socket & { [TRACKED_IN]?: Set<Socket>; [TRACKER]?: ConnectionTracker };

function untrack(this: TrackedSocket, hadError: boolean): void {
  this[TRACKED_IN]?.delete(this);
  // The one close listener every client socket has anyway: the flow's record ends here too.
  endFlow(this, hadError);
  this[TRACKER]?.notifyIfDrained();
}

export class ConnectionTracker {
  private readonly clients = new Set<Socket>();
  private readonly others = new Set<Socket>();
  private drainWaiters: (() => void)[] = [];

  /** A connection a client opened to one of our listeners. */
  trackClient(socket: Socket): void {
    this.track(socket, this.clients);
  }

  /** A connection we opened (upstream to a pod) or served (an HTTP health check). */
  trackOther(socket: Socket): void {
    this.track(socket, this.others);
  }

  /** Every open client connection (a partition fault stalls those delivered through its node). */
  clientSockets(): Iterable<Socket> {
    return this.clients;
  }

  get activeClients(): number {
    return this.clients.size;
  }

  /** Resolves once no client connection is open (at once if none is). */
  drained(): Promise<void> {
    if (this.clients.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Destroy every tracked socket; resolves once each has emitted 'close'. */
  destroyAll(): Promise<void> {
    return this.endAll((socket) => socket.destroy());
  }

  /** Reset every tracked socket (what a stop past its grace period does to what is left). */
  resetAll(): Promise<void> {
    return this.endAll(resetSocket);
  }

  notifyIfDrained(): void {
    if (this.clients.size > 0 || this.drainWaiters.length === 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private async endAll(end: (socket: Socket) => void): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const socket of [...this.clients, ...this.others]) {
      closing.push(new Promise((resolve) => socket.once('close', () => resolve())));
      end(socket);
    }
    await Promise.all(closing);
  }

  private track(socket: TrackedSocket, set: Set<Socket>): void {
    set.add(socket);
    socket[TRACKED_IN] = set;
    socket[TRACKER] = this;
    socket.once('close', untrack);
  }
}
