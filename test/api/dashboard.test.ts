import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/index.js';
import type { DashboardState } from '../../src/api/dashboard/model.js';
import { addressBlock } from '../helpers/addresses.js';
import { httpGet } from '../helpers/net.js';
import { SseStream, type SseEvent } from '../helpers/sse.js';
import { DASHBOARD_MANIFESTS, MARKUP_PATH } from '../helpers/dashboard-manifests.js';

const stateOf = (e: SseEvent): DashboardState | undefined => (e.event === 'state' ? (JSON.parse(e.data) as DashboardState) : undefined);

describe('the dashboard on the admin address', () => {
  let cluster: Cluster;
  let admin: string;

  beforeAll(async () => {
    cluster = await startCluster({ manifests: DASHBOARD_MANIFESTS, config: { addresses: addressBlock(22) }, timeScale: 0.02, seed: 3 });
    admin = cluster.adminUrl!;
  });
  afterAll(() => cluster?.stop());

  it('serves the page, its script and its style from this origin only, under a Content-Security-Policy', async () => {
    const page = await httpGet(`${admin}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    // Nothing from elsewhere, no inline script or handler.
    expect(page.body).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(page.body).not.toMatch(/<script>|<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+=/i);
    for (const [path, type] of [
      ['/dashboard/app.js', 'text/javascript; charset=utf-8'],
      ['/dashboard/style.css', 'text/css; charset=utf-8'],
    ] as const) {
      const res = await httpGet(`${admin}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers['content-type']).toBe(type);
      expect(res.headers['content-security-policy']).toBe(csp);
      expect(res.body).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    }
    // The script never writes markup: names reach the page as text.
    const script = await httpGet(`${admin}/dashboard/app.js`);
    expect(script.body).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });

  it('refuses other files, other methods and a bad interval with a Status naming what is wrong', async () => {
    const missing = await httpGet(`${admin}/dashboard/other.js`);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ kind: 'Status', code: 404 });
    const proto = await httpGet(`${admin}/dashboard/toString`);
    expect(proto.status).toBe(404);
    const post = await httpGet(`${admin}/aks-emu/v1/dashboard/events`, { method: 'POST' });
    expect(post.status).toBe(405);
    for (const bad of ['5', 'abc', '99999999', '-1']) {
      const res = await httpGet(`${admin}/aks-emu/v1/dashboard/events?interval=${bad}`);
      expect(res.status, bad).toBe(400);
      expect(JSON.parse(res.body).message).toMatch(/^interval: Invalid value/);
    }
    const head = await httpGet(`${admin}/dashboard`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('answers one state as JSON: the LB path, the ingress route and the faults', async () => {
    const res = await httpGet(`${admin}/aks-emu/v1/dashboard/state`);
    expect(res.status).toBe(200);
    const state = JSON.parse(res.body) as DashboardState;
    expect(state.kind).toBe('DashboardState');
    expect(state.snapshotVersion).toBe(cluster.snapshot.version);
    const web = cluster.service('web');
    expect(state.nodes.find((n) => n.kind === 'frontend' && n.label === web.loadBalancerIP)).toMatchObject({ faultTarget: 'frontend/default/web' });
    expect(state.nodes.filter((n) => n.kind === 'node').map((n) => n.label)).toEqual(cluster.nodes.map((n) => n.name));
    const route = state.nodes.find((n) => n.id === 'route:ingress/default/shop')!;
    expect(route.detail).toBe(`shop.example.com${MARKUP_PATH}`);
    expect(state.edges.filter((e) => e.from === route.id).map((e) => e.to)).toEqual(['service:default/web-internal']);
    const controllerPods = cluster.snapshot.pods.filter((p) => p.runtime.kind === 'ingress-controller');
    expect(controllerPods.length).toBeGreaterThan(0);
    for (const p of controllerPods) expect(state.edges.some((e) => e.from === `pod:${p.namespace}/${p.name}` && e.to === route.id)).toBe(true);
    const httpRoute = state.nodes.find((n) => n.id === 'route:httproute/default/shop-route')!;
    expect(httpRoute).toMatchObject({ label: 'shop-route', detail: 'route.example.com:80', faultTarget: 'httproute/default/shop-route' });
    expect(state.edges.filter((e) => e.from === httpRoute.id).map((e) => e.to)).toEqual(['service:default/web-internal']);
    const gatewayPods = cluster.snapshot.pods.filter((p) => p.runtime.kind === 'gateway');
    expect(gatewayPods.length).toBeGreaterThan(0);
    for (const p of gatewayPods) expect(state.edges.some((e) => e.from === `pod:${p.namespace}/${p.name}` && e.to === httpRoute.id)).toBe(true);
    expect(state.faultTypes.node).toContain('stop');
  });

  it('streams states as server-sent events: at once, then with traffic rates, then the change a node stop makes, without reconnecting', async () => {
    const { stream, response } = await SseStream.open(`${admin}/aks-emu/v1/dashboard/events?interval=200`);
    try {
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(response.headers['content-security-policy']).toContain("default-src 'none'");
      const first = await stream.next(stateOf);
      expect(stream.retry).toBe(2000);
      expect(first.intervalMs).toBe(0);
      const lb = cluster.snapshot.loadBalancers.find((l) => l.rules.some((r) => r.serviceKey === 'default/web'))!;
      const rule = lb.rules.find((r) => r.serviceKey === 'default/web')!;
      const ruleId = `rule:${lb.name}/${rule.name}`;
      const frontendEdge = `frontend:${lb.name}/${rule.frontendName}>${ruleId}`;

      // Traffic through the LB frontend shows as a rate on the frontend → rule edge.
      const url = cluster.service('web').url();
      let sending = true;
      const traffic = (async () => {
        while (sending) await httpGet(url).catch(() => undefined);
      })();
      const busy = await stream.next((e) => {
        const s = stateOf(e);
        const edge = s?.edges.find((x) => x.id === frontendEdge);
        return edge && (edge.rate ?? 0) > 0 ? edge : undefined;
      });
      expect(busy.total).toBeGreaterThan(0);
      sending = false;
      await traffic;

      // A node stopped through the API shows down in a later event on the same stream.
      const node = cluster.nodes[1]!.name;
      const seen = stream.events.length;
      const stop = await httpGet(`${admin}/aks-emu/v1/nodes/${node}/stop`, { method: 'POST' });
      expect(stop.status).toBe(200);
      // The node box goes down at once; the rule → node edge once the probes have failed numberOfProbes times.
      const after = await stream.next(
        (e) => {
          const s = stateOf(e);
          return s?.nodes.find((n) => n.id === `node:${node}`)?.status === 'down' && s.edges.find((x) => x.id === `${ruleId}>node:${node}`)?.status === 'down'
            ? s
            : undefined;
        },
        { after: seen },
      );
      expect(after.snapshotVersion).toBeGreaterThan(first.snapshotVersion);
      await httpGet(`${admin}/aks-emu/v1/nodes/${node}/start`, { method: 'POST' });
      expect(stream.ended).toBe(false);
    } finally {
      stream.close();
    }
  });

  it('counts a request through the ingress controller on its pod → Ingress → Service edges, and a request an abort fault resets as an error', async () => {
    const { stream } = await SseStream.open(`${admin}/aks-emu/v1/dashboard/events?interval=200`);
    try {
      const route = 'route:ingress/default/shop';
      const svcEdge = `${route}>service:default/web-internal`;
      const controllerEdges = cluster.snapshot.pods.filter((p) => p.runtime.kind === 'ingress-controller').map((p) => `pod:${p.namespace}/${p.name}>${route}`);
      expect(controllerEdges).toHaveLength(2);
      // Over both controller pods: whichever the LB picked counted the request.
      const sums = (s: DashboardState) => {
        const edges = s.edges.filter((e) => controllerEdges.includes(e.id));
        return { total: edges.reduce((a, e) => a + e.total!, 0), errors: edges.reduce((a, e) => a + e.errors!, 0) };
      };
      const first = await stream.next(stateOf);
      const before = sums(first);
      const beforeSvc = first.edges.find((e) => e.id === svcEdge)!.total!;
      // The Ingress' regex path holds markup; its "(1)" is a group, so "alert1" matches.
      const url = cluster.service('ingress-nginx-controller', 'ingress-nginx').url(80, '/%3Cimg%20src=x%20onerror=alert1%3E');
      const ok = await httpGet(url, { headers: { host: 'shop.example.com' } });
      expect(ok.status).toBe(200);
      const counted = await stream.next((e) => {
        const s = stateOf(e);
        return s && sums(s).total > before.total ? s : undefined;
      });
      expect(sums(counted)).toEqual({ total: before.total + 1, errors: before.errors });
      expect(counted.edges.find((e) => e.id === svcEdge)!.total).toBe(beforeSvc + 1);

      const added = await fetch(`${admin}/aks-emu/v1/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'abort', target: 'ingress/default/shop', params: { fraction: 1 } }),
      });
      expect(added.status).toBe(201);
      const fault = (await added.json()) as { id: string };
      try {
        // At timeScale 0.02 a loaded machine can miss a 100 ms probe, and the LB then resets a
        // new connection before any controller sees it: that reset is not the fault's. Try
        // again until the fault itself has fired, as the edge must count only that one.
        let reached = false;
        for (let attempt = 0; attempt < 5 && !reached; attempt++) {
          await expect(httpGet(url, { headers: { host: 'shop.example.com' } })).rejects.toThrow();
          reached = await cluster.waitForFault(fault.id, 1, { timeoutMs: 2_000 }).then(
            () => true,
            (err: Error) => (/timed out/.test(err.message) ? false : Promise.reject(err)),
          );
        }
        expect(reached).toBe(true);
        const aborted = await stream.next((e) => {
          const s = stateOf(e);
          return s && sums(s).errors > before.errors ? s : undefined;
        });
        expect(sums(aborted)).toEqual({ total: before.total + 2, errors: before.errors + 1 });
      } finally {
        await fetch(`${admin}/aks-emu/v1/faults/${fault.id}`, { method: 'DELETE' });
      }
    } finally {
      stream.close();
    }
  });

  it('counts requests through a Gateway on its pod → HTTPRoute → Service edges, and the 5xx a status fault answers as errors', async () => {
    const { stream } = await SseStream.open(`${admin}/aks-emu/v1/dashboard/events?interval=200`);
    try {
      const gwPod = cluster.snapshot.pods.find((p) => p.runtime.kind === 'gateway')!;
      const route = 'route:httproute/default/shop-route';
      const podEdge = `pod:${gwPod.namespace}/${gwPod.name}>${route}`;
      const svcEdge = `${route}>service:default/web-internal`;
      const first = await stream.next(stateOf);
      const before = first.edges.find((e) => e.id === podEdge)!;
      expect(before.total).toBeDefined();
      const url = cluster.gateway('gw').url(80, '/api');
      const ok = await httpGet(url, { headers: { host: 'route.example.com' } });
      expect(ok.status).toBe(200);
      const counted = await stream.next((e) => {
        const s = stateOf(e);
        const edge = s?.edges.find((x) => x.id === svcEdge);
        return s && edge && edge.total! > (first.edges.find((x) => x.id === svcEdge)!.total ?? 0) ? s : undefined;
      });
      expect(counted.edges.find((e) => e.id === podEdge)!.total).toBe(before.total! + 1);
      expect(counted.edges.find((e) => e.id === podEdge)!.errors).toBe(before.errors);

      const added = await fetch(`${admin}/aks-emu/v1/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'status', target: 'httproute/default/shop-route', params: { code: 503 } }),
      });
      expect(added.status).toBe(201);
      const fault = (await added.json()) as { id: string };
      try {
        expect((await httpGet(url, { headers: { host: 'route.example.com' } })).status).toBe(503);
        const failed = await stream.next((e) => {
          const edge = stateOf(e)?.edges.find((x) => x.id === podEdge);
          return edge && edge.errors! > (before.errors ?? 0) ? edge : undefined;
        });
        expect(failed.total).toBe(before.total! + 2);
        // The fault on the route marks the edge into it; the 503 counts as an error there.
        expect(failed.status).toBe('fault');
      } finally {
        await fetch(`${admin}/aks-emu/v1/faults/${fault.id}`, { method: 'DELETE' });
      }
    } finally {
      stream.close();
    }
  });

  it('streams the faults: one added through the API marks its hop and counts what it did; removed, it leaves the states that follow', async () => {
    const { stream } = await SseStream.open(`${admin}/aks-emu/v1/dashboard/events?interval=200`);
    try {
      const added = await fetch(`${admin}/aks-emu/v1/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'reset', target: 'service/default/web', params: { fraction: 1 } }),
      });
      expect(added.status).toBe(201);
      const fault = (await added.json()) as { id: string };
      const url = cluster.service('web').url();
      await expect(httpGet(url)).rejects.toThrow();
      const marked = await stream.next((e) => {
        const s = stateOf(e);
        return s?.faults.some((f) => f.id === fault.id && f.fired > 0) ? s : undefined;
      });
      expect(marked.nodes.find((n) => n.id === 'service:default/web')).toMatchObject({ status: 'fault', faults: [fault.id] });
      for (const n of cluster.nodes) expect(marked.edges.find((e) => e.id === `node:${n.name}>service:default/web`)!.status).toBe('fault');
      expect(marked.faultsAvailable).toBe(true);
      const seen = stream.events.length;
      expect((await fetch(`${admin}/aks-emu/v1/faults/${fault.id}`, { method: 'DELETE' })).status).toBe(200);
      const cleared = await stream.next(
        (e) => {
          const s = stateOf(e);
          return s && s.faults.length === 0 ? s : undefined;
        },
        { after: seen },
      );
      expect(cleared.nodes.find((n) => n.id === 'service:default/web')!.status).toBe('ok');
    } finally {
      stream.close();
    }
  });

  it('is shipped: the build copies the page files next to the compiled module that serves them', async () => {
    const root = new URL('../../', import.meta.url);
    const pkg = JSON.parse(await readFile(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string>; files: string[] };
    expect(pkg.files).toContain('dist');
    // `tsc -p tsconfig.build.json && <copy>`: run the copy step alone on a copy of src/api/dashboard.
    const [compile, copy] = pkg.scripts.build!.split(' && ');
    expect(compile).toBe('tsc -p tsconfig.build.json');
    const work = await mkdtemp(join(tmpdir(), 'aks-emu-dash-'));
    try {
      await cp(fileURLToPath(new URL('src/api/dashboard/', root)), join(work, 'src/api/dashboard'), { recursive: true });
      execFileSync('sh', ['-c', copy!], { cwd: work });
      const shipped = (await readdir(join(work, 'dist/api/dashboard/static'))).sort();
      expect(shipped).toEqual((await readdir(fileURLToPath(new URL('src/api/dashboard/static/', root)))).sort());
      expect(shipped).toEqual(['app.js', 'index.html', 'style.css']);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    // routes.ts (dist/api/dashboard/routes.js once built) reads ./static/ next to itself.
    expect(await readFile(new URL('src/api/dashboard/routes.ts', root), 'utf8')).toContain("new URL('./static/', import.meta.url)");
  });
});

describe('the dashboard where the admin API needs its token', () => {
  const token = 'dashboard-test-token-0123456789';
  let cluster: Cluster;
  let admin: string;

  beforeAll(async () => {
    cluster = await startCluster({ manifests: DASHBOARD_MANIFESTS, config: { addresses: addressBlock(23) }, nodes: 1, timeScale: 0.02, admin: { token } });
    admin = cluster.adminUrl!;
  });
  afterAll(() => cluster?.stop());

  it('serves the page files without the token (they hold no cluster data) and nothing else', async () => {
    for (const path of ['/dashboard', '/dashboard/', '/dashboard?interval=300', '/dashboard/app.js', '/dashboard/style.css']) {
      expect((await httpGet(`${admin}${path}`)).status, path).toBe(200);
    }
    for (const path of [
      '/aks-emu/v1/dashboard/state',
      '/aks-emu/v1/dashboard/events',
      '/dashboard/other.js',
      '/dashboard/%2e%2e/api/v1/pods',
      '/api/v1/pods',
    ]) {
      const res = await httpGet(`${admin}${path}`);
      expect(res.status, path).toBe(401);
      expect(JSON.parse(res.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized' });
    }
    // A wrong token is refused even on the page files.
    expect((await httpGet(`${admin}/dashboard`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
  });

  it('streams the state to a client that sends the token', async () => {
    const res = await httpGet(`${admin}/aks-emu/v1/dashboard/state`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect((JSON.parse(res.body) as DashboardState).nodes.filter((n) => n.kind === 'node')).toHaveLength(1);
  });
});
