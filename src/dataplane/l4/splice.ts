/**
 * Two sockets piped both ways as one TCP flow. Buffers pass through untouched; a FIN on
 * one side becomes end() on the other (half-close), an error or reset on one side resets
 * the other. Handlers are module functions reading their state from the socket, so a new
 * flow allocates nothing but the Splice itself.
 */
import type { Socket } from 'node:net';

import type { IdleFlow } from '../lb/idle-timeout.js';
import type { GlobalCounters } from '../stats.js';
import { afterRead, releaseReadBuffer, takeReadBuffer } from './read-buffers.js';
import { resetSocket } from './reset.js';

const SPLICE = Symbol('aks-emu.splice');
type SplicedSocket = Socket & { [SPLICE]: Splice };

export class Splice implements IdleFlow {
  /** Set by every chunk, cleared by the idle-timeout sweep. */
  active = false;
  /** Clock time of the last sweep that saw traffic (or of the flow's start). */
  lastActive: number;
  /** The LB forgot the flow without a reset: nothing is forwarded any more. */
  silenced = false;
  /** The client side has closed: the flow is over for anyone watching it. */
  closed = false;

  constructor(
    readonly client: Socket,
    readonly upstream: Socket,
    readonly counters: GlobalCounters,
    now: number,
  ) {
    this.lastActive = now;
    attach(client, this);
    attach(upstream, this);
    // Accepted sockets arrive paused (pauseOnConnect); reading starts only now that every handler is in place.
    client.resume();
    upstream.resume();
  }

  peer(socket: Socket): Socket {
    return socket === this.client ? this.upstream : this.client;
  }

  /** RST to both ends (Azure LB idle timeout with TCP reset). */
  reset(): void {
    resetSocket(this.client);
    resetSocket(this.upstream);
  }

  /**
   * Stop forwarding in both directions and discard what arrives, leaving both ends to
   * find out on their own (Azure LB idle timeout without TCP reset).
   */
  silence(): void {
    this.silenced = true;
    this.client.resume();
    this.upstream.resume();
  }

  /** Close both ends without a reset. */
  destroy(): void {
    this.client.destroy();
    this.upstream.destroy();
  }
}

/**
 * Node's `onread` option for a socket the data plane dials and a Splice will own: its
 * chunks are read into reused buffers (read-buffers.ts) and written to the peer from there,
 * with the same rules as onData. A socket without it is spliced through 'data' events.
 */
export const spliceOnRead = { buffer: takeReadBuffer, callback: onRead };

function attach(socket: Socket, splice: Splice): void {
  (socket as SplicedSocket)[SPLICE] = splice;
  socket.on('data', onData);
  socket.on('drain', onDrain);
  socket.on('end', onEnd);
  socket.on('error', onError);
  socket.on('close', onClose);
}

function onData(this: SplicedSocket, chunk: Buffer): void {
  const splice = this[SPLICE];
  if (splice.silenced) {
    splice.counters.discardedBytes += chunk.length;
    return;
  }
  splice.active = true;
  if (!splice.peer(this).write(chunk)) this.pause();
}

function onRead(this: SplicedSocket, nread: number, buffer: Buffer): boolean {
  const splice = this[SPLICE] as Splice | undefined;
  if (splice === undefined) {
    // Bytes before the flow was spliced have nowhere to go: the dial gave up on this socket.
    afterRead(this, buffer, nread, false);
    this.destroy();
    return false;
  }
  if (splice.silenced) {
    splice.counters.discardedBytes += nread;
    afterRead(this, buffer, nread, false);
    return true;
  }
  splice.active = true;
  const peer = splice.peer(this);
  const flowing = peer.write(nread === buffer.length ? buffer : buffer.subarray(0, nread));
  // Bytes the kernel did not take at once stay queued in the buffer: it is lent until written.
  afterRead(this, buffer, nread, peer.writableLength > 0);
  // false: Node stops reading (as pause() would) until the peer drains and onDrain resumes.
  return flowing;
}

function onDrain(this: SplicedSocket): void {
  const splice = this[SPLICE];
  if (!splice.silenced) splice.peer(this).resume();
}

function onEnd(this: SplicedSocket): void {
  const splice = this[SPLICE];
  if (!splice.silenced) splice.peer(this).end();
  // A dropped flow ends when the client gives up; the pod's FIN is lost like its data.
  else if (this === splice.client) splice.destroy();
  else this.destroy();
}

function onError(this: SplicedSocket): void {
  const splice = this[SPLICE];
  if (!splice.silenced) resetSocket(splice.peer(this));
  else if (this === splice.client) splice.upstream.destroy();
}

function onClose(this: SplicedSocket, hadError: boolean): void {
  const splice = this[SPLICE];
  releaseReadBuffer(this);
  if (this === splice.client) splice.closed = true;
  const peer = splice.peer(this);
  if (peer.destroyed) return;
  if (splice.silenced) {
    if (this === splice.client) peer.destroy();
  } else if (hadError) {
    resetSocket(peer);
  } else {
    peer.destroySoon();
  }
}
