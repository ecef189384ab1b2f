/**
 * The controller pod runtime (src/pods/ingress-controller.ts): listeners, health, router
 * swaps. Addresses: 127.51.7.0/24.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AksEmuError } from '../../../src/errors/index.js';
import { controllerListeners, createIngressControllerPod } from '../../../src/pods/ingress-controller.js';
import { startBackend, send, type Backend } from '../../fixtures/ingress/backends.js';
import { controllerPod, endpoints, ingress, path, rule, service } from '../../fixtures/ingress/factory.js';
import { startController, type ControllerHarness } from '../../fixtures/ingress/harness.js';

const CONTROLLER = '127.51.7.1';

let ctl: ControllerHarness;
let one: Backend;
let two: Backend;

beforeAll(async () => {
  one = await startBackend('one', '127.51.7.10');
  two = await startBackend('two', '127.51.7.11');
  ctl = await startController(CONTROLLER, { ingresses: [] });
});

afterAll(async () => {
  await ctl?.stop();
  await Promise.all([one?.close(), two?.close()]);
});

function route(to: Backend): void {
  const svc = service('app');
  ctl.setInput({
    ingresses: [ingress('app', [rule('app.example', path('/', 'app'))])],
    services: [svc],
    endpoints: [endpoints(svc, [{ ip: to.ip, port: to.port }])],
  });
}

describe('health', () => {
  it('answers /healthz on :10254 while healthy and 503 when made unhealthy', async () => {
    const ok = await send(ctl.health);
    expect(ok).toMatchObject({ status: 200, body: 'ok' });
    ctl.pod.setHealthy(false);
    try {
      expect((await send(ctl.health)).status).toBe(503);
    } finally {
      ctl.pod.setHealthy(true);
    }
    expect((await send(`http://${CONTROLLER}:10254/other`)).status).toBe(404);
  });

  it("answers the cloud load balancer's /healthz on the default server of the HTTP port", async () => {
    const r = await send(`${ctl.http}/healthz`, { host: '10.224.0.4' });
    expect(r.status).toBe(200);
    expect(r.body).toBe('');
  });
});

describe('listeners', () => {
  it('binds the ports the container declares, by name or well-known number, plus :10254', () => {
    expect(
      controllerListeners(
        controllerPod('127.0.0.1', [
          { name: 'http', containerPort: 8080 },
          { name: 'https', containerPort: 8443 },
        ]),
      ),
    ).toEqual([
      { port: 8080, kind: 'http' },
      { port: 8443, kind: 'https' },
      { port: 10254, kind: 'health' },
    ]);
    expect(controllerListeners(controllerPod('127.0.0.1', [])).map((l) => l.port)).toEqual([80, 443, 10254]);
  });

  it('fails to start with AKS_EMU_ADDRESS_IN_USE when a port is taken, and binds nothing', async () => {
    const blocker = createServer().listen({ host: '127.51.7.2', port: 10254 });
    await once(blocker, 'listening');
    const pod = createIngressControllerPod(controllerPod('127.51.7.2', [{ name: 'http', containerPort: 8080 }]), {
      getRouter: () => ctl.router,
      nodeName: 'n',
    });
    try {
      const err = await pod.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(AksEmuError);
      expect((err as AksEmuError).code).toBe('AKS_EMU_ADDRESS_IN_USE');
      const probe = createServer().listen({ host: '127.51.7.2', port: 8080 });
      await once(probe, 'listening');
      probe.close();
    } finally {
      blocker.close();
    }
  });
});

describe('router swaps', () => {
  it('applies a new router to the next request', async () => {
    route(one);
    expect((await send(`${ctl.http}/`, { host: 'app.example' })).json?.name).toBe('one');
    route(two);
    expect((await send(`${ctl.http}/`, { host: 'app.example' })).json?.name).toBe('two');
  });
});
