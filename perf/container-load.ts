/**
 * One load round for perf/container-lb.ts, run in the client container's network namespace
 * (`nsenter -t PID -n node --import tsx perf/container-load.ts URL CONNECTIONS SECONDS
 * keepalive|churn`): autocannon with the harness's honest reconnects (autocannon-client.ts),
 * so that `Connection: close` gives one connection per request and latencies start when the
 * request is written. Prints one JSON line: req/s, p99 ms, errors.
 */
import autocannon from 'autocannon';

import { clientSetup } from './autocannon-client.js';
import { LatencyHistogram } from './latency-histogram.js';

const [url, connections, seconds, mode] = process.argv.slice(2);
if (url === undefined || !(Number(connections) >= 1) || !(Number(seconds) >= 1) || (mode !== 'keepalive' && mode !== 'churn')) {
  console.error('usage: perf/container-load.ts URL CONNECTIONS SECONDS keepalive|churn');
  process.exit(2);
}
const histogram = new LatencyHistogram();
const result = await autocannon({
  url,
  connections: Number(connections),
  duration: Number(seconds),
  timeout: 10,
  ...(mode === 'churn' ? { headers: { connection: 'close' } } : {}),
  setupClient: clientSetup(histogram),
  skipAggregateResult: true,
});
console.log(
  JSON.stringify({
    reqs: result.totalCompletedRequests / result.duration,
    p99: histogram.summary().p99Ms,
    errors: result.errors + result.timeouts + result.non2xx,
  }),
);
