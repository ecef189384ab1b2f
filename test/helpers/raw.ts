import { connect } from 'node:net';

export interface RawExchangeOptions {
  /** End the write side after the last bytes (the client's FIN). */
  readonly halfClose?: boolean;
  /** Destroy the socket after this long (default 5 s); 0 for no bound but the test's own. */
  readonly timeoutMs?: number;
  /** Destroy the socket once this many final status lines (not `100 Continue`) came back. */
  readonly responses?: number;
  /** A socket error is marked by 'reset' in the text (default), or rejects the promise. */
  readonly onError?: 'mark' | 'reject';
}

/** A final response's status line: HTTP/1.0 or 1.1, a 1xx-5xx code other than 100. */
const FINAL_STATUS = /HTTP\/1\.[01] (?!100 )[1-5]\d\d /g;

/**
 * Bytes written as they are (no client library to tidy them up), and everything the
 * server sent until it closed: a status line, a reset ('reset') or nothing. An array is
 * written part by part, each write (and the FIN after the last) a turn of the event loop
 * after the one before, so a server meets the parts as separate reads.
 */
export function rawExchange(
  host: string,
  port: number,
  bytes: string | Buffer | readonly (string | Buffer)[],
  options: RawExchangeOptions = {},
): Promise<string> {
  const single = typeof bytes === 'string' || Buffer.isBuffer(bytes);
  const parts = single ? [bytes] : bytes;
  const timeoutMs = options.timeoutMs ?? 5_000;
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let text = '';
    const timer = timeoutMs > 0 ? setTimeout(() => socket.destroy(), timeoutMs) : undefined;
    socket.setEncoding('latin1');
    socket.on('connect', async () => {
      for (const part of parts) {
        socket.write(part);
        if (!single) await new Promise((r) => setImmediate(r));
      }
      if (options.halfClose === true) socket.end();
    });
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (options.responses !== undefined && (text.match(FINAL_STATUS)?.length ?? 0) >= options.responses) socket.destroy();
    });
    socket.on('error', (err) => {
      if (options.onError === 'reject') reject(err);
      else text += 'reset';
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

/** The status code of the first response in `text`, or undefined. */
export function statusOf(text: string): number | undefined {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  return match === null ? undefined : Number(match[1]);
}
