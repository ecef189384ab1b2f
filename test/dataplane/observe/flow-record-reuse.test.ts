/**
 * L4 flow records are reused once the trace ring has dropped them and their client socket
 * has closed. What the trace API and followers return must be the connection's own data
 * however often records are reused, and a record still held (in the ring, or by an open
 * connection that left the ring) must not be reused.
 * Addresses: 127.42.0.0/16.
 */
import { describe, expect, it } from 'vitest';

import { flowRecordsMade } from '../../../src/dataplane/observe/flow.js';
import { Traces, type TraceView } from '../../../src/dataplane/observe/traces.js';
import { FRONTEND_PORT, frontendIP, outsideClient, webCluster } from '../factories.js';
import { useHarness } from '../harness.js';
import { hello, waitFor, type Reader } from '../net-helpers.js';

const BLOCK = 42;
const CLIENT = outsideClient(BLOCK);
const h = useHarness();

/** The client address:port of a connection, as its trace names it. */
function clientOf(reader: Reader): string {
  return `${CLIENT}:${reader.socket.localPort}`;
}

function seen(view: TraceView): { client: unknown; end: unknown; fromClient: unknown } {
  const bytes = view.bytes as { fromClient?: unknown } | undefined;
  return { client: view.client, end: view.end, fromClient: bytes?.fromClient };
}

async function plane(traceCapacity: number): Promise<{ traces: Traces; followed: TraceView[] }> {
  const cluster = webCluster({ block: BLOCK, probe: null, pods: [{ node: 0, port: 9542 }] });
  await h.pods(cluster.endpointPods);
  const traces = new Traces(traceCapacity);
  await h.start(cluster.snapshot, { traces });
  const followed: TraceView[] = [];
  traces.follow({ kind: 'tcp' }, (view) => followed.push(view));
  return { traces, followed };
}

/** One connection that sends `n` bytes and closes; resolves with its client address once its trace ended. */
async function oneConnection(followed: readonly TraceView[], n: number): Promise<string> {
  const { reader } = await hello(frontendIP(BLOCK), FRONTEND_PORT, CLIENT);
  const client = clientOf(reader);
  reader.socket.end('x'.repeat(n));
  await waitFor(() => followed.some((v) => v.client === client), `the trace of ${client} to end`);
  reader.socket.destroy();
  return client;
}

describe('reused L4 flow records', () => {
  it("reuse records once the ring dropped them and their socket closed, and every view is its own connection's", async () => {
    const { traces, followed } = await plane(3);
    const clients: string[] = [];
    let early: TraceView[] = [];
    for (let n = 1; n <= 30; n++) {
      clients.push(await oneConnection(followed, n));
      if (n === 1) early = traces.query({ kind: 'tcp' });
    }
    // Far fewer records than connections: the ring and the sockets let go and the records came back.
    expect(flowRecordsMade(traces)).toBeLessThanOrEqual(6);
    // A view read before its record was reused still says what its connection did.
    expect(early.map(seen)).toEqual([{ client: clients[0], end: 'closed', fromClient: 1 }]);
    // Every follower's view, read as each connection ended, is that connection's.
    expect(followed.map(seen)).toEqual(clients.map((client, i) => ({ client, end: 'closed', fromClient: i + 1 })));
    expect(new Set(followed.map((v) => v.id)).size).toBe(30);
    // The ring holds the latest 3, each its own record (a record reused while still in the ring would show twice).
    const kept = traces.query({ kind: 'tcp' });
    expect(kept.map(seen)).toEqual([28, 29, 30].map((n) => ({ client: clients[n - 1], end: 'closed', fromClient: n })));
    expect(kept.map((v) => v.id)).toEqual(followed.slice(-3).map((v) => v.id));
  });

  it('keep an open connection that left the ring out of reuse', async () => {
    const { traces, followed } = await plane(2);
    const { reader: held } = await hello(frontendIP(BLOCK), FRONTEND_PORT, CLIENT);
    const heldClient = clientOf(held);
    await waitFor(() => traces.query({ kind: 'tcp' }).some((v) => v.client === heldClient), 'the held connection in the ring');
    const heldId = traces.query({ kind: 'tcp' }).find((v) => v.client === heldClient)!.id;
    const quick: string[] = [];
    for (let n = 1; n <= 12; n++) quick.push(await oneConnection(followed, n));
    // The held connection left the ring long ago but is still open.
    expect(traces.query({ kind: 'tcp' }).map((v) => v.client)).toEqual(quick.slice(-2));
    held.socket.end('held bytes');
    await waitFor(() => followed.some((v) => v.client === heldClient), 'the held connection to end');
    held.socket.destroy();
    const view = followed.find((v) => v.client === heldClient)!;
    expect({ id: view.id, ...seen(view) }).toEqual({ id: heldId, client: heldClient, end: 'closed', fromClient: 'held bytes'.length });
    // Each quick connection's view is its own too.
    expect(followed.filter((v) => v.client !== heldClient).map(seen)).toEqual(quick.map((client, i) => ({ client, end: 'closed', fromClient: i + 1 })));
  });
});
