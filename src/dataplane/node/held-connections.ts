/**
 * Connections kube-proxy DROPs (Local traffic policy, no local endpoint): never
 * answered, never forwarded, so the client sees a timeout. A held socket is read and
 * discarded so that the client's FIN or reset is noticed; it is released when the
 * client gives up. Past the cap the oldest is closed, to bound what a flood can pin.
 */
import type { Socket } from 'node:net';

const HELD_IN = Symbol('aks-emu.held-in');
type HeldSocket = Socket & { [HELD_IN]?: Set<Socket> };

function discard(): void {}

function release(this: Socket): void {
  this.destroy();
}

function forget(this: HeldSocket): void {
  this[HELD_IN]?.delete(this);
}

export class HeldConnections {
  private readonly sockets = new Set<Socket>();

  constructor(private readonly cap: number) {}

  /** Close every held connection: nothing will ever answer them (a stop draining the rest). */
  releaseAll(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  hold(socket: Socket): void {
    if (this.sockets.size >= this.cap) {
      const oldest = this.sockets.values().next().value;
      if (oldest !== undefined) {
        this.sockets.delete(oldest);
        oldest.destroy();
      }
    }
    this.sockets.add(socket);
    (socket as HeldSocket)[HELD_IN] = this.sockets;
    socket.on('data', discard);
    socket.on('end', release);
    socket.on('error', release);
    socket.on('close', forget);
    socket.resume();
  }
}
