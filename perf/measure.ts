/**
 * One mode (keep-alive, churn, 1 MiB) over every row, interleaved round by round
 * (A B C ... A B C ...), so that drift in the machine (other load, thermal, caches)
 * spreads over all rows instead of landing on one. Every row gets the same connections,
 * pipelining and duration; CPU and peak RSS of aks-emu (and of the anchor, on anchor rows)
 * are read from /proc around each of its rounds.
 */
import type { Child } from './ipc.js';
import type { LatencySummary } from './latency-histogram.js';
import type { ProbeResult, ProbeSpec, RoundResult, RoundSpec } from './load-types.js';
import { baselineTargetOf, isExternalRow, type AnchorRowId, type Mode, type RowId, type Settings } from './options.js';
import { UsageWindow } from './proc-stats.js';

export interface Row {
  readonly id: RowId;
  readonly layer: 'limit' | 'L4' | 'L7';
  /** The hops, in words. */
  readonly path: string;
  readonly via: string;
  readonly host?: string;
  readonly port?: number;
  readonly sourceAddress?: string;
  /** Overrides the context's Host header (the external Ingress rule has its own host). */
  readonly hostHeader?: string;
  /** The row this one is held against. */
  readonly anchor?: AnchorRowId;
  /** The anchor process itself (anchor rows only). */
  readonly proxyPid?: number;
  /** The aks-emu process serving this row, when not the context's (the baseline build's rows). */
  readonly aksEmuPid?: number;
  readonly unavailable?: string;
}

export interface RowResult {
  readonly row: RowId;
  readonly mode: Mode['id'];
  readonly layer: Row['layer'];
  readonly path: string;
  readonly via: string;
  readonly anchor?: AnchorRowId;
  /** Set when the row could not run: `n/a: <reason>` in the table. */
  readonly unavailable?: string;
  readonly requests: number;
  readonly durationS: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** non-2xx responses + socket errors + timeouts. */
  readonly errors: number;
  readonly aksEmuCpuS: number;
  readonly aksEmuPeakRssBytes: number;
  /** The anchor process's CPU (anchor rows only). */
  readonly proxyCpuS?: number;
  /** The external backend process's CPU (rows that end at it only). */
  readonly backendCpuS?: number;
  /** Connections the LB frontend accepted during the rounds (lb row only, when aks-emu reports it). */
  readonly lbConnections?: number;
  /** Each recorded round, in order. */
  readonly rounds?: readonly RoundFigures[];
}

/** One recorded round of a row: what the per-round comparisons (report/hook-cost.ts) pair up. */
export interface RoundFigures {
  readonly requests: number;
  readonly durationS: number;
  /** aks-emu + anchor + external backend CPU seconds during the round. */
  readonly serverCpuS: number;
}

export interface MeasureContext {
  readonly load: Child;
  readonly aksEmuPid: number;
  readonly hostHeader: string;
  readonly settings: Settings;
  readonly log: (line: string) => void;
  /** Connections accepted so far by every LB frontend of aks-emu, or undefined if it does not say. */
  readonly lbConnections: () => Promise<number | undefined>;
  /** Keeps this call's latencies apart from another call's of the same mode and row (a curve point). */
  readonly keyPrefix?: string;
  /** The external backend process, whose CPU the rows ending at it add to theirs. */
  readonly backendPid?: number;
  /** Around the recorded rounds of a mode (after its warm-up): the profiler's window. */
  readonly roundsStart?: () => Promise<void>;
  readonly roundsEnd?: () => Promise<void>;
}

/** How long a row may take to answer its first request (the LB and readiness probes settle). */
const PROBE_BUDGET_MS = 30_000;

interface Accumulator {
  requests: number;
  durationS: number;
  errors: number;
  cpuS: number;
  proxyCpuS: number;
  backendCpuS: number;
  peakRss: number;
  lbConnections?: number;
  rounds: RoundFigures[];
  failed?: string;
}

function urlOf(row: Row, mode: Mode): string {
  return `http://${row.host}:${row.port}${mode.path}`;
}

