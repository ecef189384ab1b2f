import { createHash, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';

import { beforeEach, describe, expect, it } from 'vitest';

import { FRONTEND_PORT, frontendIP, webCluster } from '../factories.js';
import { useHarness } from '../harness.js';
import { dial, hello, type PodServer, type Reader, waitFor } from '../net-helpers.js';

const BLOCK = 36;
const FRONTEND = frontendIP(BLOCK);

const h = useHarness();
let pod: PodServer;

beforeEach(async () => {
  const cluster = webCluster({ block: BLOCK, nodes: 1, pods: [{ node: 0, port: 9401 }], probe: null });
  [pod] = (await h.pods(cluster.endpointPods)) as [PodServer];
  await h.start(cluster.snapshot);
});

function podSide(): Reader {
  const reader = pod.sockets.at(-1);
  if (reader === undefined) throw new Error('the pod has no connection');
  return reader;
}

describe('splice', () => {
  it("carries the client's FIN to the pod and still delivers the pod's answer after it", async () => {
    const { reader } = await hello(FRONTEND, FRONTEND_PORT);
    reader.socket.end('ping\n');
    await reader.until((r) => r.ended, 'the FIN from the pod');
    expect(reader.text).toBe(`web-0-0 127.${BLOCK}.0.1\nping\nbye\n`);
    expect(podSide().ended).toBe(true);
  });

  it("carries the pod's FIN to the client and still delivers the client's data after it", async () => {
    const { reader } = await hello(FRONTEND, FRONTEND_PORT);
    const server = podSide();
    server.socket.end();
    await reader.until((r) => r.ended, 'the FIN from the pod');
    reader.socket.write('late\n');
    await server.until((r) => r.text === 'late\n', 'the late data at the pod');
    reader.socket.end();
    await server.until((r) => r.closed, 'the pod side to close');
    await reader.until((r) => r.closed, 'the client to close');
    expect([reader.errorCode, server.errorCode]).toEqual([undefined, undefined]);
  });

  it('turns a reset from the client into a reset to the pod', async () => {
    const { reader } = await hello(FRONTEND, FRONTEND_PORT);
    reader.socket.resetAndDestroy();
    await podSide().until((r) => r.closed, 'the pod side to close');
    expect(podSide().errorCode).toBe('ECONNRESET');
  });

  it('turns a reset from the pod into a reset to the client', async () => {
    const { reader } = await hello(FRONTEND, FRONTEND_PORT);
    podSide().socket.resetAndDestroy();
    await reader.until((r) => r.closed, 'the client to close');
    expect(reader.errorCode).toBe('ECONNRESET');
  });

  it('carries 50 MB each way byte for byte through the LB path', async () => {
    const cluster = webCluster({ block: BLOCK, nodes: 1, pods: [{ node: 0, port: 9402 }], probe: null, version: 2 });
    [pod] = (await h.pods(cluster.endpointPods, false)) as [PodServer];
    await h.plane.apply(cluster.snapshot);

    const payload = randomBytes(50 * 1024 * 1024);
    const expected = createHash('sha256').update(payload).digest('hex');
    const client: Socket = await dial(FRONTEND, FRONTEND_PORT);
    const received = collect(client);
    for (let offset = 0; offset < payload.length; offset += 1 << 20) {
      if (!client.write(payload.subarray(offset, offset + (1 << 20)))) await new Promise((resolve) => client.once('drain', resolve));
    }
    client.end();
    const back = await received;
    const atPod = createHash('sha256');
    for (const reader of pod.sockets) atPod.update(reader.text, 'latin1');
    expect(back.bytes).toBe(payload.length);
    expect(back.sha256).toBe(expected);
    expect(atPod.digest('hex')).toBe(expected);
    await waitFor(() => h.plane.stats().activeConnections === 0, 'the flow to close');
  });

  it('keeps concurrent flows byte-exact through a slow reader that keeps the splice held back', async () => {
    const cluster = webCluster({ block: BLOCK, nodes: 1, pods: [{ node: 0, port: 9403 }], probe: null, version: 2 });
    [pod] = (await h.pods(cluster.endpointPods, false)) as [PodServer];
    await h.plane.apply(cluster.snapshot);

    // Each client sends its own payload and reads the echo slowly, a chunk per millisecond:
    // the splice's writes to it are often taken only in part by the kernel, and
    // what is left stays queued while every flow goes on reading from its pod.
    const flows = await Promise.all(
      [0, 1, 2].map(async () => {
        const payload = randomBytes(8 * 1024 * 1024);
        const client = await dial(FRONTEND, FRONTEND_PORT);
        const received = collect(client, true);
        client.end(payload);
        return { payload, received };
      }),
    );
    for (const { payload, received } of flows) {
      const back = await received;
      expect(back.bytes).toBe(payload.length);
      expect(back.sha256).toBe(createHash('sha256').update(payload).digest('hex'));
    }
    await waitFor(() => h.plane.stats().activeConnections === 0, 'the flows to close');
  });
});

/** What the socket reads until its FIN, as a length and a hash; `slow` reads a chunk per millisecond. */
function collect(socket: Socket, slow = false): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const take = (chunk: Buffer): void => {
    hash.update(chunk);
    bytes += chunk.length;
  };
  if (!slow) socket.on('data', take);
  else {
    const drip = (): void => {
      const chunk = socket.read() as Buffer | null;
      if (chunk === null) return void socket.once('readable', drip);
      take(chunk);
      setTimeout(drip, 1);
    };
    socket.once('readable', drip);
  }
  return new Promise((resolve) => socket.once('end', () => resolve({ bytes, sha256: hash.digest('hex') })));
}
