/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core. Without
 * /usr/bin/chromium the file skips itself and says so, unless AKS_EMU_REQUIRE_BROWSER=1
 * (CI), where a missing browser fails it. Screenshots go to test-artifacts/dashboard/.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';
import { httpGet } from '../helpers/net.js';
import { DASHBOARD_MANIFESTS, MARKUP_PATH } from '../helpers/dashboard-manifests.js';

// What the functions given to page.evaluate use; they run in the page, and the project's tsconfig has no DOM library.
declare const document: {
  querySelectorAll(selector: string): { length: number };
  querySelector(selector: string): { classList: { contains(name: string): boolean }; getAttribute(name: string): string | null } | null;
};
declare const window: { marker?: number };
declare function getComputedStyle(element: unknown): { stroke: string };

const CHROMIUM = '/usr/bin/chromium';
const REQUIRED = process.env.AKS_EMU_REQUIRE_BROWSER === '1';
const AVAILABLE = existsSync(CHROMIUM);
const ARTIFACTS = new URL('../../test-artifacts/dashboard/', import.meta.url);
const RED = 'rgb(211, 47, 47)';

if (!AVAILABLE && !REQUIRED) {
  console.warn(
    `SKIPPED test/integration/dashboard-browser.test.ts: no ${CHROMIUM} (apt-get install -y chromium); AKS_EMU_REQUIRE_BROWSER=1 makes this a failure`,
  );
}

/** Connections through the LB frontend, one after another, until stopped; failures are part of what a fault does. */
function trafficTo(url: string): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) await httpGet(url, { timeoutMs: 2_000 }).catch(() => undefined);
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

