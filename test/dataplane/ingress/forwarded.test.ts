import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { ControllerTraffic } from '../../../src/cluster/ingress/types.js';
import { Exchange } from '../../../src/dataplane/ingress/exchange.js';
import { forwardedContext, passScheme, remoteAddr } from '../../../src/dataplane/ingress/forwarded.js';

const TRUSTING: ControllerTraffic = { useForwardedHeaders: true, computeFullForwardedFor: false };

function exchange(headers: Record<string, string>, traffic?: ControllerTraffic): Exchange {
  const req = { headers, socket: { remoteAddress: '10.1.2.3' } as Socket } as unknown as IncomingMessage;
  const ex = new Exchange(req, 'http', '80');
  ex.host = headers.host ?? 'app.example';
  ex.requestId = 'id';
  ex.traffic = traffic;
  return ex;
}

describe('use-forwarded-headers', () => {
  it('is off by default: the connection is the client, whatever the headers say', () => {
    const ex = exchange({ 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'a.example' });
    expect(remoteAddr(ex)).toBe('10.1.2.3');
    expect(passScheme(ex)).toBe('http');
    expect(forwardedContext(ex)).toMatchObject({ clientIp: '10.1.2.3', scheme: 'http', host: 'app.example', port: '80' });
  });

  it('takes the left-most address of X-Forwarded-For, every hop being trusted (proxy-real-ip-cidr 0.0.0.0/0)', () => {
    expect(remoteAddr(exchange({ 'x-forwarded-for': '203.0.113.9, 198.51.100.7' }, TRUSTING))).toBe('203.0.113.9');
    // realip walks from the right and stops at what is no address.
    expect(remoteAddr(exchange({ 'x-forwarded-for': 'unknown, 198.51.100.7' }, TRUSTING))).toBe('198.51.100.7');
    expect(remoteAddr(exchange({}, TRUSTING))).toBe('10.1.2.3');
  });

  it('passes the client-given proto, port and first host upstream, and appends the connection with compute-full-forwarded-for', () => {
    const headers = { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https', 'x-forwarded-port': '8443', 'x-forwarded-host': 'a.example,b.example' };
    expect(forwardedContext(exchange(headers, TRUSTING))).toEqual({
      clientIp: '203.0.113.9',
      scheme: 'https',
      port: '8443',
      host: 'a.example',
      requestId: 'id',
    });
    expect(forwardedContext(exchange(headers, { ...TRUSTING, computeFullForwardedFor: true })).forwardedFor).toBe('203.0.113.9, 10.1.2.3');
    expect(forwardedContext(exchange({}, { ...TRUSTING, computeFullForwardedFor: true })).forwardedFor).toBe('10.1.2.3');
  });
});
