/**
 * Fuzzing the ingress controller through its LB frontend (Azure LB → node → controller pod
 * → echo pod): thousands of random and malformed request lines, headers, bodies and URLs.
 * 1,000 cases go to the HTTP listener, 300 to the HTTPS one (more starves the other
 * cluster tests running beside this file on two cores). Each case is one TCP connection: the bytes are written, the client half-closes, and
 * everything the server sends until it closes is checked. The process must survive (an
 * uncaught error fails the run), every answer must be well-formed HTTP/1.1 responses or
 * nothing, and a normal request must still work afterwards.
 */
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';
import { send } from '../helpers/ingress-client.js';
import { webApp } from '../helpers/web-manifests.js';

const MANIFESTS = `
${webApp()}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web }
spec:
  ingressClassName: nginx
  rules:
    - host: web.example
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: regex
  annotations:
    nginx.ingress.kubernetes.io/use-regex: "true"
    nginx.ingress.kubernetes.io/rewrite-target: /$2
    nginx.ingress.kubernetes.io/proxy-body-size: "2k"
spec:
  ingressClassName: nginx
  rules:
    - host: regex.example
      http:
        paths:
          - { path: "/api(/|$)(.*)", pathType: ImplementationSpecific, backend: { service: { name: web, port: { number: 80 } } } }
          - { path: "/(a+)+$", pathType: ImplementationSpecific, backend: { service: { name: web, port: { number: 80 } } } }
`;

const CASE_TIMEOUT_MS = 15_000;

/** Sends `bytes` (over TLS to 443 with `servername`), half-closes, and resolves with all the server sent before closing. */
function exchange(ip: string, bytes: Buffer, servername?: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = servername === undefined ? connect({ host: ip, port: 80 }) : tlsConnect({ host: ip, port: 443, servername, rejectUnauthorized: false });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer and no close within ${CASE_TIMEOUT_MS} ms`));
    }, CASE_TIMEOUT_MS);
    socket.on(servername === undefined ? 'connect' : 'secureConnect', () => socket.end(bytes));
    socket.on('data', (c: Buffer) => chunks.push(c));
    // A reset is a close too (the server gave up on the connection).
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}

/**
 * Splits what the server sent into HTTP/1.1 responses; throws on anything else. A body is
 * framed by Content-Length, chunked encoding, or the close (the last response only); a
 * response to HEAD has none, whatever its Content-Length says.
 */
function checkResponses(data: Buffer, head: boolean): number {
  let rest = data;
  let count = 0;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) throw new Error(`truncated response head: ${JSON.stringify(rest.subarray(0, 200).toString('latin1'))}`);
    const [statusLine = '', ...lines] = rest.subarray(0, end).toString('latin1').split('\r\n');
    if (!/^HTTP\/1\.1 [1-5]\d\d [^\r\n]*$/.test(statusLine)) throw new Error(`bad status line: ${JSON.stringify(statusLine)}`);
    const headers = new Map<string, string>();
    for (const line of lines) {
      const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/.exec(line);
      if (!m) throw new Error(`bad header line: ${JSON.stringify(line)}`);
      headers.set(m[1]!.toLowerCase(), m[2]!);
    }
    const status = Number(statusLine.split(' ')[1]);
    let body = rest.subarray(end + 4);
    count++;
    if (head || status === 204 || status === 304 || (status >= 100 && status < 200)) {
      rest = body;
      continue;
    }
    const length = headers.get('content-length');
    if (headers.get('transfer-encoding')?.toLowerCase() === 'chunked') {
      for (;;) {
        const lineEnd = body.indexOf('\r\n');
        if (lineEnd < 0) throw new Error('truncated chunk size');
        const size = parseInt(body.subarray(0, lineEnd).toString('latin1'), 16);
        if (!Number.isFinite(size)) throw new Error('bad chunk size');
        body = body.subarray(lineEnd + 2 + size + 2);
        if (size === 0) break;
      }
      rest = body;
    } else if (length !== undefined) {
      if (!/^\d+$/.test(length)) throw new Error(`bad Content-Length ${length}`);
      if (body.length < Number(length)) throw new Error(`truncated body: ${body.length} of ${length} bytes`);
      rest = body.subarray(Number(length));
    } else {
      rest = Buffer.alloc(0);
    }
  }
  return count;
}

const token = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}$/);
const anyText = fc.string({ unit: 'binary', maxLength: 40 });
const method = fc.oneof(fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE', 'get', 'PRI'), token, anyText);
const pathSegment = fc.oneof(
  fc.constantFrom('', '.', '..', '%', '%2', '%2e', '%2F', '%00', '%ff', '%c0%af', 'api', 'a'.repeat(40), '[', ']', '?', '#', '//', '\\', ' '),
  fc.webSegment(),
  anyText,
);
const path = fc.array(pathSegment, { maxLength: 6 }).map((s) => `/${s.join('/')}`);
const target = fc.oneof(
  { weight: 4, arbitrary: path },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('http', 'https', 'HTTP', 'ftp'),
        fc.oneof(fc.domain(), anyText, fc.constantFrom('[::1', '[::1]:80', 'web.example:99999', '')),
        path,
      )
      .map(([s, h, p]) => `${s}://${h}${p}`),
  },
  { weight: 1, arbitrary: fc.constantFrom('*', '', '//[', 'web.example:80', 'http://[::1', '/?a=%zz', `/${'a'.repeat(5000)}!`) },
  { weight: 1, arbitrary: anyText },
);
const version = fc.oneof(
  { weight: 6, arbitrary: fc.constant('HTTP/1.1') },
  { weight: 1, arbitrary: fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/1.1 ', 'http/1.1', '') },
  { weight: 1, arbitrary: anyText },
);
const host = fc.constantFrom('web.example', 'regex.example', 'WEB.EXAMPLE:80', 'unknown.example', '', 'web.example, regex.example', '[::1]', 'a b');
const header = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(token, fc.string({ maxLength: 30 })).map(([n, v]) => `${n}: ${v}`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'Content-Length: 5',
      'Content-Length: -1',
      'Content-Length: 99999999999999999999',
      'Content-Length: 3, 4',
      'Transfer-Encoding: chunked',
      'Transfer-Encoding: gzip, chunked',
      'Transfer-Encoding: identity',
      'Connection: close',
      'Connection: upgrade',
      'Upgrade: websocket',
      'Expect: 100-continue',
      'Host: regex.example',
      'Cookie: INGRESSCOOKIE=x',
      'X-Forwarded-For: 1.2.3.4',
    ),
  },
  { weight: 1, arbitrary: anyText },
);
const body = fc.oneof(
  fc.constant(''),
  fc.string({ maxLength: 64 }),
  fc.constantFrom('5\r\nhello\r\n0\r\n\r\n', 'zz\r\n', '0\r\n\r\n', 'ffffffff\r\n'),
  fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b).toString('latin1')),
);
const eol = fc.oneof({ weight: 8, arbitrary: fc.constant('\r\n') }, { weight: 1, arbitrary: fc.constantFrom('\n', '\r', '') });