describe.skipIf(!AVAILABLE && !REQUIRED)('the dashboard in chromium', () => {
  let cluster: Cluster;
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];
  const consoleErrors: string[] = [];
  const dialogs: string[] = [];

  const shot = async (name: string) => {
    await page.screenshot({ path: new URL(`${name}.png`, ARTIFACTS).pathname, fullPage: true });
  };
  const edge = (id: string) => page.locator(`g.edge[data-id="${id}"]`);
  const attr = async (id: string, name: string) => (await edge(id).getAttribute(name)) ?? '';
  const rate = async (id: string) => Number((await attr(id, 'data-rate')) || '0');
  /** The stroke colour the browser computes for the element `selector` finds (one drawing of it). */
  const stroke = (selector: string) =>
    page.evaluate((sel) => {
      const found = document.querySelector(sel);
      return found === null ? 'absent' : getComputedStyle(found).stroke;
    }, selector);
  const web = () => {
    const lb = cluster.snapshot.loadBalancers.find((l) => l.rules.some((r) => r.serviceKey === 'default/web'))!;
    const rule = lb.rules.find((r) => r.serviceKey === 'default/web')!;
    return `rule:${lb.name}/${rule.name}`;
  };

  beforeAll(async () => {
    if (!AVAILABLE) throw new Error(`AKS_EMU_REQUIRE_BROWSER=1 but ${CHROMIUM} is missing: apt-get install -y chromium`);
    await mkdir(ARTIFACTS, { recursive: true });
    cluster = await startCluster({ manifests: DASHBOARD_MANIFESTS, config: { addresses: addressBlock(22) }, timeScale: 0.02, seed: 5 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1800, height: 900 } });
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`${cluster.adminUrl}/dashboard?interval=250`);
    await page.locator('#conn[data-state="live"]').waitFor();
    await page.locator('g.node').first().waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  it('draws every node, Service, pod and the ingress route from the snapshot, with names as text and nothing loaded from elsewhere', async () => {
    const snapshot = cluster.snapshot;
    for (const n of snapshot.nodes) await expect(page.locator(`g.node[data-id="node:${n.name}"]`).count()).resolves.toBe(1);
    for (const s of snapshot.services) await expect(page.locator(`g.node[data-id="service:${s.namespace}/${s.name}"]`).count()).resolves.toBe(1);
    for (const p of snapshot.pods) await expect(page.locator(`g.node[data-id="pod:${p.namespace}/${p.name}"]`).count()).resolves.toBe(1);
    const frontends = snapshot.loadBalancers.flatMap((l) => l.frontends);
    await expect(page.locator('g.node[data-kind="frontend"]').count()).resolves.toBe(frontends.length);

    // The Ingress path holds markup: selecting the route shows it as text, and no element is made of it.
    await page.locator('g.node[data-id="route:ingress/default/shop"]').click();
    await expect(page.locator('#selected').textContent()).resolves.toContain(`shop.example.com${MARKUP_PATH}`);
    await expect(page.locator('g.node[data-id="route:ingress/default/shop"] title').textContent()).resolves.toContain(MARKUP_PATH);
    await expect(page.evaluate(() => document.querySelectorAll('img').length)).resolves.toBe(0);
    expect(dialogs).toEqual([]);
    const origin = new URL(cluster.adminUrl!).origin;
    expect(requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:'))).toEqual([]);
    expect(consoleErrors).toEqual([]);
    await shot('overview');
  });

  it('updates without a reload: traffic shows as rates on the LB edges and a stopped node turns down', async () => {
    await page.evaluate(() => (window.marker = 42));
    const rule = web();
    const traffic = trafficTo(cluster.service('web').url());
    try {
      const nodes = cluster.nodes.map((n) => n.name);
      await expect.poll(async () => (await Promise.all(nodes.map((n) => rate(`${rule}>node:${n}`)))).every((r) => r > 0), { timeout: 15_000 }).toBe(true);
      // Read from one drawing (the graph is redrawn on every event): an edge with traffic is drawn as active.
      const drawn = (id: string) =>
        page.evaluate((sel) => {
          const g = document.querySelector(sel);
          return g === null ? 'absent' : `rate>0:${Number(g.getAttribute('data-rate')) > 0} active:${g.classList.contains('active')}`;
        }, `g.edge[data-id="${id}"]`);
      await expect.poll(() => drawn(`${rule}>node:${nodes[0]}`), { timeout: 15_000 }).toBe('rate>0:true active:true');
      await shot('traffic');
      const node = nodes[2]!;
      expect((await httpGet(`${cluster.adminUrl}/aks-emu/v1/nodes/${node}/stop`, { method: 'POST' })).status).toBe(200);
      await expect.poll(() => page.locator(`g.node[data-id="node:${node}"]`).getAttribute('data-status'), { timeout: 15_000 }).toBe('down');
      await expect.poll(() => attr(`${rule}>node:${node}`, 'data-status'), { timeout: 15_000 }).toBe('down');
      await shot('node-stopped');
      expect((await httpGet(`${cluster.adminUrl}/aks-emu/v1/nodes/${node}/start`, { method: 'POST' })).status).toBe(200);
      await expect.poll(() => attr(`${rule}>node:${node}`, 'data-status'), { timeout: 15_000 }).toBe('ok');
    } finally {
      await traffic.stop();
    }
    await expect(page.evaluate(() => window.marker)).resolves.toBe(42);
  });

  it('adds a fault from the page: the edge into the node goes red and its traffic moves to the other nodes; removing it brings it back', async () => {
    const rule = web();
    const nodes = cluster.nodes.map((n) => n.name);
    const target = nodes[0]!;
    const others = nodes.slice(1);
    const traffic = trafficTo(cluster.service('web').url());
    try {
      await expect.poll(async () => (await Promise.all(nodes.map((n) => rate(`${rule}>node:${n}`)))).every((r) => r > 0), { timeout: 15_000 }).toBe(true);
      await shot('fault-before');

      // Clicking the node picks it as the target; the type list follows the target's kind.
      await page.locator(`g.node[data-id="node:${target}"]`).click();
      await expect(page.locator('#fault-target').inputValue()).resolves.toBe(`node/${target}`);
      await page.locator('#fault-type').selectOption('stop');
      await page.locator('#fault-add').click();
      await expect(page.locator('#fault-error').textContent()).resolves.toBe('');
      await page
        .locator('#fault-list li')
        .filter({ hasText: `node/${target}` })
        .waitFor();

      await expect.poll(() => attr(`${rule}>node:${target}`, 'data-status'), { timeout: 15_000 }).toBe('fault');
      // The page redraws the graph on every event: read the colour the browser computes from one drawing.
      await expect.poll(() => stroke(`g.edge[data-id="${rule}>node:${target}"] path`)).toBe(RED);
      await expect.poll(() => stroke(`g.node[data-id="node:${target}"] rect`)).toBe(RED);
      // The traffic moves: nothing more reaches the faulted node, the others carry it.
      await expect
        .poll(
          async () => ({
            faulted: await rate(`${rule}>node:${target}`),
            others: (await Promise.all(others.map((n) => rate(`${rule}>node:${n}`)))).every((r) => r > 0),
          }),
          {
            timeout: 15_000,
          },
        )
        .toEqual({ faulted: 0, others: true });
      await shot('fault-active');

      await page
        .locator('#fault-list li')
        .filter({ hasText: `node/${target}` })
        .locator('button.fault-remove')
        .click();
      await expect.poll(() => page.locator('#fault-list li').count(), { timeout: 10_000 }).toBe(0);
      await expect.poll(() => attr(`${rule}>node:${target}`, 'data-status'), { timeout: 15_000 }).not.toBe('fault');
      await expect.poll(() => rate(`${rule}>node:${target}`), { timeout: 20_000 }).toBeGreaterThan(0);
      await shot('fault-removed');
    } finally {
      await traffic.stop();
    }
  });

  it('shows the fault API refusal in the page and changes nothing', async () => {
    const before = await page.locator('#fault-list li').count();
    await page.locator('#fault-target').selectOption('service/default/web');
    await page.locator('#fault-type').selectOption('reset');
    await expect(page.locator('#fault-params').getAttribute('placeholder')).resolves.toBe('fraction=1');
    await expect(page.locator('#fault-type option').allTextContents()).resolves.toEqual([
      'latency',
      'bandwidth',
      'reset',
      'blackhole',
      'close-after',
      'idle-timeout',
      'snat-exhaustion',
    ]);
    await page.locator('#fault-params').fill('fraction=7');
    await page.locator('#fault-add').click();
    await expect.poll(() => page.locator('#fault-error').textContent()).toMatch(/fraction/);
    await expect(page.locator('#fault-list li').count()).resolves.toBe(before);
    expect((JSON.parse((await httpGet(`${cluster.adminUrl}/aks-emu/v1/faults`)).body) as { items: unknown[] }).items).toHaveLength(before);
    await page.locator('#fault-params').fill('fraction');
    await page.locator('#fault-add').click();
    await expect.poll(() => page.locator('#fault-error').textContent()).toBe('params: "fraction" is not key=value');
  });
});

