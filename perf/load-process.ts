/**
 * The load generator, a child process of the harness: autocannon runs on request, and
 * the scale row's idle connections. Nothing else runs here, so the source-address hook
 * (autocannon-client.ts) touches only autocannon's connections.
 */
import autocannon from 'autocannon';
import { request } from 'node:http';
import { clientSetup, installSourceAddressHook, setSourceAddress } from './autocannon-client.js';
import { IdleConnections, type HoldSpec } from './idle-connections.js';
import { exitWithParent, serveParent } from './ipc.js';
import { LatencyHistogram, type LatencySummary } from './latency-histogram.js';
import type { ProbeResult, ProbeSpec, RoundResult, RoundSpec } from './load-types.js';

installSourceAddressHook();
const histograms = new Map<string, LatencyHistogram>();
const idle = new IdleConnections();

async function run(spec: RoundSpec): Promise<RoundResult> {
  const histogram = spec.record ? (histograms.get(spec.key) ?? new LatencyHistogram()) : new LatencyHistogram();
  histograms.set(spec.key, histogram);
  setSourceAddress(spec.sourceAddress);
  try {
    const result = await autocannon({
      url: spec.url,
      connections: spec.connections,
      pipelining: spec.pipelining,
      duration: spec.durationS,
      timeout: 10,
      headers: { host: spec.hostHeader, ...(spec.churn ? { connection: 'close' } : {}) },
      setupClient: clientSetup(histogram),
      skipAggregateResult: true,
    });
    return {
      requests: result.totalCompletedRequests,
      ok: result['2xx'],
      bytes: result.totalBytes,
      durationS: result.duration,
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
    };
  } finally {
    setSourceAddress(undefined);
    if (!spec.record) histograms.delete(spec.key);
  }
}

/** One GET on a fresh connection: is the target there, and how big is its answer? */
function probe(spec: ProbeSpec): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const req = request(spec.url, { agent: false, headers: { host: spec.hostHeader, connection: 'close' }, localAddress: spec.sourceAddress }, (res) => {
      let bodyBytes = 0;
      res.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bodyBytes }));
      res.on('error', reject);
    });
    req.setTimeout(spec.timeoutMs, () => req.destroy(new Error(`no answer within ${spec.timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

serveParent({
  run: (spec: RoundSpec) => run(spec),
  latency: ({ key }: { key: string }): LatencySummary => (histograms.get(key) ?? new LatencyHistogram()).summary(),
  probe: (spec: ProbeSpec) => probe(spec),
  hold: (spec: HoldSpec) => idle.open(spec),
  release: () => idle.release(),
  stop: () => idle.release().then(() => true),
});
exitWithParent(() => idle.release().then(() => {}));
