/**
 * The scale row's clients: N keep-alive connections through the LB, each carrying one
 * request and its response (so every hop, LB → node → pod, is really established), then
 * left idle until released.
 */
import { connect, type Socket } from 'node:net';

export interface HoldSpec {
  readonly host: string;
  readonly port: number;
  readonly hostHeader: string;
  readonly count: number;
  /**
   * Source addresses used in turn; none: the kernel's choice (127.0.0.1). One address
   * gives ~28,000 ephemeral ports (Linux's 32768-60999) per destination, so 10,000 need
   * no more. Only name sources when needed: bind-before-connect (localAddress) makes the
   * kernel look for a port free for every destination, which gets slow with thousands
   * of ports in use or in TIME_WAIT (after the churn rows, say).
   */
  readonly sources: readonly string[];
  /** How many connections are being opened at once. */
  readonly concurrency: number;
  readonly timeoutMs: number;
}

export interface HoldResult {
  readonly opened: number;
  readonly failed: number;
  readonly firstError?: string;
}

/** Ends when the headers and Content-Length bytes of one response have arrived. */
function awaitResponse(socket: Socket, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error('timeout')), timeoutMs);
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', finish);
      socket.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onClose = (): void => finish(new Error('closed before the response'));
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = received.subarray(0, end).toString('latin1');
      if (!head.startsWith('HTTP/1.1 200')) return finish(new Error(head.split('\r\n')[0] ?? 'bad response'));
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (received.length - end - 4 >= length) finish();
    };
    socket.on('data', onData);
    socket.once('error', finish);
    socket.once('close', onClose);
  });
}

export class IdleConnections {
  readonly #sockets: Socket[] = [];

  async open(spec: HoldSpec): Promise<HoldResult> {
    let next = 0;
    let failed = 0;
    let firstError: string | undefined;
    const request = `GET / HTTP/1.1\r\nHost: ${spec.hostHeader}\r\nUser-Agent: aks-emu-perf\r\n\r\n`;
    const openOne = async (i: number): Promise<void> => {
      const localAddress = spec.sources.length > 0 ? spec.sources[i % spec.sources.length] : undefined;
      const socket = connect({ host: spec.host, port: spec.port, ...(localAddress ? { localAddress } : {}) });
      socket.setNoDelay(true);
      try {
        socket.write(request);
        await awaitResponse(socket, spec.timeoutMs);
        socket.on('error', () => {});
        this.#sockets.push(socket);
      } catch (err) {
        failed++;
        firstError ??= (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        socket.destroy();
      }
    };
    const worker = async (): Promise<void> => {
      while (next < spec.count) await openOne(next++);
    };
    await Promise.all(Array.from({ length: Math.min(spec.concurrency, spec.count) }, worker));
    return { opened: this.#sockets.length, failed, ...(firstError === undefined ? {} : { firstError }) };
  }

  /** Closes every connection with a FIN and resolves when all are closed. */
  async release(): Promise<number> {
    const sockets = this.#sockets.splice(0);
    await Promise.all(
      sockets.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.destroyed) return resolve();
            s.once('close', () => resolve());
            s.end();
            // A peer that never answers our FIN must not keep the harness waiting.
            s.setTimeout(5_000, () => s.destroy());
          }),
      ),
    );
    return sockets.length;
  }
}
