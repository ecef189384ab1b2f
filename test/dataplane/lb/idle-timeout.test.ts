import { describe, expect, it } from 'vitest';

import { FakeClock } from '../fake-clock.js';
import { FRONTEND_PORT, frontendIP, webCluster, type WebInput } from '../factories.js';
import { useHarness } from '../harness.js';
import { hello, waitFor, type Reader } from '../net-helpers.js';

const BLOCK = 33;
const FOUR_MINUTES = 4 * 60_000;

const h = useHarness();

async function connected(rule: WebInput['rule'], settings?: WebInput['settings']): Promise<{ clock: FakeClock; client: Reader; pod: Reader }> {
  const cluster = webCluster({ block: BLOCK, pods: [{ node: 0, port: 9101 }], probe: null, rule, settings });
  const [server] = await h.pods(cluster.endpointPods);
  const clock = new FakeClock();
  await h.start(cluster.snapshot, { clock });
  const { reader: client } = await hello(frontendIP(BLOCK), FRONTEND_PORT);
  const pod = server?.sockets[0] as Reader;
  return { clock, client, pod };
}

function idleTimeouts(): number {
  return h.plane.stats().rules[0]?.idleTimeouts ?? -1;
}

describe('LB idle timeout', () => {
  it('resets both ends after idleTimeoutMinutes without traffic when TCP reset is on', async () => {
    const { clock, client, pod } = await connected({ idleTimeoutMinutes: 4, enableTcpReset: true });
    clock.advance(FOUR_MINUTES - 1);
    expect(idleTimeouts()).toBe(0);
    // The sweep runs every quarter timeout, so expiry lands within 1.25 timeouts.
    clock.advance(FOUR_MINUTES / 4 + 1);
    await client.until((r) => r.closed, 'the client to be reset');
    await pod.until((r) => r.closed, 'the pod side to be reset');
    expect(client.errorCode).toBe('ECONNRESET');
    expect(pod.errorCode).toBe('ECONNRESET');
    expect(idleTimeouts()).toBe(1);
  });

  it('counts traffic in either direction as activity', async () => {
    const { clock, client, pod } = await connected({ idleTimeoutMinutes: 4 });
    for (let i = 0; i < 4; i++) {
      clock.advance(2 * 60_000);
      if (i % 2 === 0) {
        pod.socket.write(`down ${i}\n`);
        await client.until((r) => r.text.includes(`down ${i}`), `down ${i}`);
      } else {
        client.socket.write(`up ${i}\n`);
        await pod.until((r) => r.text.includes(`up ${i}`), `up ${i}`);
      }
    }
    clock.advance(2 * 60_000);
    expect(client.closed).toBe(false);
    expect(idleTimeouts()).toBe(0);
  });

  it('scales the idle timeout by timeScale', async () => {
    const { clock, client } = await connected({ idleTimeoutMinutes: 4 }, { timeScale: 0.001 });
    clock.advance(FOUR_MINUTES * 0.001 * 1.25);
    await client.until((r) => r.closed, 'the client to be reset');
    expect(idleTimeouts()).toBe(1);
  });

  it('silently drops an idle flow when TCP reset is off: nothing is forwarded and both ends stay open', async () => {
    const { clock, client, pod } = await connected({ idleTimeoutMinutes: 4, enableTcpReset: false });
    const greeting = client.bytes;
    clock.advance(FOUR_MINUTES * 1.25);
    expect(idleTimeouts()).toBe(1);
    client.socket.write('lost upstream');
    pod.socket.write('lost downstream');
    await waitFor(() => h.plane.stats().discardedBytes >= 'lost upstream'.length + 'lost downstream'.length, 'both writes to be discarded');
    expect(pod.text).toBe('');
    expect(client.bytes).toBe(greeting);
    expect([client.closed, pod.closed]).toEqual([false, false]);

    client.socket.end();
    await pod.until((r) => r.closed, 'the pod side to be closed quietly once the client gives up');
    expect(pod.errorCode).toBeUndefined();
  });
});
