/**
 * What the per-request observability hooks cost, alone: the ingress proxy's calls into
 * observe/http.ts (begin, a try, the response's close) on simulated requests, in fresh
 * processes, against the same loop without an observer and against another checkout's
 * observe/http.ts (--baseline DIR). Each request also makes some short-lived garbage
 * (--garbage objects), as parsing and proxying a real request does, so young collections
 * run at a realistic pace and a record the rings keep outlives them as it does in aks-emu.
 *
 * The figure is process CPU per request (process.cpuUsage: the garbage collector's helper
 * threads count too, which a CPU profile of the main thread does not show), minus the same
 * loop without hooks. Variants run interleaved, one fresh process each, pinned to one CPU.
 *
 *   node --import tsx perf/hook-cost.ts [--baseline DIR] [--requests N] [--rounds R] [--garbage G]
 */
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface Result {
  readonly variant: string;
  readonly cpuUsPerRequest: number;
  readonly gcMs: number;
  readonly majorGcs: number;
}

const HERE = fileURLToPath(import.meta.url);
const REPO = resolve(HERE, '../..');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : (process.argv[i + 1] ?? fallback);
}

/** A module of a checkout's src/dataplane. */
async function load<M>(dir: string, path: string): Promise<M> {
  return (await import(pathToFileURL(resolve(dir, 'src/dataplane', path)).href)) as M;
}

/** One variant's loop, in this (child) process. `dir`: the checkout whose observe/http.ts is used; '' for none. */
async function child(variant: string, dir: string, requests: number, garbage: number): Promise<Result> {
  const { Exchange } = await load<typeof import('../src/dataplane/ingress/exchange.js')>(REPO, 'ingress/exchange.ts');
  const { newRequestId } = await load<typeof import('../src/dataplane/ingress/proxy-headers.js')>(REPO, 'ingress/proxy-headers.ts');
  type Observer = import('../src/dataplane/observe/http.js').HttpObserver;
  let observer: Observer | undefined;
  if (dir !== '') {
    const http = await load<typeof import('../src/dataplane/observe/http.js')>(dir, 'observe/http.ts');
    const { Traces } = await load<typeof import('../src/dataplane/observe/traces.js')>(dir, 'observe/traces.ts');
    const { HttpCounters } = await load<typeof import('../src/dataplane/observe/http-counters.js')>(dir, 'observe/http-counters.ts');
    const { AccessLog } = await load<typeof import('../src/dataplane/observe/access-log.js')>(dir, 'observe/access-log.ts');
    observer = new http.HttpObserver({ traces: new Traces(), counters: new HttpCounters(), pod: 'ingress-nginx/controller-0', accessLog: new AccessLog() });
  }
  const socket = { remoteAddress: '127.0.0.1', remotePort: 40000 };
  const head = Buffer.from('GET / HTTP/1.1\r\nHost: perf.local\r\nUser-Agent: autocannon\r\nAccept: */*\r\n\r\n', 'latin1');
  const endpoint = { address: '127.244.0.7:8080', config: { ip: '127.244.0.7', port: 8080, podName: 'echo-0', podNamespace: 'default' } };
  let sink = 0;
  const one = (): void => {
    // New strings per request, as the HTTP parser makes them.
    const url = head.toString('latin1', 4, 5);
    const host = head.toString('latin1', 22, 32);
    const agent = head.toString('latin1', 46, 56);
    const req = {
      method: 'GET',
      url,
      httpVersion: '1.1',
      headers: { host, 'user-agent': agent, accept: '*/*' },
      rawHeaders: ['Host', host, 'User-Agent', agent, 'Accept', '*/*'],
      socket,
    };
    const res = Object.assign(new EventEmitter(), { headersSent: true, statusCode: 200, _header: 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n' });
    const ex = new Exchange(req as never, 'http', '80');
    ex.host = host;
    ex.url = ex.target = url;
    ex.requestId = newRequestId();
    observer?.begin(ex, res as never);
    const trace = ex.observed as (typeof ex.observed & { relayed?: number }) | undefined;
    const t = trace?.tryStarted(endpoint as never);
    if (t !== undefined) {
      t.headers(200);
      const relayed = t.recv(5, true) as unknown;
      if (typeof relayed === 'number' && trace !== undefined) (trace as { relayed: number }).relayed += relayed;
      t.done();
    }
    // The rest of a request's short-lived objects.
    let junk: { i: number; s: string }[] = [];
    for (let i = 0; i < garbage; i++) junk.push({ i, s: `h${i}` });
    sink += junk.length;
    junk = [];
    res.emit('close');
  };
  for (let i = 0; i < requests / 4; i++) one();
  let gcMs = 0;
  let majorGcs = 0;
  const gcs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0;
      if (kind !== 1) majorGcs++;
    }
  });
  gcs.observe({ entryTypes: ['gc'] });
  const before = process.cpuUsage();
  for (let i = 0; i < requests; i++) one();
  const used = process.cpuUsage(before);
  // GC entries are delivered asynchronously.
  await new Promise((r) => setTimeout(r, 100));
  gcs.disconnect();
  if (sink < 0) throw new Error('unreachable');
  return { variant, cpuUsPerRequest: (used.user + used.system) / requests, gcMs, majorGcs };
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const [, , , variant = '', dir = '', requests = '0', garbage = '0'] = process.argv;
    process.stdout.write(JSON.stringify(await child(variant, dir, Number(requests), Number(garbage))));
    return;
  }
  const baseline = process.argv.includes('--baseline') ? resolve(arg('--baseline', '')) : undefined;
  const requests = Number(arg('--requests', '200000'));
  const rounds = Number(arg('--rounds', '5'));
  const garbage = Number(arg('--garbage', '100'));
  const variants: [string, string][] = [
    ['none', ''],
    ['this build', REPO],
    ...(baseline === undefined ? [] : ([['baseline', baseline]] as [string, string][])),
  ];
  // Pinned to one CPU where taskset is there (as the harness pins aks-emu), so every variant runs alike.
  const pin = availableParallelism() >= 2 && spawnSync('taskset', ['-V']).error === undefined ? ['taskset', '-c', '1'] : [];
  const results = new Map<string, Result[]>();
  for (let round = 0; round < rounds; round++) {
    for (const [variant, dir] of variants) {
      const cmd = [...pin, process.execPath, '--import', 'tsx', HERE, '--child', variant, dir, String(requests), String(garbage)];
      const run = spawnSync(cmd[0]!, cmd.slice(1), { cwd: REPO, encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`${variant}: ${run.error?.message ?? run.stderr}`);
      const r = JSON.parse(run.stdout) as Result;
      results.set(variant, [...(results.get(variant) ?? []), r]);
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const none = median(results.get('none')!.map((r) => r.cpuUsPerRequest));
  console.log(`${requests} requests × ${rounds} rounds per variant, ${garbage} short-lived objects per request; median CPU µs per request`);
  for (const [variant, rs] of results) {
    const cpu = median(rs.map((r) => r.cpuUsPerRequest));
    const gc = median(rs.map((r) => r.gcMs));
    const major = median(rs.map((r) => r.majorGcs));
    const hooks = variant === 'none' ? '' : `, hooks ${(cpu - none).toFixed(2)} µs`;
    console.log(
      `  ${variant.padEnd(10)} ${cpu.toFixed(2)} µs${hooks}  (all rounds: ${rs.map((r) => r.cpuUsPerRequest.toFixed(2)).join(' ')}; GC pauses ${gc.toFixed(0)} ms, ${major} non-young GCs)`,
    );
  }
}

await main();
