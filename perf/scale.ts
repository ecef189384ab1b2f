/**
 * The scale row: N idle keep-alive connections held through the LB frontend, then
 * released. It reports the aks-emu process's extra RSS per connection (after a GC on
 * both sides of the measure) and whether every socket was closed afterwards (its open
 * file count back to the baseline). The same is then done straight to the pod, so the
 * pod's own share (the echo pod lives in the aks-emu process) can be told apart.
 */
import type { Reach, Unavailable } from './cluster-types.js';
import { isReachable } from './cluster-types.js';
import type { HoldResult } from './idle-connections.js';
import type { Child } from './ipc.js';
import { awaitAnswer } from './measure.js';
import { fileLimit, memory, openAt, openFiles } from './proc-stats.js';

/** The goal is stated for this many connections. */
export const SCALE_GOAL_CONNECTIONS = 10_000;
/** Ephemeral ports per source address and destination (Linux 32768-60999), with a margin. */
const PORTS_PER_SOURCE = 25_000;
const FD_MARGIN = 256;
const RELEASE_BUDGET_MS = 30_000;
const FD_SETTLE_MS = 3_000;
/**
 * Descriptors aks-emu holds per connection through the LB: only the client's, which the
 * data plane hands to the in-process echo pod (the embedded runtime's hop collapse). A
 * dialled flow would hold three: the client's, the upstream, and the pod's own end.
 */
const FDS_PER_LB_CONNECTION = 1;

export interface HoldMeasure {
  readonly opened: number;
  readonly failed: number;
  readonly firstError?: string;
  readonly extraRssBytes: number;
  readonly bytesPerConnection: number;
  /** V8 heap used + external memory after a GC: the JS objects per connection, free of RSS's page reuse. */
  readonly extraHeapBytes: number;
  readonly fdsBefore: number;
  readonly fdsHeld: number;
  readonly fdsAfter: number;
  /** Held connections still open at the target's address:port after the release (/proc/net/tcp). */
  readonly leftAtTarget: number;
  /** Every socket closed: none left at the target, and the open file count back to the baseline. */
  readonly released: boolean;
}

export interface ScaleResult {
  readonly requested: number;
  readonly count: number;
  /** Why count < requested. */
  readonly limitedBy?: string;
  /** Client source addresses; empty: the kernel's choice, 127.0.0.1. */
  readonly sources: readonly string[];
  readonly direct?: HoldMeasure;
  readonly lb?: HoldMeasure;
  readonly unavailable?: string;
}

export interface ScaleContext {
  readonly cluster: Child;
  readonly load: Child;
  readonly aksEmuPid: number;
  readonly hostHeader: string;
  readonly log: (line: string) => void;
}

/** RSS and JS memory right after a full GC in the aks-emu process. */
async function settledMemory(ctx: ScaleContext): Promise<{ rss: number; heap: number }> {
  const usage = await ctx.cluster.call<NodeJS.MemoryUsage>('gc');
  return { rss: (await memory(ctx.aksEmuPid)).rssBytes, heap: usage.heapUsed + usage.external };
}

