/**
 * An LB flow whose client socket was handed to an in-process pod (local-endpoints.ts):
 * no second socket, no splice, so nothing on the data path sees the bytes. The idle
 * timeout reads the kernel-side byte counters of the socket instead of a flag raised per
 * chunk; they also count what a TLS layer or an HTTP parser reading the socket directly
 * moved.
 */
import type { Socket } from 'node:net';

import type { IdleFlow } from '../lb/idle-timeout.js';
import { resetSocket } from './reset.js';

/** The stream handle's own counters (libuv StreamBase), present while the socket is open. */
interface CountingHandle {
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readStop?(): number;
}

function handleOf(socket: Socket): CountingHandle | null {
  return (socket as unknown as { _handle: CountingHandle | null })._handle;
}

function traffic(socket: Socket): number {
  const handle = handleOf(socket);
  return handle === null ? -1 : handle.bytesRead + handle.bytesWritten;
}

export class LocalFlow implements IdleFlow {
  lastActive: number;
  #seen: number;

  constructor(
    readonly socket: Socket,
    now: number,
  ) {
    this.lastActive = now;
    this.#seen = traffic(socket);
  }

  get client(): Socket {
    return this.socket;
  }

  get active(): boolean {
    return traffic(this.socket) !== this.#seen;
  }

  /** Clearing the flag remembers the counters as they are now. */
  set active(value: boolean) {
    if (!value) this.#seen = traffic(this.socket);
  }

  get closed(): boolean {
    return this.socket.destroyed;
  }

  reset(): void {
    resetSocket(this.socket);
  }

  /**
   * Only flows of a rule with TCP reset are handed over (see KubeProxy), so this runs
   * only when the rule lost its TCP reset while the flow was open. With one socket shared
   * with the pod, the closest is to stop reading: the client's bytes stay unread in the
   * kernel and nothing more reaches the pod, which is what either end of a dropped flow
   * sees. The flow is closed when its dropped lifetime ends.
   */
  silence(): void {
    handleOf(this.socket)?.readStop?.();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
