/**
 * One client process of perf/container-idle.ts: `node --import tsx perf/idle-client.ts
 * HOST PORT COUNT`, run in a client container's network namespace (nsenter -n). It opens
 * COUNT keep-alive connections to HOST:PORT, one request and response on each (so every
 * hop is really established), prints one JSON line (the HoldResult), then holds them
 * until a line `release` arrives on stdin, closes them all and prints `{"released":N}`.
 *
 * A process of its own per client container because one process may hold only as many
 * descriptors as its open-file limit, and one source address gives ~28,000 ephemeral ports
 * per destination.
 */
import { createInterface } from 'node:readline';
import { IdleConnections } from './idle-connections.js';

const [host, portText, countText] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
if (host === undefined || !(Number.isInteger(port) && port > 0 && port < 65_536) || !(Number.isInteger(count) && count > 0)) {
  console.error('usage: perf/idle-client.ts HOST PORT COUNT');
  process.exit(2);
}

const held = new IdleConnections();
const result = await held.open({ host, port, hostHeader: host, count, sources: [], concurrency: 200, timeoutMs: 20_000 });
process.stdout.write(`${JSON.stringify(result)}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== 'release') continue;
  process.stdout.write(`${JSON.stringify({ released: await held.release() })}\n`);
  break;
}
