/**
 * Request smuggling from the client side: the requests nginx's parser refuses are refused
 * (400, connection closed) and the smuggled second request never reaches a pod. Node's
 * HTTP parser does the refusing (the controller's listeners are `http.Server`s); these
 * tests keep it so if the client side changes. Addresses: 127.51.12.0/24.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../../fixtures/ingress/backends.js';
import { endpoints, ingress, path, rule, service } from '../../fixtures/ingress/factory.js';
import { startController, type ControllerHarness } from '../../fixtures/ingress/harness.js';

const CONTROLLER = '127.51.12.1';

let ctl: ControllerHarness;
let pod: Backend;

beforeAll(async () => {
  pod = await startBackend('pod', '127.51.12.10');
  const svc = service('web', [{ port: 80 }]);
  ctl = await startController(CONTROLLER, {
    ingresses: [ingress('web', [rule('web.example', path('/', 'web'))])],
    services: [svc],
    endpoints: [endpoints(svc, [{ ip: pod.ip, port: pod.port }])],
  });
});

afterAll(async () => {
  await ctl?.stop();
  await pod?.close();
});

beforeEach(() => {
  pod.seen.length = 0;
});

/** Writes raw bytes; returns what the controller sent until it closed (or, with `responses`, until that many status lines came). */
function raw(text: string, responses = Infinity): Promise<string> {
  const u = new URL(ctl.http);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(u.port), u.hostname);
    let out = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      out += d;
      if ((out.match(/HTTP\/1\.1 \d{3} /g)?.length ?? 0) >= responses) socket.destroy();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(out));
    socket.write(text);
  });
}

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: web.example\r\n\r\n';

describe('client-side smuggling defences', () => {
  it.each([
    [
      'Content-Length with Transfer-Encoding',
      `POST / HTTP/1.1\r\nHost: web.example\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    ],
    ['Content-Length twice, different', `POST / HTTP/1.1\r\nHost: web.example\r\nContent-Length: 0\r\nContent-Length: 44\r\n\r\n${SMUGGLED}`],
    ['Content-Length twice, the same', `POST / HTTP/1.1\r\nHost: web.example\r\nContent-Length: 44\r\nContent-Length: 44\r\n\r\n${SMUGGLED}`],
    ['a Content-Length list', `POST / HTTP/1.1\r\nHost: web.example\r\nContent-Length: 0, 44\r\n\r\n${SMUGGLED}`],
    ['an invalid chunk size', `POST / HTTP/1.1\r\nHost: web.example\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n\r\n${SMUGGLED}`],
    ['a chunk size with junk after it', `POST / HTTP/1.1\r\nHost: web.example\r\nTransfer-Encoding: chunked\r\n\r\n0x0\r\n\r\n${SMUGGLED}`],
    ['Transfer-Encoding not ending in chunked', `POST / HTTP/1.1\r\nHost: web.example\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${SMUGGLED}`],
    [
      'obs-fold in Transfer-Encoding',
      `POST / HTTP/1.1\r\nHost: web.example\r\nTransfer-Encoding:\r\n chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    ],
    ['a bare LF inside a header line', `POST / HTTP/1.1\r\nHost: web.example\r\nX-A: 1\nContent-Length: 44\r\n\r\n${SMUGGLED}`],
    ['a bare CR', `GET / HTTP/1.1\r\nHost: web.example\rX: 1\r\n\r\n${SMUGGLED}`],
  ])('%s: 400 and nothing smuggled through', async (_name, request) => {
    const reply = await raw(request);
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    // Only one response: the connection closed after the 400.
    expect(reply.match(/HTTP\/1\.1 \d{3} /g)).toHaveLength(1);
    expect(pod.seen.map((s) => s.url)).not.toContain('/smuggled');
  });

  it('a well-formed chunked request and a pipelined second one are both served (the tests above can pass only by refusing)', async () => {
    const reply = await raw(`POST / HTTP/1.1\r\nHost: web.example\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n${SMUGGLED}`, 2);
    expect(reply.match(/HTTP\/1\.1 200 /g)).toHaveLength(2);
    expect(pod.seen.map((s) => s.url)).toEqual(['/', '/smuggled']);
  });
});
