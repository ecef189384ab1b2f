import { describe, expect, it } from 'vitest';
import { isValidSourceRange, parseIngressAnnotations, parseNginxSize } from '../../../src/cluster/ingress/annotations.js';
import { ingress } from '../../fixtures/ingress/factory.js';

function parse(annotations: Record<string, string>) {
  return parseIngressAnnotations(ingress('w', [], { annotations }));
}

describe('annotations', () => {
  it("applies ingress-nginx's defaults", () => {
    const { annotations } = parse({});
    expect(annotations).toMatchObject({ sslRedirect: true, forceSslRedirect: false, useRegex: false, backendProtocol: 'HTTP' });
    expect(annotations.proxy).toEqual({ connectTimeoutMs: 5000, readTimeoutMs: 60000, sendTimeoutMs: 60000, bodySizeLimit: 1048576, nextUpstreamTries: 3 });
  });

  it("reads booleans as Go's strconv.ParseBool and reports other values", () => {
    expect(parse({ 'ssl-redirect': 'False' }).annotations.sslRedirect).toBe(false);
    const bad = parse({ 'ssl-redirect': 'no' });
    expect(bad.annotations.sslRedirect).toBe(true);
    expect(bad.notices[0]).toContain('nginx.ingress.kubernetes.io/ssl-redirect="no" is not a boolean');
  });

  it('parses nginx sizes and second-based timeouts', () => {
    expect(parseNginxSize('8m')).toBe(8 * 1024 * 1024);
    expect(parseNginxSize('512k')).toBe(512 * 1024);
    expect(parseNginxSize('0')).toBe(0);
    expect(parseNginxSize('1.5m')).toBeUndefined();
    expect(parse({ 'proxy-read-timeout': '3' }).annotations.proxy.readTimeoutMs).toBe(3000);
  });

  it('denies the location for an invalid whitelist-source-range, as ingress-nginx does', () => {
    expect(parse({ 'whitelist-source-range': '10.0.0.0/8, 192.168.1.1' }).annotations.allowSourceRanges).toEqual(['10.0.0.0/8', '192.168.1.1']);
    expect(parse({ 'whitelist-source-range': '10.0.0.0/33' }).annotations.denied).toContain('not a valid CIDR');
    expect(isValidSourceRange('::1/128')).toBe(true);
  });

  it('parses cookie affinity with INGRESSCOOKIE as the default name', () => {
    expect(parse({ affinity: 'cookie' }).annotations.affinity).toMatchObject({ cookieName: 'INGRESSCOOKIE', secure: false });
  });

  it('falls back to HTTP for backend protocols aks-emu does not speak, with a notice', () => {
    const r = parse({ 'backend-protocol': 'GRPC' });
    expect(r.annotations.backendProtocol).toBe('HTTP');
    expect(r.notices[0]).toContain('not implemented by aks-emu');
  });

  it('tells values the admission webhook refuses (rejections) from valid ones aks-emu only notes', () => {
    const r = parse({
      'backend-protocol': 'GRPC',
      'proxy-send-timeout': '+30',
      'canary-weight': '-1',
      'session-cookie-samesite': 'lax',
      'default-backend': 'my-svc',
    });
    expect(r.rejections).toEqual([{ annotation: 'nginx.ingress.kubernetes.io/canary-weight', value: '-1', problem: 'not an integer >= 0' }]);
    expect(r.notices.some((n) => n.includes('backend-protocol="GRPC" is not implemented by aks-emu'))).toBe(true);
    expect(r.annotations.proxy.sendTimeoutMs).toBe(30_000);
    expect(parse({ 'canary-by-header-pattern': '(a+)+$' }).rejections).toEqual([]);
    expect(parse({ 'canary-by-header-pattern': '(?=a)(a+)+$' }).rejections[0]?.problem).toMatch(/^rejected: it may take exponential time/);
  });
});