describe.skipIf(!AVAILABLE && !REQUIRED)('the dashboard in chromium where the admin API needs its token', () => {
  const token = 'dashboard-browser-token-0123456789';
  let cluster: Cluster;
  let browser: Browser;

  beforeAll(async () => {
    if (!AVAILABLE) throw new Error(`AKS_EMU_REQUIRE_BROWSER=1 but ${CHROMIUM} is missing: apt-get install -y chromium`);
    await mkdir(ARTIFACTS, { recursive: true });
    cluster = await startCluster({ manifests: DASHBOARD_MANIFESTS, config: { addresses: addressBlock(23) }, nodes: 1, timeScale: 0.02, admin: { token } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  });
  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  it('asks for the token, refuses a wrong one, and draws the cluster once given the right one', async () => {
    const page = await browser.newPage({ viewport: { width: 1600, height: 700 } });
    await page.goto(`${cluster.adminUrl}/dashboard?interval=250`);
    await page.locator('#conn[data-state="unauthorized"]').waitFor();
    await expect(page.locator('#token-form').isVisible()).resolves.toBe(true);
    await expect(page.locator('g.node').count()).resolves.toBe(0);
    await page.locator('#token').fill('not-the-token');
    await page.locator('#token-connect').click();
    await expect.poll(() => page.locator('#conn').textContent()).toBe('the admin token was refused');
    await page.locator('#token').fill(token);
    await page.locator('#token-connect').click();
    await page.locator('#conn[data-state="live"]').waitFor();
    await page.locator(`g.node[data-id="node:${cluster.nodes[0]!.name}"]`).waitFor();
    await expect(page.locator('#token-form').isVisible()).resolves.toBe(false);
    await page.screenshot({ path: new URL('token.png', ARTIFACTS).pathname, fullPage: true });
  });
});
