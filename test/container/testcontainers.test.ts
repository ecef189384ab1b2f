import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { AksEmuContainer, type StartedAksEmuContainer } from '../../src/testcontainers/index.js';
import { echo, httpGet } from '../helpers/net.js';
import { ensureAppImage } from './app-image.js';
import { describeWithDocker } from './docker-available.js';

process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';

const store = fileURLToPath(new URL('../../examples/store', import.meta.url));

describeWithDocker('the testcontainers module (AksEmuContainer)', () => {
  let aks: StartedAksEmuContainer | undefined;

  beforeAll(async () => {
    const image = await ensureAppImage();
    aks = await new AksEmuContainer(image).withManifests(store).withTimeScale(0.05).start();
  }, 300_000);

  afterAll(async () => {
    await aks?.stop({ timeout: 2_000 });
  });

  it('starts the bundled example and reaches its public frontend from the host', async () => {
    const body = await echo(`${aks!.getFrontendUrl('store-front')}/`);
    expect(body.pod).toMatch(/^store-front-/);
  });

  it('serves the admin API the CLI reads', async () => {
    expect((await httpGet(`${aks!.getAdminUrl()}/api/v1/namespaces/default/services`)).status).toBe(401);
    const res = await httpGet(`${aks!.getAdminUrl()}/api/v1/namespaces/default/services`, { headers: { authorization: `Bearer ${aks!.getAdminToken()}` } });
    const names = (JSON.parse(res.body) as { items: { metadata: { name: string } }[] }).items.map((s) => s.metadata.name);
    expect(names).toEqual(expect.arrayContaining(['store-front', 'order-service', 'product-service', 'rabbitmq']));
  });

  it('says which Service holds a port another frontend cannot be published on', () => {
    expect(() => aks!.getFrontendUrl('ingress-nginx-controller', 80, 'ingress-nginx')).toThrow(/default\/store-front has that port/);
    expect(aks!.getFrontendUrl('ingress-nginx-controller', 443, 'ingress-nginx')).toMatch(/^http:\/\/localhost:\d+$/);
  });
});

const orders = fileURLToPath(new URL('../../examples/orders', import.meta.url));

describeWithDocker('the testcontainers module with workloads (processes inside the container)', () => {
  let aks: StartedAksEmuContainer | undefined;

  beforeAll(async () => {
    const image = await ensureAppImage();
    // The image runs built JavaScript with its own Node.js: compile the example's two services first.
    for (const app of ['front', 'back']) execFileSync('npx', ['tsc', '-p', `${orders}/${app}`], { stdio: 'pipe' });
    aks = await new AksEmuContainer(image)
      .withManifests(`${orders}/k8s`)
      .withWorkload({ image: 'contoso/orders-front*', command: ['node', 'dist/server.js'], hostDir: `${orders}/front` })
      .withWorkload({ image: 'contoso/orders-back*', command: ['node', 'dist/server.js'], hostDir: `${orders}/back` })
      .withTimeScale(0.05)
      .start();
  }, 300_000);

  afterAll(async () => {
    await aks?.stop({ timeout: 2_000 });
  });

  it('serves the example through its LB frontend with the processes: front calls back by name', async () => {
    const res = await httpGet(`${aks!.getFrontendUrl('front')}/`);
    const body = JSON.parse(res.body) as { service: string; pod: string; back: { service: string; pod: string } };
    expect(body).toMatchObject({ service: 'front', back: { service: 'back' } });
    expect(body.pod).toMatch(/^front-/);
    expect(body.back.pod).toMatch(/^back-/);
  });
});