async function pollUntil(check: () => Promise<boolean>, budgetMs: number): Promise<void> {
  const deadline = Date.now() + budgetMs;
  while (!(await check()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
}

/**
 * Waits for the target's side of every held connection to close, then for the open file
 * count to come back to the baseline. Both are reported: descriptors can also stay open
 * for reasons unrelated to the held connections (then `leftAtTarget` is 0).
 */
async function waitReleased(pid: number, target: Reach, sources: readonly string[], fdsBefore: number): Promise<{ fdsAfter: number; leftAtTarget: number }> {
  let leftAtTarget = 0;
  await pollUntil(async () => (leftAtTarget = await openAt(target.host, target.port, sources)) === 0, RELEASE_BUDGET_MS);
  let fdsAfter = 0;
  await pollUntil(async () => (fdsAfter = await openFiles(pid)) <= fdsBefore, FD_SETTLE_MS);
  return { fdsAfter, leftAtTarget };
}

async function hold(target: Reach, count: number, sources: readonly string[], ctx: ScaleContext): Promise<HoldMeasure> {
  const fdsBefore = await openFiles(ctx.aksEmuPid);
  const before = await settledMemory(ctx);
  const result = await ctx.load.call<HoldResult>('hold', {
    host: target.host,
    port: target.port,
    hostHeader: ctx.hostHeader,
    count,
    sources,
    concurrency: 200,
    timeoutMs: 10_000,
  });
  const fdsHeld = await openFiles(ctx.aksEmuPid);
  const held = await settledMemory(ctx);
  const extra = Math.max(0, held.rss - before.rss);
  await ctx.load.call('release');
  const { fdsAfter, leftAtTarget } = await waitReleased(ctx.aksEmuPid, target, sources.length > 0 ? sources : ['127.0.0.1'], fdsBefore);
  return {
    opened: result.opened,
    failed: result.failed,
    ...(result.firstError === undefined ? {} : { firstError: result.firstError }),
    extraRssBytes: extra,
    bytesPerConnection: result.opened > 0 ? extra / result.opened : 0,
    extraHeapBytes: held.heap - before.heap,
    fdsBefore,
    fdsHeld,
    fdsAfter,
    leftAtTarget,
    released: leftAtTarget === 0 && fdsAfter <= fdsBefore,
  };
}

export async function measureScale(
  requested: number,
  lb: Reach | Unavailable,
  direct: Reach | Unavailable,
  loadPid: number,
  ctx: ScaleContext,
): Promise<ScaleResult> {
  if (!isReachable(lb)) return { requested, count: 0, sources: [], unavailable: lb.unavailable };
  const aksEmuLimit = (await fileLimit(ctx.aksEmuPid)) ?? 1024;
  const loadLimit = (await fileLimit(loadPid)) ?? 1024;
  const aksEmuRoom = Math.floor((aksEmuLimit - (await openFiles(ctx.aksEmuPid)) - FD_MARGIN) / FDS_PER_LB_CONNECTION);
  const loadRoom = loadLimit - (await openFiles(loadPid)) - FD_MARGIN;
  const count = Math.max(0, Math.min(requested, aksEmuRoom, loadRoom));
  const limitedBy =
    count < requested
      ? `RLIMIT_NOFILE: through the LB aks-emu holds ${FDS_PER_LB_CONNECTION} descriptor per connection and may open ${aksEmuLimit}, the load generator ${loadLimit} (raise the hard limit: ulimit -Hn 65536)`
      : undefined;
  // The host's own connections come from 127.0.0.1 (outside the cluster); more addresses only past one's ports.
  const sources = count <= PORTS_PER_SOURCE ? [] : Array.from({ length: Math.ceil(count / PORTS_PER_SOURCE) }, (_, i) => `127.0.0.${i + 1}`);
  const base = { requested, count, sources, ...(limitedBy ? { limitedBy } : {}) };
  if (count === 0) return { ...base, unavailable: limitedBy ?? 'no room for connections' };
  const silent = await awaitAnswer(ctx.load, { url: `http://${lb.host}:${lb.port}/`, hostHeader: ctx.hostHeader }, 1);
  if (silent !== undefined) return { ...base, unavailable: `the LB frontend: ${silent}` };
  // The LB first: RSS rarely shrinks, so a later hold reuses pages the earlier one freed.
  // The goal's figure is thus taken on the freshest process (the harness starts one for it).
  ctx.log(`  scale: ${count} idle connections through the LB`);
  const lbMeasure = await hold(lb, count, sources, ctx);
  ctx.log(`  scale: ${count} idle connections straight to the pod`);
  const directMeasure = isReachable(direct) ? await hold(direct, count, sources, ctx) : undefined;
  return { ...base, ...(directMeasure ? { direct: directMeasure } : {}), lb: lbMeasure };
}
