import { connect } from 'node:net';

/**
 * Bytes written as they are (no client library to tidy them up), and everything the
 * server sent until it closed: a status line, a reset ('reset') or nothing.
 */
export function rawExchange(host: string, port: number, bytes: string | Buffer, options: { halfClose?: boolean; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), options.timeoutMs ?? 5_000);
    socket.on('connect', () => {
      socket.write(bytes);
      if (options.halfClose === true) socket.end();
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => chunks.push(Buffer.from('reset')));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
  });
}

/** The status code of the first response in `text`, or undefined. */
export function statusOf(text: string): number | undefined {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  return match === null ? undefined : Number(match[1]);
}
