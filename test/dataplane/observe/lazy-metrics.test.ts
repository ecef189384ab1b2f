/**
 * The data plane makes its per-node, per-Service-port state on first use: a histogram's
 * buckets on its first observation, a Service port's endpoint picks on its first pick, a
 * route's probe twin on its first probe. /metrics and stats() must read exactly as when
 * all of it was made with the counters. The expected texts in test/fixtures/metrics were
 * written by this same file run against the eager data plane (main at 548265a, with
 * AKS_EMU_WRITE_EXPECTED=1); observed durations are masked, as they are wall-clock time.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { ProbeTransitions, renderMetrics } from '../../../src/dataplane/observe/metrics.js';
import type { DataPlane } from '../../../src/dataplane/index.js';
import { clusterIP, FRONTEND_PORT, frontendIP, NODE_PORT, nodeAddress, SERVICE_PORT, webCluster } from '../factories.js';
import { useHarness } from '../harness.js';
import { hello, waitFor } from '../net-helpers.js';

const BLOCK = 44;
const h = useHarness();

const expectedFile = (name: string) => new URL(`../../fixtures/metrics/${name}`, import.meta.url);

/** Compares with the eager data plane's text (or writes it, run against that data plane). */
function expectAsEager(name: string, text: string): void {
  if (process.env.AKS_EMU_WRITE_EXPECTED === '1') writeFileSync(expectedFile(name), text);
  expect(text).toBe(readFileSync(expectedFile(name), 'utf8'));
}

function metrics(plane: DataPlane, snapshot: Parameters<typeof renderMetrics>[0]['snapshot']): string {
  const counters = plane.counters();
  const text = renderMetrics({ snapshot, counters, global: counters.global, probes: [], probeTransitions: new ProbeTransitions() });
  // An observed duration histogram's buckets and sum are wall-clock time: they are masked, its count stays;
  // a histogram nothing was observed in keeps every line.
  const observed = new Set<string>();
  for (const [, name, labels] of text.matchAll(/^(\w+_duration_seconds)_count(\{[^}]*\}) [1-9]\d*$/gm)) observed.add(`${name}${labels}`);
  return text.replace(/^(\w+_duration_seconds)_(bucket|sum)(\{[^}]*\}) \S+$/gm, (line, name: string, kind: string, labels: string) => {
    const series = `${name}${kind === 'bucket' ? labels.replace(/,?le="[^"]*"\}$/, '}') : labels}`;
    return observed.has(series) ? `${name}_${kind}${labels} <observed>` : line;
  });
}

/** stats() without the process-wide listener errors (other files' listeners count there). */
function stats(plane: DataPlane): string {
  const { listenerErrors: _, ...rest } = plane.stats();
  return `${JSON.stringify(rest, null, 2)}\n`;
}

describe('per-node, per-Service-port state made on first use', () => {
  it('reads in /metrics and stats() as the eager data plane does, before and after traffic', async () => {
    const cluster = webCluster({
      block: BLOCK,
      // node-3 takes no flow: its Service port's histograms are never observed.
      nodes: 4,
      probe: null,
      pods: [
        { node: 0, port: 9441 },
        { node: 1, port: 9442 },
        { node: 2, port: 0, endpoint: false },
      ],
    });
    await h.pods(cluster.endpointPods);
    const plane = await h.start(cluster.snapshot);
    expectAsEager('lazy-before.prom', metrics(plane, cluster.snapshot));
    expectAsEager('lazy-before.json', stats(plane));

    // The LB (round robin: node-0 first), a NodePort of node-1, the ClusterIP from the client pod on node-2.
    const client = cluster.clientPods[0]!.ip;
    const flows = [
      await hello(frontendIP(BLOCK), FRONTEND_PORT),
      await hello(nodeAddress(BLOCK, 1), NODE_PORT),
      await hello(clusterIP(BLOCK), SERVICE_PORT, client),
    ];
    for (const { reader } of flows) reader.socket.end();
    await waitFor(() => plane.stats().activeConnections === 0, 'every flow closed');
    await waitFor(() => [...plane.counters().live().servicePorts].every((s) => s.active === 0), 'every flow settled');
    expectAsEager('lazy-after.prom', metrics(plane, cluster.snapshot));
    expectAsEager('lazy-after.json', stats(plane));
  });
});
