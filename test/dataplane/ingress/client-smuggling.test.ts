/**
 * Request smuggling from the client side: the requests nginx's parser refuses are refused
 * (400, connection closed) and the smuggled second request never reaches a pod. The
 * controller's own HTTP/1.1 server (downstream-h1.ts) does the refusing; these tests keep
 * it so whatever serves the client side. Addresses: 127.51.12.0/24.
 */
import { describe, expect, it } from 'vitest';
import { webControllerFixture } from '../../fixtures/ingress/harness.js';
import { rawExchange } from '../../helpers/raw.js';

const CONTROLLER = '127.51.12.1';
const web = webControllerFixture(CONTROLLER, '127.51.12.10');

/** Writes raw bytes; returns what the controller sent until it closed (or, with `responses`, until that many status lines came). */
const raw = (text: string, responses?: number): Promise<string> =>
  rawExchange(CONTROLLER, Number(new URL(web.ctl.http).port), text, { responses, timeoutMs: 0, onError: 'reject' });

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
    expect(web.pod.seen.map((s) => s.url)).not.toContain('/smuggled');
  });

  it('a well-formed chunked request and a pipelined second one are both served (the tests above can pass only by refusing)', async () => {
    const reply = await raw(`POST / HTTP/1.1\r\nHost: web.example\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n${SMUGGLED}`, 2);
    expect(reply.match(/HTTP\/1\.1 200 /g)).toHaveLength(2);
    expect(web.pod.seen.map((s) => s.url)).toEqual(['/', '/smuggled']);
  });
});