const request = fc
  .tuple(method, target, version, fc.option(host, { nil: undefined }), fc.array(header, { maxLength: 6 }), body, eol, fc.boolean())
  .map(([m, t, v, h, hs, b, nl, twice]) => {
    const lines = [`${m} ${t} ${v}`, ...(h === undefined ? [] : [`Host: ${h}`]), ...hs];
    const one = `${lines.join(nl)}${nl}${nl}${b}`;
    return Buffer.from(twice ? one + one : one, 'latin1');
  });

let cluster: Cluster;
let ip: string;

beforeAll(async () => {
  cluster = await startCluster({ manifests: MANIFESTS, config: { addresses: addressBlock(10) }, timeScale: 1 / 20 });
  await cluster.waitFor((s) => s.pods.every((p) => p.ready), { what: 'every pod to be Ready' });
  ip = cluster.service('ingress-nginx-controller', 'ingress-nginx').loadBalancerIP!;
});
afterAll(() => cluster?.stop());

describe('the ingress controller under fuzzed requests', () => {
  it('answers every case with well-formed HTTP responses or a close, and still serves a normal request after', { timeout: 600_000 }, async () => {
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(request, async (bytes) => {
        const data = await exchange(ip, bytes);
        if (checkResponses(data, bytes.subarray(0, 5).toString('latin1') === 'HEAD ') > 0) answered++;
      }),
      { numRuns: 1000, seed: 13 },
    );
    // Most cases are answered (400s and routes), not just closed.
    expect(answered).toBeGreaterThan(500);
    const ok = await send(ip, '/after-the-fuzz', { host: 'web.example' });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).path).toBe('/after-the-fuzz');
  });

  it('does the same on the HTTPS listener, with random SNI names', { timeout: 600_000 }, async () => {
    const servername = fc.constantFrom('web.example', 'regex.example', 'unknown.example', 'x');
    await fc.assert(
      fc.asyncProperty(request, servername, async (bytes, name) => {
        const data = await exchange(ip, bytes, name);
        checkResponses(data, bytes.subarray(0, 5).toString('latin1') === 'HEAD ');
      }),
      { numRuns: 300, seed: 14 },
    );
    const ok = await send(ip, '/after-the-fuzz', { host: 'web.example', tls: { servername: 'web.example' } });
    expect(ok.status).toBe(200);
  });
});
