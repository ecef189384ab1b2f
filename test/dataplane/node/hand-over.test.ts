import { createServer, type Server, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';

import type { DataPlaneOptions, LocalEndpoint, LocalEndpoints, SeenAs } from '../../../src/dataplane/index.js';
import { rememberSeenAs, seenAs } from '../../../src/dataplane/l4/local-endpoints.js';
import { FakeClock } from '../fake-clock.js';
import { clusterIP, FRONTEND_PORT, frontendIP, NODE_PORT, nodeAddress, outsideClient, SERVICE_PORT, webCluster, type WebInput } from '../factories.js';
import { useHarness } from '../harness.js';
import { dial, failure, Reader, waitFor } from '../net-helpers.js';

const BLOCK = 38;
const FOUR_MINUTES = 4 * 60_000;

const h = useHarness();

/**
 * A pod served in this process: reachable by its listener (the dial path) and by
 * acceptForwarded (the hand-over). Greets with what it sees, `name remote remotePort
 * local:localPort`, echoes, and answers a FIN with `bye` and its own FIN.
 */
class InProcessPod implements LocalEndpoint {
  readonly sockets: Reader[] = [];
  readonly handedOver: SeenAs[] = [];
  readonly server: Server;

  constructor(readonly name: string) {
    this.server = createServer({ allowHalfOpen: true }, (socket) => this.serve(socket));
  }

  acceptForwarded(socket: Socket, seen: SeenAs): void {
    rememberSeenAs(socket, seen);
    this.handedOver.push(seen);
    this.serve(socket);
  }

  private serve(socket: Socket): void {
    const seen = seenAs(socket);
    this.sockets.push(new Reader(socket));
    socket.write(`${this.name} ${seen.remoteAddress} ${seen.remotePort} ${seen.localAddress}:${seen.localPort}\n`);
    socket.on('data', (chunk: Buffer) => {
      if (!socket.writableEnded) socket.write(chunk);
    });
    socket.on('end', () => {
      if (!socket.writableEnded) socket.end('bye\n');
    });
    socket.on('error', () => {});
  }
}

interface Started {
  readonly pods: ReadonlyMap<string, InProcessPod>;
  readonly clock: FakeClock;
  readonly plane: Awaited<ReturnType<typeof h.start>>;
}

/** Pods listen for real and are registered as local endpoints (unless `registered` is false). */
async function start(input: Omit<WebInput, 'block'>, options: DataPlaneOptions = {}, registered = true): Promise<Started> {
  const cluster = webCluster({ block: BLOCK, probe: null, ...input });
  const pods = new Map<string, InProcessPod>();
  for (const p of cluster.endpointPods) {
    const pod = new InProcessPod(p.name);
    await new Promise<void>((resolve) => pod.server.listen(p.port, p.ip, resolve));
    h.defer(
      () =>
        new Promise<void>((resolve) => {
          for (const r of pod.sockets) r.socket.destroy();
          pod.server.close(() => resolve());
        }),
    );
    pods.set(`${p.ip}:${p.port}`, pod);
  }
  const localEndpoints: LocalEndpoints = { lookup: (ip, port) => (registered ? pods.get(`${ip}:${port}`) : undefined) };
  const clock = new FakeClock();
  const plane = await h.start(cluster.snapshot, { clock, localEndpoints, ...options });
  return { pods, clock, plane };
}

async function greeting(host: string, port: number, localAddress?: string): Promise<{ client: Reader; words: string[] }> {
  const client = new Reader(await dial(host, port, localAddress));
  return { client, words: (await client.line()).split(' ') };
}

function only<T>(values: Iterable<T>): T {
  const [first] = values;
  if (first === undefined) throw new Error('nothing there');
  return first;
}

describe('handing flows to pods served in this process', () => {
  it('gives an LB flow to the pod with the node as source under Cluster policy, keeping the client port', async () => {
    const { pods, plane } = await start({ pods: [{ node: 2, port: 9401 }] });
    const pod = only(pods.values());
    const { client, words } = await greeting(frontendIP(BLOCK), FRONTEND_PORT);
    expect(words).toEqual(['web-2-0', nodeAddress(BLOCK, 0), String(client.socket.localPort), `127.${BLOCK}.3.10:9401`]);
    expect(pod.handedOver).toHaveLength(1);
    // The pick and its counters are the dial path's own.
    const stats = plane.stats().servicePorts.find((s) => s.node === 'node-0');
    expect(stats).toMatchObject({ connections: 1, endpointPicks: { [`127.${BLOCK}.3.10:9401`]: 1 }, connectFailures: 0 });
    expect(plane.stats().rules[0]).toMatchObject({ connections: 1, nodePicks: { 'node-0': 1 } });
  });

  it('shows the client under Local policy, the client pod on a ClusterIP, and the node on a hairpin', async () => {
    const { pods } = await start({
      pods: [
        { node: 0, port: 9402 },
        { node: 0, port: 0, endpoint: false },
      ],
      service: { externalTrafficPolicy: 'Local' },
    });
    const client = outsideClient(BLOCK);
    const local = await greeting(nodeAddress(BLOCK, 0), NODE_PORT, client);
    expect(local.words.slice(1, 3)).toEqual([client, String(local.client.socket.localPort)]);

    const clientPod = `127.${BLOCK}.1.11`;
    const viaVip = await greeting(clusterIP(BLOCK), SERVICE_PORT, clientPod);
    expect(viaVip.words[1]).toBe(clientPod);

    const self = `127.${BLOCK}.1.10`;
    const hairpin = await greeting(clusterIP(BLOCK), SERVICE_PORT, self);
    expect(hairpin.words[1]).toBe(nodeAddress(BLOCK, 0));
    expect(only(pods.values()).handedOver).toHaveLength(3);
  });

  it('passes half-closes and bytes through as a direct connection to the pod would', async () => {
    await start({ pods: [{ node: 0, port: 9403 }] });
    const { client } = await greeting(frontendIP(BLOCK), FRONTEND_PORT);
    client.socket.write('ping\n');
    await client.until((r) => r.text.includes('ping\n'), 'the echo');
    client.socket.end();
    await client.until((r) => r.ended, "the pod's FIN");
    expect(client.text.endsWith('ping\nbye\n')).toBe(true);
  });

  it('resets both ends of a handed-over LB flow at the idle timeout', async () => {
    const { pods, clock, plane } = await start({ pods: [{ node: 0, port: 9404 }], rule: { enableTcpReset: true } });
    const { client } = await greeting(frontendIP(BLOCK), FRONTEND_PORT);
    const podSide = only(pods.values()).sockets[0] as Reader;
    clock.advance(FOUR_MINUTES - 1);
    expect(plane.stats().rules[0]?.idleTimeouts).toBe(0);
    clock.advance(FOUR_MINUTES / 4 + 1);
    await client.until((r) => r.closed, 'the client to be reset');
    expect(client.errorCode).toBe('ECONNRESET');
    await podSide.until((r) => r.closed, 'the pod side to close');
    expect(plane.stats().rules[0]?.idleTimeouts).toBe(1);
  });

  it('counts traffic in either direction on a handed-over flow as activity', async () => {
    const { pods, clock, plane } = await start({ pods: [{ node: 0, port: 9405 }] });
    const { client } = await greeting(frontendIP(BLOCK), FRONTEND_PORT);
    const podSide = only(pods.values()).sockets[0] as Reader;
    for (let i = 0; i < 4; i++) {
      clock.advance(2 * 60_000);
      if (i % 2 === 0) {
        podSide.socket.write(`down ${i}\n`);
        await client.until((r) => r.text.includes(`down ${i}`), `down ${i}`);
      } else {
        client.socket.write(`up ${i}\n`);
        await client.until((r) => r.text.includes(`up ${i}`), `up ${i} echoed`);
      }
    }
    clock.advance(2 * 60_000);
    expect(client.closed).toBe(false);
    expect(plane.stats().rules[0]?.idleTimeouts).toBe(0);
  });

  it('dials the pod on a rule without TCP reset, so that an idle flow can still go silent', async () => {
    const { pods, clock, plane } = await start({ pods: [{ node: 0, port: 9406 }], rule: { enableTcpReset: false } });
    const { client, words } = await greeting(frontendIP(BLOCK), FRONTEND_PORT);
    const pod = only(pods.values());
    expect(pod.handedOver).toHaveLength(0);
    expect(words[2]).not.toBe(String(client.socket.localPort));
    clock.advance(FOUR_MINUTES * 1.25);
    client.socket.write('lost upstream');
    await waitFor(() => plane.stats().discardedBytes >= 'lost upstream'.length, 'the write to be discarded');
    expect(client.closed).toBe(false);
  });

  it('dials an endpoint no in-process pod serves, and resets the client when nothing listens there', async () => {
    const { pods, plane } = await start({ pods: [{ node: 0, port: 9407 }] }, {}, false);
    const pod = only(pods.values());
    const { client, words } = await greeting(frontendIP(BLOCK), FRONTEND_PORT);
    expect(words[0]).toBe('web-0-0');
    expect(pod.handedOver).toHaveLength(0);

    client.socket.destroy();
    for (const r of pod.sockets) r.socket.destroy();
    await new Promise<void>((resolve) => pod.server.close(() => resolve()));
    expect(await failure(frontendIP(BLOCK), FRONTEND_PORT)).toBe('ECONNRESET');
    expect(plane.stats().servicePorts.reduce((n, s) => n + s.connectFailures, 0)).toBe(1);
  });

  it('releases handed-over sockets when the data plane stops', async () => {
    const { plane } = await start({ pods: [{ node: 0, port: 9408 }] });
    const { client } = await greeting(frontendIP(BLOCK), FRONTEND_PORT);
    expect(plane.stats().activeConnections).toBe(1);
    await plane.stop();
    h.forget();
    await client.until((r) => r.ended, 'the client to see the connection end');
  });
});
