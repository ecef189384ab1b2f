import { describe, expect, it } from 'vitest';

import type { DataPlane } from '../../../src/dataplane/index.js';
import { FakeClock } from '../fake-clock.js';
import { FRONTEND_PORT, frontendIP, LB, nodeAddress, outsideClient, RULE, webCluster, type WebInput } from '../factories.js';
import { useHarness } from '../harness.js';
import { failure, hello, ProbeTargetServer, waitFor } from '../net-helpers.js';

const BLOCK = 31;
const FRONTEND = frontendIP(BLOCK);
const PROBE_PORT = 31999;
const HTTP_PROBE = { protocol: 'Http', port: PROBE_PORT, requestPath: '/healthz' } as const;

const h = useHarness();

async function start(input: Omit<WebInput, 'block'>, clock = new FakeClock()): Promise<DataPlane> {
  const cluster = webCluster({ block: BLOCK, ...input });
  await h.pods(cluster.endpointPods);
  return h.start(cluster.snapshot, { clock });
}

function ruleStats() {
  const stats = h.plane.stats().rules.find((r) => r.loadBalancer === LB && r.rule === RULE);
  if (stats === undefined) throw new Error('no stats for the rule');
  return stats;
}

async function greetPod(localAddress?: string): Promise<string> {
  const { pod, reader } = await hello(FRONTEND, FRONTEND_PORT, localAddress);
  reader.socket.destroy();
  return pod;
}

async function startProbeTargets(): Promise<ProbeTargetServer[]> {
  const targets = await Promise.all([0, 1, 2].map((i) => ProbeTargetServer.start(nodeAddress(BLOCK, i), PROBE_PORT)));
  for (const target of targets) h.defer(() => target.close());
  return targets;
}

/** One probe round: move the clock one interval and wait until every node has its result. */
async function probeRound(clock: FakeClock, round: number): Promise<void> {
  clock.advance(5000);
  await waitFor(() => h.plane.probeStatus().every((s) => s.probes >= round), `probe round ${round}`);
}

describe('LB frontend', () => {
  it('spreads connections round robin over the nodes and the pods: every three in a row reach three pods', async () => {
    await start({
      pods: [
        { node: 0, port: 9001 },
        { node: 1, port: 9001 },
        { node: 2, port: 9001 },
      ],
      probe: null,
    });
    const seen: string[] = [];
    for (let i = 0; i < 9; i++) seen.push(await greetPod());
    for (let i = 0; i < 9; i += 3) expect(new Set(seen.slice(i, i + 3)).size).toBe(3);
    expect(ruleStats().nodePicks).toEqual({ 'node-0': 3, 'node-1': 3, 'node-2': 3 });
  });

  it('keeps every connection of a client IP on one node with source-ip distribution', async () => {
    await start({
      pods: [
        { node: 0, port: 9002 },
        { node: 1, port: 9002 },
      ],
      probe: null,
      rule: { distribution: 'source-ip' },
    });
    for (let i = 0; i < 6; i++) await greetPod(outsideClient(BLOCK, 1));
    expect(Object.values(ruleStats().nodePicks)).toEqual([6]);
    for (let k = 2; k < 22; k++) await greetPod(outsideClient(BLOCK, k));
    expect(Object.keys(ruleStats().nodePicks).length).toBeGreaterThan(1);
  });

  it('keeps every connection of a client IP on one node with source-ip-protocol distribution', async () => {
    await start({ pods: [{ node: 0, port: 9003 }], probe: null, rule: { distribution: 'source-ip-protocol' } });
    for (let i = 0; i < 6; i++) await greetPod(outsideClient(BLOCK, 7));
    expect(Object.values(ruleStats().nodePicks)).toEqual([6]);
  });

  it('resets new connections at once when no node of the pool is healthy', async () => {
    const targets = await startProbeTargets();
    const clock = new FakeClock();
    const p = await start({ pods: [{ node: 0, port: 9004 }], probe: HTTP_PROBE }, clock);
    for (const target of targets) target.status = 503;
    await probeRound(clock, 1);
    await probeRound(clock, 2);
    expect(p.probeStatus().map((s) => s.state)).toEqual(['down', 'down', 'down']);
    expect(await failure(FRONTEND, FRONTEND_PORT)).toBe('ECONNRESET');
    expect(ruleStats().noHealthyBackend).toBe(1);
  });

  it('lets an established connection keep flowing after its node is probed down, and sends new ones elsewhere', async () => {
    const targets = await startProbeTargets();
    const clock = new FakeClock();
    const p = await start(
      {
        pods: [
          { node: 0, port: 9005 },
          { node: 1, port: 9005 },
        ],
        probe: HTTP_PROBE,
      },
      clock,
    );
    const first = await hello(FRONTEND, FRONTEND_PORT);
    expect(ruleStats().nodePicks).toEqual({ 'node-0': 1 });
    (targets[0] as ProbeTargetServer).status = 500;
    await probeRound(clock, 1);
    await probeRound(clock, 2);
    expect(p.probeStatus().find((s) => s.node === 'node-0')?.state).toBe('down');

    first.reader.socket.write('still here\n');
    await first.reader.until((r) => r.text.includes('still here'), 'the echo on the old flow');
    for (let i = 0; i < 4; i++) await greetPod();
    expect(ruleStats().nodePicks).toEqual({ 'node-0': 1, 'node-1': 2, 'node-2': 2 });
    first.reader.socket.destroy();
  });

  it('resets clients outside loadBalancerSourceRanges and serves those inside', async () => {
    await start({ pods: [{ node: 0, port: 9006 }], probe: null, rule: { sourceRanges: [`127.${BLOCK}.250.0/30`] } });
    expect(await greetPod(outsideClient(BLOCK, 2))).toBe('web-0-0');
    expect(await failure(FRONTEND, FRONTEND_PORT, outsideClient(BLOCK, 9))).toBe('ECONNRESET');
    expect(ruleStats().rejectedBySourceRange).toBe(1);
  });

  it('resets a connection sent to a stopped node that the probe has not yet taken out', async () => {
    await start({ pods: [{ node: 1, port: 9007 }], probe: null, running: [false, true, true] });
    expect(await failure(FRONTEND, FRONTEND_PORT)).toBe('ECONNRESET');
    expect(ruleStats().backendUnreachable).toBe(1);
    expect(await greetPod()).toBe('web-1-0');
  });

  it('gives pods that connect to the LB IP Cluster routing on their own node, bypassing the LB', async () => {
    const cluster = webCluster({
      block: BLOCK,
      pods: [
        { node: 0, port: 9008 },
        { node: 2, port: 0, endpoint: false },
      ],
      probe: null,
      service: { externalTrafficPolicy: 'Local' },
    });
    await h.pods(cluster.endpointPods);
    const p = await h.start(cluster.snapshot);
    const client = cluster.clientPods[0]?.ip as string;
    const answer = await hello(FRONTEND, FRONTEND_PORT, client);
    expect(answer).toMatchObject({ pod: 'web-0-0', remote: client });
    answer.reader.socket.destroy();
    expect(ruleStats()).toMatchObject({ inCluster: 1, nodePicks: {} });
    await waitFor(() => p.stats().activeConnections === 0, 'the flow to close');
  });
});
