/**
 * Read buffers for the sockets the data plane dials (Node's `onread` option), so that a
 * chunk read from a pod is written to the client from a buffer that is used again, instead
 * of a new 64 KiB allocation per read that the garbage collector must then find.
 *
 * A socket reads into the buffer it was given until its read callback hands it another
 * (`take()` is called right after each callback, for the socket that just read). Three
 * rules keep every byte intact and memory per connection small:
 *
 * - A buffer whose bytes are still queued for writing (the peer's kernel buffer was full,
 *   so Node holds a reference to them until the write completes) is *lent*: the socket gets
 *   another buffer and the lent one is left to the collector, never pooled.
 * - A socket reads into a small buffer while it carries small reads (idle keep-alive
 *   connections hold little) and a large one once a read fills the small one (a body is
 *   read in few system calls); back to small after a read that would have fit.
 * - Buffers that are no longer any socket's (a size change, a closed socket) go back to a
 *   bounded pool per size, so new connections and size changes rarely allocate.
 */
import type { Socket } from 'node:net';

export const SMALL_READ = 4 * 1024;
export const LARGE_READ = 64 * 1024;
const POOL_LIMIT = { small: 1024, large: 32 } as const;

const small: Buffer[] = [];
const large: Buffer[] = [];

const CURRENT = Symbol('aks-emu.read-buffer');
type BufferedSocket = Socket & { [CURRENT]?: Buffer };

/** The buffer the socket that just read gets next; undefined: a new socket's first one. */
let next: Buffer | undefined;

function fresh(size: number): Buffer {
  const pool = size === LARGE_READ ? large : small;
  return pool.pop() ?? Buffer.allocUnsafe(size);
}

function release(buffer: Buffer): void {
  const [pool, limit] = buffer.length === LARGE_READ ? [large, POOL_LIMIT.large] : [small, POOL_LIMIT.small];
  if (pool.length < limit) pool.push(buffer);
}

/** Node's `onread.buffer`: called once when the socket gets its handle and after every read callback. */
export function takeReadBuffer(): Buffer {
  const buffer = next ?? fresh(SMALL_READ);
  next = undefined;
  return buffer;
}

/**
 * Call at the end of a read callback: `buffer` held `nread` bytes and `lent` says whether
 * any of them are still queued for writing. Chooses the buffer the socket reads into next.
 */
export function afterRead(socket: Socket, buffer: Buffer, nread: number, lent: boolean): void {
  const wanted = nread === buffer.length ? LARGE_READ : nread <= SMALL_READ / 2 ? SMALL_READ : buffer.length;
  let chosen = buffer;
  if (lent) chosen = fresh(wanted);
  else if (wanted !== buffer.length) {
    release(buffer);
    chosen = fresh(wanted);
  }
  next = chosen;
  (socket as BufferedSocket)[CURRENT] = chosen;
}

/** The socket has closed: the buffer it was reading into is free (none of its bytes is queued). */
export function releaseReadBuffer(socket: Socket): void {
  const buffered = socket as BufferedSocket;
  const buffer = buffered[CURRENT];
  if (buffer === undefined) return;
  buffered[CURRENT] = undefined;
  release(buffer);
}
