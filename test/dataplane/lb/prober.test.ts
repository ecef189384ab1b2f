import { createServer, type Server } from 'node:net';

import { describe, expect, it } from 'vitest';

import type { DataPlane, ProbeTransition } from '../../../src/dataplane/index.js';
import { MAX_PROBES_PER_SECOND, MIN_PROBE_INTERVAL_MS, probeDelayMs } from '../../../src/dataplane/lb/prober.js';
import { FakeClock } from '../fake-clock.js';
import { FRONTEND_PORT, frontendIP, NODE_PORT, nodeAddress, webCluster, type WebInput } from '../factories.js';
import { useHarness } from '../harness.js';
import { hello, ProbeTargetServer, waitFor } from '../net-helpers.js';

const BLOCK = 32;
const PROBE_PORT = 31998;

const h = useHarness();

async function startPlane(
  probe: WebInput['probe'],
  settings?: WebInput['settings'],
): Promise<{ plane: DataPlane; clock: FakeClock; transitions: ProbeTransition[] }> {
  const clock = new FakeClock();
  const plane = await h.start(webCluster({ block: BLOCK, pods: [], probe, settings }).snapshot, { clock });
  const transitions: ProbeTransition[] = [];
  plane.on('probe', (t) => transitions.push(t));
  return { plane, clock, transitions };
}

async function probeTargets(): Promise<ProbeTargetServer[]> {
  const targets = await Promise.all([0, 1, 2].map((i) => ProbeTargetServer.start(nodeAddress(BLOCK, i), PROBE_PORT)));
  h.defer(async () => {
    for (const t of targets) await t.close();
  });
  return targets;
}

function node(name: string) {
  const status = h.plane.probeStatus().find((s) => s.node === name);
  if (status === undefined) throw new Error(`no probe status for ${name}`);
  return status;
}

async function round(clock: FakeClock, n: number, intervalMs = 5000): Promise<void> {
  clock.advance(intervalMs);
  await waitFor(() => h.plane.probeStatus().every((s) => s.probes >= n), `probe round ${n}`);
}

