/**
 * The process-wide guard of every listener (LB frontends, NodePorts, kube-proxy's
 * ClusterIP and health servers, the container runtime's control and DNS servers): an
 * error that escapes a connection's or a request's handler is logged with its stack and
 * counted against the listener, and the connection alone is closed; the process and
 * every other connection carry on. Nothing a peer sends may take the emulator down.
 *
 * Scope is what makes this safe: each guarded call serves one connection (or one
 * datagram), so what a thrown error can leave inconsistent is that connection, which is
 * reset. An error outside any guarded call has no such scope; see installLastResort().
 */
import type { Socket } from 'node:net';

export interface ListenerErrorCount {
  readonly listener: string;
  readonly errors: number;
  readonly lastError: string;
}

type Log = (line: string) => void;

const WATCHED_BY = Symbol('aks-emu.watched-by');
type WatchedSocket = Socket & { [WATCHED_BY]?: string };

const defaultLog: Log = (line) => process.stderr.write(`${line}\n`);

class ListenerGuard {
  readonly #counts = new Map<string, { errors: number; lastError: string }>();
  #log: Log = defaultLog;

  /** Where guard lines go (stderr by default; the CLI sends them to its output). */
  setLog(log: Log | undefined): void {
    this.#log = log ?? defaultLog;
  }

  /** Log and count one unexpected error of `listener` (`NodePort 30080 of default/web on node-0`, `control`, `dns`). */
  record(listener: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    const entry = this.#counts.get(listener) ?? { errors: 0, lastError: '' };
    entry.errors++;
    entry.lastError = message;
    this.#counts.set(listener, entry);
    const stack = error instanceof Error && error.stack !== undefined ? error.stack : message;
    this.#log(`listener error (${listener}, ${entry.errors} so far): ${stack}`);
  }

  /** A connection's handler threw: record it and reset that connection alone. */
  fail(listener: string, socket: Socket, error: unknown): void {
    this.record(listener, error);
    if (socket.destroyed) return;
    if (socket.connecting) socket.destroy();
    else socket.resetAndDestroy();
  }

  /**
   * An 'error' on a socket nobody else listens to would be thrown by the emitter and end
   * the process: with this listener it is recorded instead and the socket closed. An
   * error some handler does listen to (a reset in a splice) is that handler's business.
   */
  watch(listener: string, socket: Socket): void {
    (socket as WatchedSocket)[WATCHED_BY] = listener;
    socket.on('error', onUnhandledError);
  }

  /** A handler that may return a promise: a throw or a rejection is recorded and `onError` runs. */
  call(listener: string, handler: () => unknown, onError: () => void): void {
    const fail = (error: unknown): void => {
      this.record(listener, error);
      try {
        onError();
      } catch (again) {
        this.record(listener, again);
      }
    };
    try {
      const result = handler();
      if (result instanceof Promise) result.catch(fail);
    } catch (error) {
      fail(error);
    }
  }

  counts(): ListenerErrorCount[] {
    return [...this.#counts].map(([listener, c]) => ({ listener, errors: c.errors, lastError: c.lastError }));
  }

  total(): number {
    let total = 0;
    for (const c of this.#counts.values()) total += c.errors;
    return total;
  }
}

export const listenerGuard = new ListenerGuard();

/** One function for every watched socket: no closure per connection. */
function onUnhandledError(this: WatchedSocket, error: Error): void {
  if (this.listenerCount('error') > 1) return;
  listenerGuard.record(this[WATCHED_BY] ?? 'unknown listener', error);
  this.destroy();
}

/** A system error raised by an I/O operation (a peer's reset, a full port range), not by our code. */
function isIoError(error: unknown): boolean {
  const e = error as NodeJS.ErrnoException | undefined;
  return typeof e?.syscall === 'string' && typeof e.code === 'string';
}

/**
 * The last resort for a process that serves listeners (`aks-emu up`; the container
 * roles could take it too), never installed by the library, whose host process owns its own policy.
 * An I/O error that reached no handler (ECONNRESET, EPIPE, EADDRNOTAVAIL on some
 * socket) is logged, counted under `process` and survived: it is a fact about one peer.
 * Anything else (a TypeError, a failed assertion) is a programming error whose damage
 * has no known scope: it is logged with its stack and counted, then `fatal` runs so the
 * process exits non-zero instead of serving from state that may be corrupt.
 */
export function installLastResort(fatal: (error: unknown) => void): () => void {
  const onError = (error: unknown): void => {
    listenerGuard.record('process', error);
    if (!isIoError(error)) fatal(error);
  };
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return () => {
    process.off('uncaughtException', onError);
    process.off('unhandledRejection', onError);
  };
}
