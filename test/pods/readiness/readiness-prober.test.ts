import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PodInfo } from '../../../src/cluster/snapshot.js';
import type { ProbeSpec } from '../../../src/model/types.js';
import { createEchoPod, ReadinessProber, type ProbeEvent, type PodRuntime, type ReadinessEvent } from '../../../src/pods/index.js';
import { FakeClock } from '../fake-clock.js';
import { container, pod } from '../pod-fixture.js';

let nextHost = 1;
function podIP(): string {
  return `127.41.2.${nextHost++}`;
}

let clock: FakeClock;
let prober: ReadinessProber;
let readiness: ReadinessEvent[];
const cleanups: (() => Promise<void> | void)[] = [];

beforeEach(() => {
  clock = new FakeClock();
  prober = new ReadinessProber({ clock, timeScale: 1 });
  readiness = [];
  prober.on('readiness', (e) => readiness.push(e));
});

afterEach(async () => {
  prober.stop();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function echoPod(info: PodInfo): Promise<PodRuntime> {
  const runtime = createEchoPod(info, { nodeName: info.nodeName });
  await runtime.start();
  cleanups.push(() => runtime.stop());
  return runtime;
}

async function listen<T extends Server>(server: T, host: string, port: number): Promise<T> {
  await new Promise<void>((resolve) => server.listen({ host, port }, resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return server;
}

/** Advances the clock and waits for the next n probe runs it caused. */
async function advanceUntilProbes(ms: number, n = 1): Promise<ProbeEvent[]> {
  const seen: ProbeEvent[] = [];
  const all = new Promise<void>((resolve) => {
    const onProbe = (e: ProbeEvent) => {
      seen.push(e);
      if (seen.length < n) return;
      prober.off('probe', onProbe);
      resolve();
    };
    prober.on('probe', onProbe);
  });
  clock.advance(ms);
  await all;
  return seen;
}

function webPod(ip: string, probe: Partial<ProbeSpec>, port = 20100): PodInfo {
  return pod('web-0', ip, [container('web', [{ name: 'http', containerPort: port }], probe)]);
}

const healthz = { httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' as const, httpHeaders: [] } };

describe('ReadinessProber', () => {
  it('keeps a pod NotReady through initialDelaySeconds and until successThreshold successes in a row', async () => {
    const ip = podIP();
    const info = webPod(ip, { ...healthz, initialDelaySeconds: 10, periodSeconds: 5, successThreshold: 2 });
    await echoPod(info);
    prober.watch(info);
    expect(clock.nextDue()).toBe(10_000);
    clock.advance(9_999);
    expect(clock.nextDue()).toBe(10_000);

    const [first] = await advanceUntilProbes(1);
    expect(first).toMatchObject({ podKey: 'shop/web-0', container: 'web', success: true });
    expect(readiness).toEqual([]);
    expect(prober.isReady('shop/web-0')).toBe(false);
    expect(clock.nextDue()).toBe(15_000);

    await advanceUntilProbes(5_000);
    expect(readiness).toEqual([{ podKey: 'shop/web-0', ready: true, reason: 'readiness probes succeeded' }]);
    expect(prober.isReady('shop/web-0')).toBe(true);
  });

  it('reports each transition once, not every probe run', async () => {
    const ip = podIP();
    const info = webPod(ip, { ...healthz, periodSeconds: 1 });
    await echoPod(info);
    prober.watch(info);
    await advanceUntilProbes(0);
    for (let i = 0; i < 4; i++) await advanceUntilProbes(1_000);
    expect(readiness.map((e) => e.ready)).toEqual([true]);
  });

  it('takes a Ready pod out after failureThreshold failures in a row and back after a success', async () => {
    const ip = podIP();
    const info = webPod(ip, { ...healthz, periodSeconds: 2, failureThreshold: 3 });
    const runtime = await echoPod(info);
    prober.watch(info);
    await advanceUntilProbes(0);
    expect(readiness.map((e) => e.ready)).toEqual([true]);

    runtime.setHealthy(false);
    await advanceUntilProbes(2_000);
    await advanceUntilProbes(2_000);
    expect(readiness.map((e) => e.ready)).toEqual([true]);
    const [third] = await advanceUntilProbes(2_000);
    expect(third?.message).toBe('HTTP probe failed with statuscode: 503');
    expect(readiness[1]).toEqual({
      podKey: 'shop/web-0',
      ready: false,
      reason: 'container "web": Readiness probe failed: HTTP probe failed with statuscode: 503',
    });

    runtime.setHealthy(true);
    await advanceUntilProbes(2_000);
    expect(readiness.map((e) => e.ready)).toEqual([true, false, true]);
  });

  it('fails a probe that gets no answer within timeoutSeconds', async () => {
    const ip = podIP();
    const accepted: Socket[] = [];
    const silent = await listen(
      createServer((s) => accepted.push(s)),
      ip,
      20101,
    );
    cleanups.push(() => accepted.forEach((s) => s.destroy()));
    const info = webPod(ip, { ...healthz, timeoutSeconds: 2, periodSeconds: 10 }, 20101);
    prober.watch(info);
    clock.advance(0);
    while (accepted.length === 0) await once(silent, 'connection');

    const [run] = await advanceUntilProbes(2_000);
    expect(run).toMatchObject({
      success: false,
      message: `Get "http://${ip}:20101/healthz": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
    });
    expect(clock.nextDue()).toBe(10_000);
    expect(readiness).toEqual([]);
  });

  it('scales every probe duration by timeScale', () => {
    const scaled = new ReadinessProber({ clock, timeScale: 0.01 });
    scaled.watch(webPod(podIP(), { ...healthz, initialDelaySeconds: 30 }));
    expect(clock.nextDue()).toBe(300);
    scaled.stop();
  });

  it('resolves named probe ports against the container and fails a name it does not declare', async () => {
    const ip = podIP();
    const info = pod('api-0', ip, [
      container('api', [{ name: 'admin', containerPort: 20102 }], { httpGet: { path: '/readyz', port: 'admin', scheme: 'HTTP', httpHeaders: [] } }),
      container('sidecar', [], { tcpSocket: { port: 'admin' } }),
    ]);
    await echoPod(info);
    prober.watch(info);
    const runs = await advanceUntilProbes(0, 2);
    expect(runs.map((r) => [r.container, r.success, r.message]).sort()).toEqual([
      ['api', true, 'HTTP probe succeeded with statuscode: 200'],
      ['sidecar', false, 'port admin not found'],
    ]);
    expect(readiness).toEqual([]);
  });

  it('passes a tcpSocket probe once the port accepts connections, and only then makes a two-container pod Ready', async () => {
    const ip = podIP();
    const info = pod('db-0', ip, [
      container('web', [{ name: 'http', containerPort: 20103 }], { ...healthz, periodSeconds: 5 }),
      container('db', [], { tcpSocket: { port: 20104 }, periodSeconds: 5 }),
    ]);
    await echoPod(pod('db-0', ip, [container('web', [{ name: 'http', containerPort: 20103 }])]));
    prober.watch(info);
    const first = await advanceUntilProbes(0, 2);
    expect(first.find((r) => r.container === 'db')?.message).toBe(`dial tcp ${ip}:20104: connect: connection refused`);
    expect(readiness).toEqual([]);

    await listen(
      createServer((s) => s.destroy()),
      ip,
      20104,
    );
    const second = await advanceUntilProbes(5_000, 2);
    expect(second.every((r) => r.success)).toBe(true);
    expect(readiness.map((e) => e.ready)).toEqual([true]);
  });

  it('sends the probe’s headers with kubelet’s defaults, from the configured source address', async () => {
    const ip = podIP();
    const seen: { headers: IncomingHttpHeaders; from: string | undefined }[] = [];
    await listen(
      createHttpServer((req, res) => {
        seen.push({ headers: req.headers, from: req.socket.remoteAddress });
        res.writeHead(302, { Location: '/elsewhere' }).end();
      }),
      ip,
      20105,
    );
    const sourced = new ReadinessProber({ clock, timeScale: 1, sourceAddress: () => '127.41.2.250' });
    cleanups.push(() => sourced.stop());
    sourced.watch(
      webPod(ip, {
        httpGet: {
          path: '/ready',
          port: 20105,
          scheme: 'HTTP',
          httpHeaders: [
            { name: 'X-Probe', value: 'yes' },
            { name: 'Accept', value: 'application/json' },
          ],
        },
      }),
    );
    const ready = once(sourced, 'readiness');
    clock.advance(0);
    expect(await ready).toEqual([{ podKey: 'shop/web-0', ready: true, reason: 'readiness probes succeeded' }]);
    expect(seen[0]?.from).toBe('127.41.2.250');
    expect(seen[0]?.headers).toMatchObject({
      'user-agent': 'kube-probe/1.31',
      accept: 'application/json',
      'x-probe': 'yes',
      connection: 'close',
    });
  });

  it('makes a pod without readiness probes Ready at once, and probes nothing for a Pending pod', () => {
    prober.watch(pod('plain-0', podIP(), [container('plain', [{ containerPort: 20106 }])]));
    prober.watch({ ...webPod(podIP(), healthz, 20107), name: 'pending-0', phase: 'Pending' });
    expect(readiness).toEqual([{ podKey: 'shop/plain-0', ready: true, reason: 'no container has a readinessProbe' }]);
    expect(clock.pending).toBe(0);
  });

  it('treats exec and grpc probes as passing and says so once per container', () => {
    const notices: string[] = [];
    prober.on('notice', (line) => notices.push(line));
    const info = pod('worker-0', podIP(), [container('worker', [], { exec: { command: ['cat', '/tmp/ready'] }, initialDelaySeconds: 1 })]);
    prober.watch(info);
    prober.watch({ ...info, uid: 'uid-worker-0-restarted' });
    clock.advance(1_000);
    expect(notices).toEqual(['pod shop/worker-0 container "worker": exec readiness probes cannot run against the built-in echo pod; treated as passing']);
    expect(readiness.map((e) => e.ready)).toEqual([true]);
  });

  it('keeps probing undisturbed when a pod is watched again with only new labels', async () => {
    const ip = podIP();
    const info = webPod(ip, { ...healthz, periodSeconds: 5 });
    await echoPod(info);
    prober.watch(info);
    await advanceUntilProbes(0);
    prober.watch({ ...info, labels: { app: 'web', track: 'canary' } });
    expect(clock.nextDue()).toBe(5_000);
    expect(readiness.map((e) => e.ready)).toEqual([true]);
  });

  it('restarts NotReady when the watched pod is replaced by a new one of the same name', async () => {
    const ip = podIP();
    const info = webPod(ip, { ...healthz, initialDelaySeconds: 3 });
    await echoPod(info);
    prober.watch(info);
    await advanceUntilProbes(3_000);
    prober.watch({ ...info, uid: 'uid-web-0-second' });
    expect(readiness.map((e) => e.ready)).toEqual([true, false]);
    expect(clock.nextDue()).toBe(6_000);
  });

  it('stops every timer and in-flight probe on unwatch', async () => {
    const ip = podIP();
    const accepted: Socket[] = [];
    const silent = await listen(
      createServer((s) => accepted.push(s)),
      ip,
      20108,
    );
    cleanups.push(() => accepted.forEach((s) => s.destroy()));
    let runs = 0;
    prober.on('probe', () => runs++);
    prober.watch(webPod(ip, healthz, 20108));
    clock.advance(0);
    while (accepted.length === 0) await once(silent, 'connection');
    prober.unwatch('shop/web-0');
    expect(clock.pending).toBe(0);
    clock.advance(60_000);
    expect(runs).toBe(0);
    expect(prober.isReady('shop/web-0')).toBeUndefined();
  });
});
