/**
 * `npm run soak` (not part of `npm test`): mixed L4 and HTTP load through an LB frontend
 * for 10 minutes (--minutes / --seconds for less), while nodes stop and start, pods
 * flip readiness and live `apply` changes the replica count. Asserts zero lost bytes on
 * completed flows (a flow cut by a stopped node is counted apart, as interrupted), and
 * RSS and open files of the aks-emu process flat; prints the figures. Run it in a
 * network namespace of its own:  ip netns exec NS npm run soak -- --minutes 3
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { parseArgs } from 'node:util';

import { spawnChild } from './ipc.js';
import { memory, openFiles } from './proc-stats.js';
import type { SoakReady } from './soak-cluster.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string' },
    seconds: { type: 'string' },
    'l4-flows': { type: 'string', default: '8' },
    'http-flows': { type: 'string', default: '4' },
    'churn-seconds': { type: 'string', default: '10' },
  },
});
const durationMs = values.seconds !== undefined ? Number(values.seconds) * 1000 : Number(values.minutes ?? 10) * 60_000;
if (!(durationMs > 0)) throw new Error('--minutes / --seconds must be a positive number');
const churnMs = Number(values['churn-seconds']) * 1000;
const t0 = Date.now();
const log = (line: string): void => void process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

interface Tally {
  completed: number;
  completedBytes: number;
  /** Completed flows whose bytes differ from what was sent, and by how many bytes. */
  corrupted: number;
  lostBytes: number;
  interrupted: number;
}
const l4: Tally = { completed: 0, completedBytes: 0, corrupted: 0, lostBytes: 0, interrupted: 0 };
const http: Tally = { completed: 0, completedBytes: 0, corrupted: 0, lostBytes: 0, interrupted: 0 };
const SOURCE = randomBytes(1 << 20);

/** One echo flow: random bytes out, half-close, every byte back. */
function echoFlow(host: string): Promise<void> {
  const size = 1 + Math.floor(Math.random() * 256 * 1024);
  const offset = Math.floor(Math.random() * (SOURCE.length - size));
  const sent = SOURCE.subarray(offset, offset + size);
  return new Promise((resolve) => {
    const socket = connect({ host, port: 9000 });
    const chunks: Buffer[] = [];
    let failed = false;
    socket.on('error', () => (failed = true));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('connect', () => socket.end(sent));
    socket.on('close', () => {
      if (failed) l4.interrupted++;
      else {
        const back = Buffer.concat(chunks);
        l4.completed++;
        l4.completedBytes += back.length;
        if (!back.equals(sent)) {
          l4.corrupted++;
          l4.lostBytes += Math.abs(sent.length - back.length) || size;
        }
      }
      resolve();
    });
  });
}

/** One HTTP exchange: a body of a random size, complete to its Content-Length. */
function httpFlow(host: string): Promise<void> {
  const size = Math.floor(Math.random() * 512 * 1024);
  return new Promise((resolve) => {
    const req = request({ host, port: 80, path: `/anything?size=${size}`, agent: false }, (res) => {
      let received = 0;
      res.on('data', (c: Buffer) => (received += c.length));
      res.on('error', () => {});
      res.on('close', () => {
        if (!res.complete) http.interrupted++;
        else {
          http.completed++;
          http.completedBytes += received;
          if (res.statusCode !== 200 || received !== size) {
            http.corrupted++;
            http.lostBytes += Math.abs(size - received);
          }
        }
        resolve();
      });
    });
    req.on('error', () => {
      http.interrupted++;
      resolve();
    });
    req.end();
  });
}

async function worker(flow: (host: string) => Promise<void>, host: string, until: () => boolean): Promise<void> {
  while (!until()) await flow(host);
}

