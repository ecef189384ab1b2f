import { describe, expect, it } from 'vitest';

import { Traces } from '../../../src/dataplane/observe/traces.js';
import { Observability, perfHooksOff } from '../../../src/runtime/observability.js';
import { FRONTEND_PORT, frontendIP, webCluster } from '../factories.js';
import { useHarness } from '../harness.js';
import { hello, waitFor } from '../net-helpers.js';

const BLOCK = 41;
const h = useHarness();

/** One connection through the LB frontend to a pod; resolves once the data plane has seen it close. */
async function oneConnection(flows: boolean | undefined): Promise<{ traces: Traces; connections: number }> {
  const cluster = webCluster({ block: BLOCK, probe: null, pods: [{ node: 0, port: 9541 }] });
  await h.pods(cluster.endpointPods);
  const traces = new Traces();
  const plane = await h.start(cluster.snapshot, { traces, ...(flows === undefined ? {} : { flows }) });
  const { pod, reader } = await hello(frontendIP(BLOCK), FRONTEND_PORT);
  expect(pod).toBe('web-0-0');
  reader.socket.destroy();
  await waitFor(() => plane.stats().activeConnections === 0, 'the connection to close');
  const connections = [...plane.counters().live().listeners].reduce((n, l) => n + l.connections, 0);
  return { traces, connections };
}

describe('flow records can be turned off (AKS_EMU_PERF_HOOKS=off)', () => {
  it('traces and counts a connection by default', async () => {
    const { traces, connections } = await oneConnection(undefined);
    expect(traces.query({ kind: 'tcp' })).toHaveLength(1);
    expect(connections).toBe(1);
  });

  it('still forwards the connection with flows off, but traces and counts nothing per hop', async () => {
    const { traces, connections } = await oneConnection(false);
    expect(traces.query()).toEqual([]);
    expect(connections).toBe(0);
  });

  it('reads the switch from the environment, and gives the L7 pods no observer when it is off', () => {
    expect(perfHooksOff({ AKS_EMU_PERF_HOOKS: 'off' })).toBe(true);
    expect(perfHooksOff({ AKS_EMU_PERF_HOOKS: 'on' })).toBe(false);
    expect(perfHooksOff({})).toBe(false);
    expect(new Observability(undefined, false).l7()).toBeUndefined();
    const on = new Observability(undefined, true);
    expect(on.l7()).toEqual({ traces: on.traces, http: on.http });
  });
});
