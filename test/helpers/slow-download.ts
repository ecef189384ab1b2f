import { connect, type Socket } from 'node:net';

export const TEN_MB = 10 * 1024 * 1024;

export interface SlowDownload {
  /** Resolves once the first bytes of the answer arrived; the socket is then paused. */
  readonly started: Promise<void>;
  /** Starts reading again; resolves with every byte received and how the connection ended. */
  finish(): Promise<{ bytes: Buffer; ended: 'end' | 'reset' }>;
}

/**
 * `GET /anything?size=N` to the echo pod behind host:port, read until the first chunk and
 * then paused, so that the body is in flight (in kernel buffers and the pod's queue) for
 * as long as the test wants.
 */
export function slowDownload(host: string, port: number, size: number): SlowDownload {
  const socket: Socket = connect({ host, port });
  const chunks: Buffer[] = [];
  let ended: 'end' | 'reset' = 'end';
  socket.on('error', () => (ended = 'reset'));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const started = new Promise<void>((resolve) => {
    socket.once('data', (chunk: Buffer) => {
      chunks.push(chunk);
      socket.pause();
      socket.on('data', (c: Buffer) => chunks.push(c));
      resolve();
    });
  });
  socket.write(`GET /anything?size=${size} HTTP/1.1\r\nHost: slow.example\r\nConnection: close\r\n\r\n`);
  return {
    started,
    async finish() {
      socket.resume();
      await closed;
      return { bytes: Buffer.concat(chunks), ended };
    },
  };
}

/** The body of a complete HTTP/1.1 answer with Content-Length, or undefined when cut short. */
export function completeBody(answer: Buffer): Buffer | undefined {
  const headEnd = answer.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const length = /\r\ncontent-length: (\d+)\r\n/i.exec(answer.subarray(0, headEnd).toString('latin1'))?.[1];
  const body = answer.subarray(headEnd + 4);
  return length !== undefined && body.length === Number(length) ? body : undefined;
}
