import { describe, expect, it } from 'vitest';

import type { DataPlane, DataPlaneOptions } from '../../../src/dataplane/index.js';
import { FakeClock } from '../fake-clock.js';
import {
  clusterIP,
  FRONTEND_PORT,
  frontendIP,
  NODE_PORT,
  nodeAddress,
  outsideClient,
  SERVICE_PORT,
  webCluster,
  type WebCluster,
  type WebInput,
} from '../factories.js';
import { useHarness } from '../harness.js';
import { dial, failure, hello, Reader, waitFor, type PodServer } from '../net-helpers.js';

const BLOCK = 34;
const VIP = clusterIP(BLOCK);

const h = useHarness();

async function start(input: Omit<WebInput, 'block'>, options: DataPlaneOptions = {}): Promise<WebCluster & { plane: DataPlane }> {
  const cluster = webCluster({ block: BLOCK, probe: null, ...input });
  await h.pods(cluster.endpointPods);
  return { ...cluster, plane: await h.start(cluster.snapshot, options) };
}

function portStats(p: DataPlane, node: string) {
  const stats = p.stats().servicePorts.find((s) => s.node === node && s.service === 'default/web' && s.port === 'http');
  if (stats === undefined) throw new Error(`no stats for ${node}`);
  return stats;
}

async function greet(host: string, port: number, localAddress?: string): Promise<{ pod: string; remote: string }> {
  const { pod, remote, reader } = await hello(host, port, localAddress);
  reader.socket.destroy();
  return { pod, remote };
}

function clientPod(cluster: WebCluster, node: string): string {
  const pod = cluster.clientPods.find((p) => p.node === node);
  if (pod === undefined) throw new Error(`no client pod on ${node}`);
  return pod.ip;
}

describe('kube-proxy external traffic', () => {
  it('masquerades NodePort traffic under externalTrafficPolicy Cluster: the pod sees the node', async () => {
    await start({ pods: [{ node: 0, port: 9201 }] });
    expect(await greet(nodeAddress(BLOCK, 1), NODE_PORT, outsideClient(BLOCK))).toEqual({ pod: 'web-0-0', remote: nodeAddress(BLOCK, 1) });
  });

  it('masquerades LB traffic to the picked node under externalTrafficPolicy Cluster', async () => {
    const { plane: p } = await start({ pods: [{ node: 2, port: 9202 }] });
    expect(await greet(frontendIP(BLOCK), FRONTEND_PORT)).toEqual({ pod: 'web-2-0', remote: nodeAddress(BLOCK, 0) });
    expect(portStats(p, 'node-0')).toMatchObject({ connections: 1, endpointPicks: { [`127.${BLOCK}.3.10:9202`]: 1 } });
  });

  it('keeps the client address under externalTrafficPolicy Local and drops traffic at nodes without a local endpoint', async () => {
    const { plane: p } = await start({ pods: [{ node: 0, port: 9203 }], service: { externalTrafficPolicy: 'Local' } });
    expect(await greet(frontendIP(BLOCK), FRONTEND_PORT, outsideClient(BLOCK, 3))).toEqual({ pod: 'web-0-0', remote: outsideClient(BLOCK, 3) });

    const dropped = new Reader(await dial(frontendIP(BLOCK), FRONTEND_PORT, outsideClient(BLOCK, 3)));
    await waitFor(() => portStats(p, 'node-1').dropped === 1, 'node-1 to drop the connection');
    dropped.socket.write('anyone?');
    const direct = new Reader(await dial(nodeAddress(BLOCK, 2), NODE_PORT, outsideClient(BLOCK, 4)));
    await waitFor(() => portStats(p, 'node-2').dropped === 1, 'node-2 to drop the NodePort connection');
    expect([dropped.text, dropped.closed, direct.text, direct.closed]).toEqual(['', false, '', false]);

    dropped.socket.destroy();
    direct.socket.end();
    await waitFor(() => p.stats().activeConnections === 0, 'held connections to be released when the clients give up');
  });

  it('resets at once when the Service port has no usable endpoint and refuses its NodePort', async () => {
    const { plane: p } = await start({ pods: [{ node: 0, port: 9204, ready: false }] });
    expect(await failure(nodeAddress(BLOCK, 0), NODE_PORT)).toBe('ECONNREFUSED');
    expect(await failure(VIP, SERVICE_PORT, nodeAddress(BLOCK, 0))).toBe('ECONNREFUSED');
    expect(await failure(frontendIP(BLOCK), FRONTEND_PORT)).toBe('ECONNRESET');
    expect(portStats(p, 'node-0')).toMatchObject({ connections: 1, refused: 1 });
  });

  it('tries the next endpoint when a dial fails, and resets the client when every attempt fails', async () => {
    const cluster = webCluster({
      block: BLOCK,
      probe: null,
      pods: [
        { node: 0, port: 9205 },
        { node: 1, port: 9205 },
      ],
    });
    const [alive] = await h.pods(cluster.endpointPods.slice(1));
    const p = await h.start(cluster.snapshot);
    for (let i = 0; i < 4; i++) expect((await greet(nodeAddress(BLOCK, 0), NODE_PORT)).pod).toBe('web-1-0');
    // Round robin lands on the dead endpoint every other pick; each of those retries once.
    expect(portStats(p, 'node-0')).toMatchObject({ retries: 4, connectFailures: 0 });

    await (alive as PodServer).close();
    expect(await failure(nodeAddress(BLOCK, 0), NODE_PORT)).toBe('ECONNRESET');
    expect(portStats(p, 'node-0')).toMatchObject({ retries: 7, connectFailures: 1 });
  });

  it('picks endpoints at random when endpointSelection is random', async () => {
    await start(
      {
        pods: [
          { node: 0, port: 9206 },
          { node: 1, port: 9206 },
          { node: 2, port: 9206 },
        ],
        settings: { endpointSelection: 'random' },
      },
      { random: () => 0.99 },
    );
    for (let i = 0; i < 3; i++) expect((await greet(nodeAddress(BLOCK, 0), NODE_PORT)).pod).toBe('web-2-0');
  });
});