const child = spawnChild({ entry: 'soak-cluster.ts', fileLimit: 65_536 });
try {
  const { data } = await child.awaitNotice(['ready'], 180_000);
  const ready = data as SoakReady;
  const pid = child.pid;
  const baseline = { rss: (await memory(pid)).rssBytes, fds: await openFiles(pid) };
  log(
    `cluster ready (pid ${pid}, ${ready.nodes.length} nodes, frontend ${ready.frontend}); RSS ${mb(baseline.rss)}, ${baseline.fds} open files; load for ${durationMs / 1000} s`,
  );

  const deadline = Date.now() + durationMs;
  const over = (): boolean => Date.now() >= deadline;
  const workers = [
    ...Array.from({ length: Number(values['l4-flows']) }, () => worker(echoFlow, ready.frontend, over)),
    ...Array.from({ length: Number(values['http-flows']) }, () => worker(httpFlow, ready.frontend, over)),
  ];

  const samples: { rss: number; fds: number }[] = [];
  const churn: string[] = [];
  let step = 0;
  let scaled = false;
  while (!over()) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(churnMs, Math.max(0, deadline - Date.now()))));
    if (over()) break;
    // One change per round, in turn: a node stops (and the previous one comes back), a pod flips readiness, a live apply.
    const node = ready.nodes[(step >> 2) % ready.nodes.length]!;
    switch (step++ % 4) {
      case 0:
        await child.call('stopNode', { name: node });
        churn.push(`stop ${node}`);
        break;
      case 1:
        await child.call('startNode', { name: node });
        churn.push(`start ${node}`);
        break;
      case 2: {
        const pods = await child.call<string[]>('pods');
        const pod = pods[step % pods.length]!;
        await child.call('setPodReady', { name: pod, ready: false });
        await new Promise((resolve) => setTimeout(resolve, churnMs / 2));
        await child.call('setPodReady', { name: pod, ready: null });
        churn.push(`flip ${pod}`);
        break;
      }
      default:
        scaled = !scaled;
        await child.call('scale', { replicas: scaled ? 6 : 4 });
        churn.push(`apply replicas ${scaled ? 6 : 4}`);
    }
    const sample = { rss: (await memory(pid)).rssBytes, fds: await openFiles(pid) };
    samples.push(sample);
    log(
      `RSS ${mb(sample.rss)}, ${sample.fds} open files; L4 ${l4.completed} completed / ${l4.interrupted} interrupted; HTTP ${http.completed} / ${http.interrupted}; last change: ${churn.at(-1)}`,
    );
  }
  await Promise.all(workers);
  await child.call('startNode', { name: ready.nodes[((step - 1) >> 2) % ready.nodes.length]! }).catch(() => {});
  // Flows are over: what the process still holds open is what it leaked.
  const settleBy = Date.now() + 10_000;
  while ((await child.call<number>('activeConnections')) > 0 && Date.now() < settleBy) await new Promise((resolve) => setTimeout(resolve, 100));
  const end = { rss: (await memory(pid)).rssBytes, fds: await openFiles(pid) };
  const errors = await child.call<unknown[]>('listenerErrors');

  const firstHalf = samples.slice(0, Math.max(1, samples.length >> 1));
  const secondHalf = samples.slice(samples.length >> 1);
  const peak = (xs: { rss: number }[]) => Math.max(...xs.map((s) => s.rss));
  const rssGrowth = samples.length < 2 ? 0 : peak(secondHalf) - peak(firstHalf);
  const fdGrowth = end.fds - baseline.fds;
  const seconds = (Date.now() - t0) / 1000;
  process.stdout.write(`
soak: ${(durationMs / 1000).toFixed(0)} s of load, ${churn.length} changes (${churn.filter((c) => c.startsWith('stop')).length} node stops, ${churn.filter((c) => c.startsWith('flip')).length} readiness flips, ${churn.filter((c) => c.startsWith('apply')).length} applies)
  L4 echo flows:   ${l4.completed} completed (${mb(l4.completedBytes)} back), ${l4.interrupted} interrupted, ${l4.corrupted} completed with lost bytes (${l4.lostBytes} bytes)
  HTTP exchanges:  ${http.completed} completed (${mb(http.completedBytes)}), ${http.interrupted} interrupted, ${http.corrupted} wrong (${http.lostBytes} bytes)
  RSS:             ${mb(baseline.rss)} at start, peak ${mb(peak(firstHalf))} in the first half, ${mb(peak(secondHalf))} in the second, ${mb(end.rss)} at the end
  open files:      ${baseline.fds} at start, ${end.fds} at the end (flows closed)
  listener errors: ${JSON.stringify(errors)}
  wall time:       ${seconds.toFixed(0)} s
`);
  const failures = [
    l4.lostBytes + http.lostBytes > 0 ? `lost bytes on completed flows: ${l4.lostBytes + http.lostBytes}` : '',
    l4.completed === 0 || http.completed === 0 ? 'no completed flow of some kind' : '',
    // Flat: the second half may not peak more than 20% (and 32 MB) above the first.
    rssGrowth > Math.max(32 * 1024 * 1024, 0.2 * peak(firstHalf)) ? `RSS grew by ${mb(rssGrowth)} from the first half to the second` : '',
    fdGrowth > 16 ? `open files grew by ${fdGrowth}` : '',
    errors.length > 0 ? 'unexpected listener errors' : '',
  ].filter((f) => f !== '');
  process.stdout.write(failures.length === 0 ? 'soak: PASS\n' : `soak: FAIL: ${failures.join('; ')}\n`);
  process.exitCode = failures.length === 0 ? 0 : 1;
} finally {
  await child.stop();
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
