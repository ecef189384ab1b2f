/**
 * TLS termination at the controller: SNI certificates from kubernetes.io/tls Secrets, the
 * default fake certificate, HSTS, ssl-redirect and force-ssl-redirect. Addresses: 127.51.4.0/24.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_CERTIFICATE_CN, generateSelfSignedCertificate } from '../../../src/dataplane/ingress/self-signed-cert.js';
import { startBackend, send, type Backend } from '../../fixtures/ingress/backends.js';
import { endpoints, ingress, path, rule, service, tlsSecret } from '../../fixtures/ingress/factory.js';
import { startController, type ControllerHarness } from '../../fixtures/ingress/harness.js';

const CONTROLLER = '127.51.4.1';

let ctl: ControllerHarness;
let app: Backend;

beforeAll(async () => {
  app = await startBackend('app', '127.51.4.10');
  const [fooBar, wildcard] = await Promise.all([
    generateSelfSignedCertificate({ commonName: 'foo.bar.com', dnsNames: ['foo.bar.com'], keyType: 'ec' }),
    generateSelfSignedCertificate({ commonName: '*.wild.example', dnsNames: ['*.wild.example'], keyType: 'ec' }),
  ]);
  const svc = service('app');
  const eps = endpoints(svc, [{ ip: app.ip, port: app.port }]);
  const ingresses = [
    ingress('secure', [rule('foo.bar.com', path('/', 'app'))], { tls: [{ hosts: ['foo.bar.com'], secretName: 'foo-tls' }] }),
    ingress('wild', [rule('*.wild.example', path('/', 'app'))], { tls: [{ hosts: ['*.wild.example'], secretName: 'wild-tls' }] }),
    ingress('no-redirect', [rule('plain.bar.com', path('/', 'app'))], {
      tls: [{ hosts: ['plain.bar.com'], secretName: 'foo-tls' }],
      annotations: { 'ssl-redirect': 'false' },
    }),
    ingress('forced', [rule('forced.example', path('/', 'app'))], { annotations: { 'force-ssl-redirect': 'true' } }),
    ingress('missing', [rule('missing.example', path('/', 'app'))], { tls: [{ hosts: ['missing.example'], secretName: 'nope' }] }),
    ingress('open', [rule('open.example', path('/', 'app'))]),
  ];
  ctl = await startController(CONTROLLER, {
    ingresses,
    services: [svc],
    endpoints: [eps],
    secrets: [tlsSecret('foo-tls', fooBar), tlsSecret('wild-tls', wildcard)],
  });
});

afterAll(async () => {
  await ctl?.stop();
  await app?.close();
});

describe('certificates', () => {
  it("serves a host's own certificate by SNI and terminates TLS at the controller", async () => {
    const r = await send(`${ctl.https}/x`, { host: 'foo.bar.com' });
    expect(r.peerCertificateCN).toBe('foo.bar.com');
    expect(r.status).toBe(200);
    expect(r.json?.headers).toMatchObject({ 'x-forwarded-proto': 'https', 'x-forwarded-port': '443', 'x-scheme': 'https' });
  });

  it('serves a wildcard certificate for one-label subdomains', async () => {
    const r = await send(`${ctl.https}/`, { host: 'a.wild.example' });
    expect(r.peerCertificateCN).toBe('*.wild.example');
  });

  it('serves the default fake certificate for unknown names and for a missing Secret', async () => {
    expect((await send(`${ctl.https}/`, { host: 'nobody.example' })).peerCertificateCN).toBe(FAKE_CERTIFICATE_CN);
    expect((await send(`${ctl.https}/`, { host: 'missing.example' })).peerCertificateCN).toBe(FAKE_CERTIFICATE_CN);
    expect(ctl.result.notices.some((n) => n.includes('Secret default/nope not found'))).toBe(true);
  });

  it('adds HSTS to HTTPS responses of hosts with a certificate of their own', async () => {
    const r = await send(`${ctl.https}/`, { host: 'foo.bar.com' });
    expect(r.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect((await send(`${ctl.http}/`, { host: 'open.example' })).headers['strict-transport-security']).toBeUndefined();
    // The fake default certificate configures nothing for the host (certificate.configured_for_current_request).
    expect((await send(`${ctl.https}/`, { host: 'missing.example' })).headers['strict-transport-security']).toBeUndefined();
  });
});

describe('redirects', () => {
  it('redirects HTTP to HTTPS with 308 when the host has TLS, dropping one trailing slash', async () => {
    const r = await send(`${ctl.http}/path/`, { host: 'foo.bar.com:8080' });
    expect(r.status).toBe(308);
    expect(r.headers.location).toBe('https://foo.bar.com/path');
    expect((await send(`${ctl.http}/a?b=1`, { host: 'foo.bar.com' })).headers.location).toBe('https://foo.bar.com/a?b=1');
  });

  it('redirects even when the Secret is missing, as the host is still listed in spec.tls', async () => {
    expect((await send(`${ctl.http}/`, { host: 'missing.example' })).status).toBe(308);
  });

  it('does not redirect with ssl-redirect "false"', async () => {
    expect((await send(`${ctl.http}/`, { host: 'plain.bar.com' })).status).toBe(200);
  });

  it('redirects with force-ssl-redirect even without TLS', async () => {
    const r = await send(`${ctl.http}/x`, { host: 'forced.example' });
    expect(r.status).toBe(308);
    expect(r.headers.location).toBe('https://forced.example/x');
  });

  it('does not redirect hosts without TLS', async () => {
    expect((await send(`${ctl.http}/`, { host: 'open.example' })).status).toBe(200);
  });
});
