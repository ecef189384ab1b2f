/**
 * Inputs a hostile or careless client sends, as fast-check arbitraries, and the one way
 * of sending them: a fresh connection that ends with a FIN, a reset, or mid-write.
 */
import fc from 'fast-check';
import { connect } from 'node:net';

/** How many cases each property runs (FUZZ_RUNS overrides; thousands per listener by default). */
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 1000);

export type Ending = 'half-close' | 'reset' | 'destroy';
export const endings = fc.constantFrom<Ending>('half-close', 'reset', 'destroy');

/** Request-targets that broke URL parsers and proxies, plus random ones. */
const targets = fc.oneof(
  fc.constantFrom(
    '/',
    '//[',
    'http://[::1',
    '//[::1]:80/x',
    'http://169.254.169.254/latest',
    '*',
    '%',
    '/%zz',
    '/..%2f..%2f',
    '/?a=%00',
    'example.com:443',
    '/' + 'a'.repeat(9000),
  ),
  fc.string({ maxLength: 200 }),
  fc.webUrl(),
);
const methods = fc.oneof(fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'CONNECT', 'OPTIONS', 'TRACE', 'PRI', 'get'), fc.string({ maxLength: 12 }));
const versions = fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9.9', 'HTTP/1.1 ', '', 'http/1.1');
const headerNames = fc.oneof(
  fc.constantFrom('Host', 'Content-Length', 'Transfer-Encoding', 'Connection', 'Expect', 'Upgrade', 'Origin', 'Content-Type', 'host'),
  fc.string({ maxLength: 30 }),
);
const headerValues = fc.oneof(
  fc.constantFrom('chunked', '-1', '99999999999999999999', '0', '5, 6', 'close', 'keep-alive', '100-continue', 'websocket', 'a\rb', 'x\0y'),
  fc.string({ maxLength: 100 }),
);
const lineEnds = fc.constantFrom('\r\n', '\n', '\r', '');

/** An HTTP/1.x request, well-formed or not in any part, as bytes. */
export const httpRequests = fc
  .record({
    method: methods,
    target: targets,
    version: versions,
    headers: fc.array(fc.tuple(headerNames, headerValues, lineEnds), { maxLength: 12 }),
    end: lineEnds,
    body: fc.uint8Array({ maxLength: 2048 }),
  })
  .map(({ method, target, version, headers, end, body }) =>
    Buffer.concat([Buffer.from(`${method} ${target} ${version}\r\n${headers.map(([n, v, e]) => `${n}: ${v}${e}`).join('')}${end}`, 'utf8'), body]),
  );

/** Anything: random bytes, or a request with random bytes in the middle. */
export const garbage = fc.oneof(
  fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b)),
  httpRequests,
  fc.tuple(httpRequests, fc.uint8Array({ maxLength: 512 }), httpRequests).map(([a, b, c]) => Buffer.concat([a, Buffer.from(b), c])),
);

/**
 * Sends `bytes` on a new connection and ends it as told; resolves with what came back
 * once the connection is over (or after `waitMs`, when the server holds it open).
 */
export function sendAndEnd(host: string, port: number, bytes: Buffer, ending: Ending, waitMs = 1_000): Promise<Buffer> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.on('connect', () => {
      if (ending === 'destroy') {
        // Half the bytes, then gone: a client that dies mid-request.
        socket.write(bytes.subarray(0, bytes.length >> 1), () => socket.destroy());
        return;
      }
      socket.write(bytes);
      if (ending === 'half-close') socket.end();
      else socket.resetAndDestroy();
    });
  });
}
