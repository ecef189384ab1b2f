import { createServer, type Server } from 'node:net';

import { describe, expect, it } from 'vitest';

import { DataPlane } from '../../src/dataplane/index.js';
import { AksEmuError } from '../../src/errors/index.js';
import { FakeClock } from './fake-clock.js';
import { clusterIP, FRONTEND_PORT, frontendIP, NODE_PORT, nodeAddress, SERVICE_PORT, webCluster, type WebInput } from './factories.js';
import { useHarness } from './harness.js';
import { dial, failure, hello, Reader, waitFor, type PodServer } from './net-helpers.js';

const BLOCK = 37;
const FRONTEND = frontendIP(BLOCK);

const h = useHarness();
let pods: PodServer[] = [];

function snapshot(input: Omit<WebInput, 'block'>) {
  return webCluster({ block: BLOCK, probe: null, ...input });
}

async function start(input: Omit<WebInput, 'block'>): Promise<DataPlane> {
  const cluster = snapshot(input);
  pods = await h.pods(cluster.endpointPods);
  return h.start(cluster.snapshot);
}

async function greetPod(host: string, port: number, localAddress?: string): Promise<string> {
  const { pod, reader } = await hello(host, port, localAddress);
  reader.socket.destroy();
  return pod;
}

describe('DataPlane', () => {
  it('keeps a running connection flowing across a swap that removes its endpoint, and sends new ones to the new set', async () => {
    const input = {
      pods: [
        { node: 0, port: 9501 },
        { node: 1, port: 9501 },
      ],
    };
    const p = await start({
      ...input,
      pods: [
        { node: 0, port: 9501 },
        { node: 1, port: 9501, ready: false },
      ],
    });
    const running = await hello(FRONTEND, FRONTEND_PORT);
    expect(running.pod).toBe('web-0-0');

    await p.apply(
      snapshot({
        version: 2,
        pods: [
          { node: 0, port: 9501, ready: false },
          { node: 1, port: 9501 },
        ],
      }).snapshot,
    );
    running.reader.socket.write('after the swap\n');
    await running.reader.until((r) => r.text.includes('after the swap'), 'the echo on the running flow');
    for (let i = 0; i < 3; i++) expect(await greetPod(FRONTEND, FRONTEND_PORT)).toBe('web-1-0');
    running.reader.socket.destroy();
  });

  it('keeps round-robin state across a swap when the Service port still exists', async () => {
    const input = {
      pods: [
        { node: 0, port: 9502 },
        { node: 0, port: 9503 },
        { node: 0, port: 9504 },
      ],
    };
    const p = await start(input);
    expect(await greetPod(nodeAddress(BLOCK, 0), NODE_PORT)).toBe('web-0-0');
    await p.apply(snapshot({ ...input, version: 2 }).snapshot);
    expect(await greetPod(nodeAddress(BLOCK, 0), NODE_PORT)).toBe('web-0-1');
  });

  it("closes a stopped node's listeners and opens them again when it runs", async () => {
    const input = { pods: [{ node: 0, port: 9505 }] };
    const p = await start(input);
    await p.apply(snapshot({ ...input, version: 2, running: [true, false, true] }).snapshot);
    expect(await failure(nodeAddress(BLOCK, 1), NODE_PORT)).toBe('ECONNREFUSED');
    expect(await greetPod(nodeAddress(BLOCK, 2), NODE_PORT)).toBe('web-0-0');
    await p.apply(snapshot({ ...input, version: 3 }).snapshot);
    expect(await greetPod(nodeAddress(BLOCK, 1), NODE_PORT)).toBe('web-0-0');
  });

  it('opens the ClusterIP and NodePorts when the first endpoint becomes usable', async () => {
    const p = await start({ pods: [{ node: 0, port: 9506, ready: false }] });
    expect(await failure(clusterIP(BLOCK), SERVICE_PORT, nodeAddress(BLOCK, 0))).toBe('ECONNREFUSED');
    await p.apply(snapshot({ version: 2, pods: [{ node: 0, port: 9506 }] }).snapshot);
    expect(await greetPod(clusterIP(BLOCK), SERVICE_PORT, nodeAddress(BLOCK, 0))).toBe('web-0-0');
    expect(await greetPod(nodeAddress(BLOCK, 1), NODE_PORT)).toBe('web-0-0');
  });

  it('rejects with AKS_EMU_ADDRESS_IN_USE naming the address and what it is for when a bind fails', async () => {
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(FRONTEND_PORT, FRONTEND, resolve));
    h.defer(() => new Promise((resolve) => squatter.close(() => resolve())));
    const plane = new DataPlane({ clock: new FakeClock() });
    h.defer(() => plane.stop());
    const error = await plane.apply(snapshot({ pods: [] }).snapshot).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AksEmuError);
    expect((error as AksEmuError).code).toBe('AKS_EMU_ADDRESS_IN_USE');
    expect((error as AksEmuError).message).toContain(`${FRONTEND}:${FRONTEND_PORT}`);
    expect((error as AksEmuError).message).toContain('load balancer kubernetes');
  });

  it('releases every listener and connection on stop', async () => {
    const p = await start({ pods: [{ node: 0, port: 9507 }], service: { externalTrafficPolicy: 'Local' } });
    const flowing = await hello(FRONTEND, FRONTEND_PORT);
    const held = new Reader(await dial(nodeAddress(BLOCK, 1), NODE_PORT));
    await waitFor(() => p.stats().servicePorts.some((s) => s.dropped === 1), 'the NodePort connection to be held');
    await p.stop();
    h.forget();
    await flowing.reader.until((r) => r.ended, 'the forwarded flow to be closed');
    await held.until((r) => r.ended, 'the held connection to be closed');
    for (const side of (pods[0] as PodServer).sockets) await side.until((r) => r.ended, 'the pod side to be closed');
    expect(p.stats().activeConnections).toBe(0);
    expect(await failure(FRONTEND, FRONTEND_PORT)).toBe('ECONNREFUSED');
    expect(await failure(nodeAddress(BLOCK, 0), 10256)).toBe('ECONNREFUSED');
    await expect(p.apply(snapshot({ pods: [] }).snapshot)).rejects.toMatchObject({ code: 'AKS_EMU_STOPPED' });
  });
});