describe('LB prober', () => {
  it('starts every node of the backend pool unknown (reachable, not settled), before any probe', async () => {
    const { plane } = await startPlane({});
    expect(plane.probeStatus().map((s) => [s.node, s.state, s.settled, s.lastResult])).toEqual([
      ['node-0', 'up', false, 'none'],
      ['node-1', 'up', false, 'none'],
      ['node-2', 'up', false, 'none'],
    ]);
  });

  it('takes a node out after exactly numberOfProbes failed TCP probes and back after as many successes', async () => {
    const targets = await probeTargets();
    const { clock, transitions } = await startPlane({ protocol: 'Tcp', port: PROBE_PORT, numberOfProbes: 3 });
    await (targets[1] as ProbeTargetServer).close();

    await round(clock, 1);
    await round(clock, 2);
    expect(node('node-1')).toMatchObject({ state: 'up', consecutiveFailures: 2, lastResult: 'failure', lastDetail: 'ECONNREFUSED' });
    expect(transitions).toEqual([]);
    await round(clock, 3);
    expect(node('node-1')).toMatchObject({ state: 'down', consecutiveFailures: 3 });
    // The first settled state of node-1 is down: a transition from unknown; the others settle up without one.
    expect(transitions).toEqual([
      { loadBalancer: 'kubernetes', probe: 'a1b2c3-TCP-8080', node: 'node-1', state: 'down', from: 'unknown', detail: 'ECONNREFUSED', at: clock.now() },
    ]);
    expect(['node-0', 'node-1', 'node-2'].map((n) => node(n).settled)).toEqual([true, true, true]);
    await round(clock, 4);
    expect(transitions).toHaveLength(1);

    targets[1] = await ProbeTargetServer.start(nodeAddress(BLOCK, 1), PROBE_PORT);
    await round(clock, 5);
    await round(clock, 6);
    expect(node('node-1')).toMatchObject({ state: 'down', consecutiveSuccesses: 2 });
    await round(clock, 7);
    expect(node('node-1')).toMatchObject({ state: 'up', consecutiveSuccesses: 3, lastChange: clock.now() });
    expect(transitions.map((t) => [t.node, t.state, t.from])).toEqual([
      ['node-1', 'down', 'unknown'],
      ['node-1', 'up', 'down'],
    ]);
    expect(['node-0', 'node-2'].map((n) => node(n).state)).toEqual(['up', 'up']);
  });

  it('passes an HTTP probe only on status 200', async () => {
    const targets = await probeTargets();
    const { plane, clock, transitions } = await startPlane({ protocol: 'Http', port: PROBE_PORT, requestPath: '/healthz' });
    (targets[0] as ProbeTargetServer).status = 503;
    (targets[2] as ProbeTargetServer).status = 301;
    await round(clock, 1);
    await round(clock, 2);
    expect(plane.probeStatus().map((s) => [s.node, s.state, s.lastDetail])).toEqual([
      ['node-0', 'down', 'HTTP 503'],
      ['node-1', 'up', 'HTTP 200'],
      ['node-2', 'down', 'HTTP 301'],
    ]);
    expect(transitions.map((t) => t.node)).toEqual(['node-0', 'node-2']);
  });

  it('counts a probe still unanswered when the next is due as a failure', async () => {
    // It never answers; the prober's reset on giving up is all it sees of the attempt.
    const silent: Server = createServer((socket) => socket.on('error', () => {}));
    await new Promise<void>((resolve) => silent.listen(PROBE_PORT, nodeAddress(BLOCK, 0), resolve));
    h.defer(() => void silent.close());
    const { plane, clock } = await startPlane({ protocol: 'Http', port: PROBE_PORT, numberOfProbes: 2 });
    clock.advance(5000);
    await waitFor(
      () =>
        plane
          .probeStatus()
          .filter((s) => s.node !== 'node-0')
          .every((s) => s.probes >= 1),
      'the other nodes to answer',
    );
    expect(node('node-0').probes).toBe(0);
    clock.advance(5000);
    expect(node('node-0')).toMatchObject({ probes: 1, lastDetail: 'timed out' });
  });

  it('sends TCP probes on a NodePort through to a pod without moving the round robin or the counters users see', async () => {
    const cluster = webCluster({
      block: BLOCK,
      pods: [
        { node: 0, port: 9601 },
        { node: 1, port: 9601 },
        { node: 2, port: 9601 },
      ],
    });
    const pods = await h.pods(cluster.endpointPods);
    const clock = new FakeClock();
    const plane = await h.start(cluster.snapshot, { clock });
    await round(clock, 1);
    expect(node('node-0')).toMatchObject({ lastResult: 'success', lastDetail: 'TCP handshake completed' });
    await waitFor(() => pods.reduce((n, pod) => n + pod.sockets.length, 0) === 3, 'the three probes to reach pods');
    expect(plane.stats().servicePorts.every((s) => s.connections === 0)).toBe(true);

    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { pod, reader } = await hello(frontendIP(BLOCK), FRONTEND_PORT);
      reader.socket.destroy();
      seen.push(pod);
    }
    expect(seen).toEqual(['web-0-0', 'web-1-0', 'web-2-0']);
    expect(cluster.snapshot.loadBalancers[0]?.probes[0]?.port).toBe(NODE_PORT);
  });

  it('scales the probe interval by timeScale', async () => {
    await probeTargets();
    const { clock } = await startPlane({ port: PROBE_PORT }, { timeScale: 0.04 });
    await round(clock, 1, 200);
    expect(node('node-0').lastResult).toBe('success');
  });

  it('never probes more often than every 100 ms, however small the timeScale', async () => {
    await probeTargets();
    const { clock } = await startPlane({ port: PROBE_PORT }, { timeScale: 0.001 });
    clock.advance(99);
    expect(node('node-0').probes).toBe(0);
    await round(clock, 1, 1);
    expect(node('node-0').lastResult).toBe('success');
  });
});

describe('probe intervals at scale', () => {
  it('keeps the scaled interval and its floor while the targets stay under the rate limit', () => {
    expect(probeDelayMs(5, 1, 9)).toBe(5000);
    expect(probeDelayMs(5, 0.01, 9)).toBe(MIN_PROBE_INTERVAL_MS);
    expect(probeDelayMs(5, 0.01, 9, 3)).toBe(MIN_PROBE_INTERVAL_MS);
    expect(probeDelayMs(5, 1, MAX_PROBES_PER_SECOND * 5)).toBe(5000);
  });

  it('stretches every interval past MAX_PROBES_PER_SECOND and spreads first attempts within it', () => {
    const targets = 6500;
    const stretched = (targets * 1000) / MAX_PROBES_PER_SECOND;
    expect(probeDelayMs(5, 0.01, targets)).toBe(stretched);
    const firsts = Array.from({ length: 1000 }, (_, i) => probeDelayMs(5, 0.01, targets, i));
    for (const d of firsts) {
      expect(d).toBeGreaterThan(0);
      expect(d).toBeLessThanOrEqual(stretched);
    }
    // Evenly: each tenth of the interval gets about a tenth of the first attempts.
    for (let tenth = 0; tenth < 10; tenth++) {
      const n = firsts.filter((d) => d > (tenth * stretched) / 10 && d <= ((tenth + 1) * stretched) / 10).length;
      expect(n).toBeGreaterThan(80);
      expect(n).toBeLessThan(120);
    }
  });
});
