import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';

// The orders example (examples/orders) with both services as local processes, 3 replicas each.
const EXAMPLE = resolve(import.meta.dirname, '../../examples/orders');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the example app's JSON answers, read field by field by the assertions
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  return new Promise((done, fail) => {
    // agent: false: a new connection per request, so the LB and kube-proxy choose again.
    const req = request(url, { headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => done({ status: res.statusCode ?? 0, body: text.startsWith('{') ? JSON.parse(text) : text }));
    });
    req.on('error', fail);
    req.end();
  });
}

/** Running, as ps shows it: a zombie waiting for a parent that does not reap it counts as gone. */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the orders example as local processes', () => {
  let cluster: Cluster;
  const pids = new Set<number>();

  beforeAll(async () => {
    cluster = await startCluster({
      files: `${EXAMPLE}/k8s`,
      configFile: `${EXAMPLE}/aks-emu.yaml`,
      config: { addresses: addressBlock(18) },
      timeScale: 0.1,
      waitTimeoutMs: 60_000,
    });
    expect(cluster.serving()).toBe(true);
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('runs each replica as its own process, chosen as the process kind', () => {
    const pods = cluster.snapshot.pods.filter((p) => p.labels.app === 'front' || p.labels.app === 'back');
    expect(pods).toHaveLength(6);
    for (const p of pods) {
      expect(p.runtime.kind).toBe('process');
      expect(p.containerStatuses?.[0]).toMatchObject({ restartCount: 0, ready: true, state: { running: expect.anything() } });
      pids.add(p.containerStatuses![0]!.pid!);
    }
    expect(pids.size).toBe(6);
    expect(cluster.snapshot.pods.filter((p) => p.runtime.kind === 'ingress-controller')).toHaveLength(2);
  });

  it('serves through the public LB: three front processes, each calling back by its Service name', async () => {
    const fronts = new Set<number>();
    const backs = new Set<number>();
    for (let i = 0; i < 9; i++) {
      const { status, body } = await get(cluster.service('front').url());
      expect(status, JSON.stringify(body)).toBe(200);
      fronts.add(body.pid);
      backs.add(body.back.pid);
      expect(pids.has(body.pid) && pids.has(body.back.pid)).toBe(true);
    }
    expect(fronts.size).toBe(3);
    expect(backs.size).toBe(3);
  });

  it('serves through the Ingress on the controller frontend', async () => {
    const controller = cluster.service('ingress-nginx-controller', 'ingress-nginx');
    const { status, body } = await get(`http://${controller.loadBalancerIP}/orders`, { host: 'orders.example.com' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ service: 'front', path: '/orders', back: { service: 'back' } });
  });

  it('serves the back service on its internal LB frontend', async () => {
    const { status, body } = await get(cluster.service('back-internal').url());
    expect(status).toBe(200);
    expect(body.service).toBe('back');
  });

  it('gives a process the environment Kubernetes gives a container', async () => {
    const back = cluster.service('back');
    const { body } = await get(`${cluster.service('back-internal').url()}env`);
    const pod = cluster.pod(body.HOSTNAME);
    expect(body).toMatchObject({
      HOSTNAME: pod.name,
      POD_IP: pod.ip,
      POD_NAMESPACE: 'default',
      GREETING: 'hello from a ConfigMap',
      CFG_GREETING: 'hello from a ConfigMap',
      CFG_LOG_LEVEL: 'info',
      API_TOKEN: 's3cret',
      // The mapping's env wins over the manifest's.
      LOG_LEVEL: 'debug',
      BACK_SERVICE_HOST: back.clusterIP,
      BACK_SERVICE_PORT: '8080',
      BACK_SERVICE_PORT_HTTP: '8080',
      BACK_PORT: `tcp://${back.clusterIP}:8080`,
      BACK_PORT_8080_TCP: `tcp://${back.clusterIP}:8080`,
      BACK_PORT_8080_TCP_ADDR: back.clusterIP,
      BACK_PORT_8080_TCP_PORT: '8080',
      BACK_PORT_8080_TCP_PROTO: 'tcp',
      FRONT_SERVICE_HOST: cluster.service('front').clusterIP,
    });
    expect(Number(body.PORT)).toBeGreaterThan(0);
    expect(body.PORT).not.toBe('8080');
  });

  it('keeps each pod’s output and restarts a killed one with RESTARTS incremented', async () => {
    const pod = cluster.pods({ app: 'back' })[0]!;
    const before = pod.containerStatuses![0]!.pid!;
    expect(cluster.logs(pod.name)).toContain(`back listening on`);
    cluster.killPod(pod.name);
    await cluster.waitFor(
      (s) => {
        const p = s.pods.find((x) => x.name === pod.name);
        return p?.ready === true && p.containerStatuses?.[0]?.restartCount === 1 && 'running' in p.containerStatuses[0].state;
      },
      { timeoutMs: 30_000, what: 'the killed pod to run again' },
    );
    const after = cluster.pod(pod.name).containerStatuses![0]!;
    expect(after.pid).not.toBe(before);
    expect(after.lastState).toMatchObject({ terminated: { exitCode: 137, reason: 'Error' } });
    expect(alive(before)).toBe(false);
    expect(cluster.logs(pod.name, { previous: true })).toContain('back listening on');
    pids.add(after.pid!);
  });

  it('serves logs and kills through the API, following a pod across its restart', async () => {
    const pod = cluster.pods({ app: 'front' })[0]!;
    const base = `${cluster.adminUrl}/api/v1/namespaces/default/pods/${pod.name}/log`;
    expect(await (await fetch(base)).text()).toContain('front listening on');
    // The ingress controller's log is its access log (docs/observability.md), a built-in pod's own.
    const controller = await fetch(`${cluster.adminUrl}/api/v1/namespaces/ingress-nginx/pods/${cluster.pods({}, 'ingress-nginx')[0]!.name}/log`);
    expect([controller.status, controller.headers.get('content-type')]).toEqual([200, 'text/plain; charset=utf-8']);
    const followed = new AbortController();
    const stream = await fetch(`${base}?follow=true`, { signal: followed.signal });
    const reader = stream.body!.getReader();
    let text = new TextDecoder().decode((await reader.read()).value);
    const before = text.split('front listening on').length;
    const kill = await fetch(`${cluster.adminUrl}/aks-emu/v1/namespaces/default/pods/${pod.name}/kill`, { method: 'POST' });
    expect(kill.status).toBe(200);
    while (text.split('front listening on').length === before) text += new TextDecoder().decode((await reader.read()).value);
    followed.abort();
    await cluster.waitFor((s) => s.pods.find((p) => p.name === pod.name)?.ready === true, { timeoutMs: 30_000 });
    pids.add(cluster.pod(pod.name).containerStatuses![0]!.pid!);
    const previous = await fetch(`${base}?previous=true`);
    expect(await previous.text()).toContain('front listening on');
  });

  it('leaves no process behind after stop', async () => {
    await cluster.stop();
    await until(() => [...pids].every((pid) => !alive(pid)), 'every pod process to exit');
  });
});
