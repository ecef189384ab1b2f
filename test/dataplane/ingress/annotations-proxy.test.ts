/**
 * whitelist-source-range, custom-http-errors with the default backend, the default-backend
 * annotation and backend-protocol HTTPS through a real controller pod. Addresses: 127.51.8.0/24.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSelfSignedCertificate } from '../../../src/dataplane/ingress/self-signed-cert.js';
import { startBackend, send, type Backend } from '../../fixtures/ingress/backends.js';
import { endpoints, ingress, path, rule, service } from '../../fixtures/ingress/factory.js';
import { startController, type ControllerHarness } from '../../fixtures/ingress/harness.js';

const CONTROLLER = '127.51.8.1';

let ctl: ControllerHarness;
let app: Backend;
let failing: Backend;
let errors: Backend;
let secure: Server;

beforeAll(async () => {
  app = await startBackend('app', '127.51.8.10');
  failing = await startBackend('failing', '127.51.8.11', 0, { status: 500 });
  errors = await startBackend('error-pages', '127.51.8.12');
  const pair = await generateSelfSignedCertificate({ commonName: 'backend', keyType: 'ec' });
  secure = createServer({ cert: pair.certPem, key: pair.keyPem }, (req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`tls backend saw ${req.url}`);
  }).listen({ host: '127.51.8.13', port: 0 });
  await once(secure, 'listening');
  const svcs = [service('app'), service('failing'), service('error-pages'), service('secure', [{ port: 443 }]), service('empty')];
  const [appSvc, failingSvc, errorSvc, secureSvc] = svcs;
  const securePort = (secure.address() as AddressInfo).port;
  ctl = await startController(CONTROLLER, {
    ingresses: [
      ingress('allow', [rule('allow.example', path('/', 'app'))], { annotations: { 'whitelist-source-range': '127.51.8.100/32,10.0.0.0/8' } }),
      ingress('denied', [rule('denied.example', path('/', 'app'))], { annotations: { 'whitelist-source-range': 'not-a-cidr' } }),
      ingress('errors-builtin', [rule('builtin.example', path('/', 'failing'))], { annotations: { 'custom-http-errors': '500,503' } }),
      ingress('errors-custom', [rule('custom.example', path('/', 'failing'), path('/empty', 'empty'))], {
        annotations: { 'custom-http-errors': '500', 'default-backend': 'error-pages' },
      }),
      ingress('tls-backend', [rule('secure.example', path('/', 'secure', 443))], { annotations: { 'backend-protocol': 'HTTPS' } }),
    ],
    services: svcs,
    endpoints: [
      endpoints(appSvc!, [{ ip: app.ip, port: app.port }]),
      endpoints(failingSvc!, [{ ip: failing.ip, port: failing.port }]),
      endpoints(errorSvc!, [{ ip: errors.ip, port: errors.port }]),
      endpoints(secureSvc!, [{ ip: '127.51.8.13', port: securePort }]),
    ],
  });
});

afterAll(async () => {
  await ctl?.stop();
  await Promise.all([app, failing, errors].map((b) => b?.close()));
  secure?.close();
});

describe('whitelist-source-range', () => {
  it('lets listed clients through and answers 403 to others', async () => {
    expect((await send(`${ctl.http}/`, { host: 'allow.example', localAddress: '127.51.8.100' })).status).toBe(200);
    const denied = await send(`${ctl.http}/`, { host: 'allow.example', localAddress: '127.51.8.101' });
    expect(denied.status).toBe(403);
    expect(denied.body).toContain('403 Forbidden');
  });

  it('answers 503 for every request when the range is invalid (location denied)', async () => {
    expect((await send(`${ctl.http}/`, { host: 'denied.example' })).status).toBe(503);
  });
});

describe('custom-http-errors', () => {
  it("replaces a listed error with the built-in default backend's 404 page", async () => {
    const r = await send(`${ctl.http}/x`, { host: 'builtin.example' });
    expect(r.status).toBe(404);
    expect(r.body).toContain('404 Not Found');
  });

  it('asks the default-backend Service for the error page with X-Code and the original URI', async () => {
    const r = await send(`${ctl.http}/broken?x=1`, { host: 'custom.example', headers: { accept: 'text/html' } });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ name: 'error-pages', method: 'GET', url: '/' });
    expect(r.json?.headers).toMatchObject({
      'x-code': '500',
      'x-format': 'text/html',
      'x-original-uri': '/broken?x=1',
      'x-namespace': 'default',
      'x-ingress-name': 'errors-custom',
      'x-service-name': 'failing',
      'x-service-port': '80',
    });
  });

  it('sends requests for a Service without endpoints to the default-backend with X-Code 503', async () => {
    const r = await send(`${ctl.http}/empty/page`, { host: 'custom.example' });
    expect(r.json).toMatchObject({ name: 'error-pages', url: '/empty/page' });
    expect(r.json?.headers['x-code']).toBe('503');
  });
});

describe('backend-protocol', () => {
  it('speaks TLS to the endpoints with HTTPS, without verifying their certificate', async () => {
    const r = await send(`${ctl.http}/hello`, { host: 'secure.example' });
    expect(r).toMatchObject({ status: 200, body: 'tls backend saw /hello' });
  });
});