/**
 * Polls with one request at a time until `url` answers 200 with at least `minBodyBytes`,
 * or the budget is spent; undefined when it does, else why not.
 */
export async function awaitAnswer(load: Child, probe: Omit<ProbeSpec, 'timeoutMs'>, minBodyBytes: number): Promise<string | undefined> {
  const deadline = Date.now() + PROBE_BUDGET_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const r = await load.call<ProbeResult>('probe', { ...probe, timeoutMs: 5_000 });
      if (r.status === 200 && r.bodyBytes >= minBodyBytes) return undefined;
      if (r.status === 200) return `the echo pod answered ${r.bodyBytes} bytes, not ${minBodyBytes} (it needs \`?size=N\` support)`;
      last = `HTTP ${r.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return `no 200 within ${PROBE_BUDGET_MS / 1000} s (${last})`;
}

function checkRow(row: Row, mode: Mode, ctx: MeasureContext): Promise<string | undefined> {
  const source = row.sourceAddress === undefined ? {} : { sourceAddress: row.sourceAddress };
  return awaitAnswer(ctx.load, { url: urlOf(row, mode), hostHeader: row.hostHeader ?? ctx.hostHeader, ...source }, mode.minBodyBytes);
}

function roundSpec(row: Row, mode: Mode, ctx: MeasureContext, durationS: number, record: boolean): RoundSpec {
  return {
    key: `${ctx.keyPrefix ?? ''}${mode.id}/${row.id}`,
    url: urlOf(row, mode),
    hostHeader: row.hostHeader ?? ctx.hostHeader,
    ...(row.sourceAddress === undefined ? {} : { sourceAddress: row.sourceAddress }),
    connections: ctx.settings.connections,
    pipelining: mode.pipelining,
    durationS,
    churn: mode.churn,
    record,
  };
}

async function measureRound(row: Row, mode: Mode, ctx: MeasureContext, acc: Accumulator): Promise<void> {
  // Read outside the window: it is a call into aks-emu's event loop.
  const lbBefore = row.id === 'lb' ? await ctx.lbConnections() : undefined;
  const aksEmu = await UsageWindow.open(row.aksEmuPid ?? ctx.aksEmuPid);
  const proxy = row.proxyPid === undefined ? undefined : await UsageWindow.open(row.proxyPid);
  const backend = ctx.backendPid !== undefined && isExternalRow(row.id) ? await UsageWindow.open(ctx.backendPid) : undefined;
  const result = await ctx.load.call<RoundResult>('run', roundSpec(row, mode, ctx, ctx.settings.durationS, true));
  const usage = await aksEmu.close();
  const proxyUsage = await proxy?.close();
  const backendUsage = await backend?.close();
  acc.requests += result.requests;
  acc.durationS += result.durationS;
  acc.errors += result.non2xx + result.errors + result.timeouts;
  acc.cpuS += usage.cpuSeconds;
  acc.proxyCpuS += proxyUsage?.cpuSeconds ?? 0;
  acc.backendCpuS += backendUsage?.cpuSeconds ?? 0;
  acc.peakRss = Math.max(acc.peakRss, usage.peakRssBytes);
  acc.rounds.push({
    requests: result.requests,
    durationS: result.durationS,
    serverCpuS: usage.cpuSeconds + (proxyUsage?.cpuSeconds ?? 0) + (backendUsage?.cpuSeconds ?? 0),
  });
  const lbAfter = lbBefore === undefined ? undefined : await ctx.lbConnections();
  if (lbBefore !== undefined && lbAfter !== undefined) acc.lbConnections = (acc.lbConnections ?? 0) + lbAfter - lbBefore;
}

function emptyResult(row: Row, mode: Mode): RowResult {
  return {
    row: row.id,
    mode: mode.id,
    layer: row.layer,
    path: row.path,
    via: row.via,
    ...(row.anchor ? { anchor: row.anchor } : {}),
    requests: 0,
    durationS: 0,
    rps: 0,
    p50Ms: 0,
    p99Ms: 0,
    maxMs: 0,
    errors: 0,
    aksEmuCpuS: 0,
    aksEmuPeakRssBytes: 0,
  };
}

/**
 * The order of a round: a row and its second-build twin (`@base`, `@nohooks`) that follows it
 * swap places every other round (A B, B A, ...), so whatever favours the first or the second
 * of two rows in a round (the machine's drift, the load generator's warmth) lands on each
 * build alike instead of on one.
 */
export function roundOrder<T extends { readonly id: RowId }>(rows: readonly T[], round: number): T[] {
  const order = [...rows];
  if (round % 2 === 1) return order;
  for (let i = 0; i + 1 < order.length; i++) {
    const a = order[i]!;
    const b = order[i + 1]!;
    if (baselineTargetOf(a.id) === undefined && baselineTargetOf(b.id) === a.id) {
      order[i] = b;
      order[i + 1] = a;
      i++;
    }
  }
  return order;
}

export async function measureMode(mode: Mode, rows: readonly Row[], ctx: MeasureContext): Promise<RowResult[]> {
  const accs = new Map<RowId, Accumulator>();
  const reasons = new Map<RowId, string>();
  for (const row of rows) {
    const reason = row.unavailable ?? (await checkRow(row, mode, ctx));
    if (reason === undefined) accs.set(row.id, { requests: 0, durationS: 0, errors: 0, cpuS: 0, proxyCpuS: 0, backendCpuS: 0, peakRss: 0, rounds: [] });
    else {
      reasons.set(row.id, reason);
      ctx.log(`  ${mode.id}/${row.id}: n/a: ${reason}`);
    }
  }
  const live = rows.filter((r) => accs.has(r.id));
  if (ctx.settings.warmupS > 0) {
    for (const row of live) await ctx.load.call('run', roundSpec(row, mode, ctx, ctx.settings.warmupS, false)).catch(() => {});
  }
  if (live.length > 0) await ctx.roundsStart?.();
  for (let round = 1; live.length > 0 && round <= ctx.settings.rounds; round++) {
    for (const row of roundOrder(live, round)) {
      const acc = accs.get(row.id)!;
      if (acc.failed !== undefined) continue;
      try {
        await measureRound(row, mode, ctx, acc);
      } catch (err) {
        acc.failed = `round ${round} failed: ${(err as Error).message}`;
        ctx.log(`  ${mode.id}/${row.id}: ${acc.failed}`);
      }
    }
    ctx.log(`  ${mode.id}: round ${round}/${ctx.settings.rounds} done`);
  }
  if (live.length > 0) await ctx.roundsEnd?.();
  const results: RowResult[] = [];
  for (const row of rows) {
    const acc = accs.get(row.id);
    if (!acc || acc.failed !== undefined) {
      results.push({ ...emptyResult(row, mode), unavailable: reasons.get(row.id) ?? acc?.failed ?? 'not run' });
      continue;
    }
    const latency = await ctx.load.call<LatencySummary>('latency', { key: `${ctx.keyPrefix ?? ''}${mode.id}/${row.id}` });
    results.push({
      ...emptyResult(row, mode),
      requests: acc.requests,
      durationS: acc.durationS,
      rps: acc.durationS > 0 ? acc.requests / acc.durationS : 0,
      p50Ms: latency.p50Ms,
      p99Ms: latency.p99Ms,
      maxMs: latency.maxMs,
      errors: acc.errors,
      aksEmuCpuS: acc.cpuS,
      aksEmuPeakRssBytes: acc.peakRss,
      ...(row.proxyPid === undefined ? {} : { proxyCpuS: acc.proxyCpuS }),
      ...(ctx.backendPid !== undefined && isExternalRow(row.id) ? { backendCpuS: acc.backendCpuS } : {}),
      ...(acc.lbConnections === undefined ? {} : { lbConnections: acc.lbConnections }),
      rounds: acc.rounds,
    });
  }
  return results;
}
