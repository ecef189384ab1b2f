import type { Socket } from 'node:net';

/**
 * Abort a connection with a TCP RST, as iptables REJECT --reject-with tcp-reset and the
 * Azure LB's TCP reset do. A socket still connecting has nothing to reset: it is closed.
 */
export function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.connecting) socket.destroy();
  else socket.resetAndDestroy();
}