describe('kube-proxy ClusterIP traffic', () => {
  it('resets ClusterIP connections from outside the cluster and serves pods without masquerade', async () => {
    const cluster = await start({
      pods: [
        { node: 0, port: 9211 },
        { node: 1, port: 0, endpoint: false },
      ],
    });
    expect(await failure(VIP, SERVICE_PORT)).toBe('ECONNRESET');
    expect(cluster.plane.stats().rejectedOutsideCluster).toBe(1);
    const client = clientPod(cluster, 'node-1');
    expect(await greet(VIP, SERVICE_PORT, client)).toEqual({ pod: 'web-0-0', remote: client });
    expect(await greet(VIP, SERVICE_PORT, nodeAddress(BLOCK, 2))).toEqual({ pod: 'web-0-0', remote: nodeAddress(BLOCK, 2) });
    expect(portStats(cluster.plane, 'node-1').connections).toBe(1);
  });

  it('masquerades a pod that reaches itself through its Service (hairpin)', async () => {
    const cluster = await start({ pods: [{ node: 1, port: 9212 }] });
    const self = cluster.endpointPods[0]?.ip as string;
    expect(await greet(VIP, SERVICE_PORT, self)).toEqual({ pod: 'web-1-0', remote: nodeAddress(BLOCK, 1) });
  });

  it('only uses endpoints on the client node under internalTrafficPolicy Local, and drops without one', async () => {
    const cluster = await start({
      pods: [
        { node: 0, port: 9213 },
        { node: 1, port: 9213 },
        { node: 1, port: 0, endpoint: false },
        { node: 2, port: 0, endpoint: false },
      ],
      service: { internalTrafficPolicy: 'Local' },
    });
    const local = clientPod(cluster, 'node-1');
    for (let i = 0; i < 3; i++) expect((await greet(VIP, SERVICE_PORT, local)).pod).toBe('web-1-0');
    const stranded = new Reader(await dial(VIP, SERVICE_PORT, clientPod(cluster, 'node-2')));
    await waitFor(() => portStats(cluster.plane, 'node-2').dropped === 1, 'node-2 to drop the connection');
    expect([stranded.text, stranded.closed]).toEqual(['', false]);
    stranded.socket.destroy();
  });

  it('keeps a client on one endpoint under ClientIP affinity until the affinity times out', async () => {
    const clock = new FakeClock();
    const cluster = await start(
      {
        pods: [
          { node: 0, port: 9214 },
          { node: 1, port: 9214 },
          { node: 2, port: 9214 },
          { node: 0, port: 0, endpoint: false },
        ],
        service: { sessionAffinity: 'ClientIP', sessionAffinityTimeoutSeconds: 10 },
      },
      { clock },
    );
    const client = clientPod(cluster, 'node-0');
    const first = (await greet(VIP, SERVICE_PORT, client)).pod;
    for (let i = 0; i < 3; i++) {
      clock.advance(9_000);
      expect((await greet(VIP, SERVICE_PORT, client)).pod).toBe(first);
    }
    const other = (await greet(VIP, SERVICE_PORT, nodeAddress(BLOCK, 0))).pod;
    expect(other).not.toBe(first);
    clock.advance(10_000);
    const after = (await greet(VIP, SERVICE_PORT, client)).pod;
    expect([first, other]).not.toContain(after);
  });

  it('drops affinity to an endpoint that leaves the Service', async () => {
    const clock = new FakeClock();
    const input: Omit<WebInput, 'block'> = {
      pods: [
        { node: 0, port: 9215 },
        { node: 1, port: 9215 },
        { node: 0, port: 0, endpoint: false },
      ],
      service: { sessionAffinity: 'ClientIP', sessionAffinityTimeoutSeconds: 10800 },
    };
    const cluster = await start(input, { clock });
    const client = clientPod(cluster, 'node-0');
    expect((await greet(VIP, SERVICE_PORT, client)).pod).toBe('web-0-0');
    const withoutFirst = webCluster({ block: BLOCK, probe: null, version: 2, ...input, pods: [{ node: 0, port: 9215, ready: false }, ...input.pods.slice(1)] });
    await cluster.plane.apply(withoutFirst.snapshot);
    expect((await greet(VIP, SERVICE_PORT, client)).pod).toBe('web-1-0');
    await cluster.plane.apply(cluster.snapshot);
    expect((await greet(VIP, SERVICE_PORT, client)).pod).toBe('web-1-0');
  });
});
