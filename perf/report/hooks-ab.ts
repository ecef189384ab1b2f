/**
 * What the observability hooks cost on the harness's own rows (`--hooks-ab`): each row of
 * BASELINE_TARGETS beside its `@nohooks` twin (the same checkout with AKS_EMU_PERF_HOOKS=off),
 * measured one right after the other in every round. Each round gives a ratio of the two;
 * the figure is the median of those ratios with their spread, which a slow round on a shared
 * machine moves less than a ratio of the totals.
 */
import type { RowResult, RoundFigures } from '../measure.js';
import { BASELINE_TARGETS, type BaselineTarget, type ModeId } from '../options.js';
import type { Goal } from './goals.js';

/** The goal of issues 12 and 14: with nothing configured, the hooks cost at most 3 %. */
export const HOOK_COST_GOAL = 0.03;

/** A per-round figure over the rounds: its median, lowest and highest value. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly perRound: readonly number[];
}

export interface HookCost {
  readonly row: BaselineTarget;
  readonly mode: ModeId;
  /** Rounds paired (both builds completed requests). */
  readonly rounds: number;
  /** Totals over the rounds, hooks on and off. */
  readonly rps: { readonly on: number; readonly off: number };
  /** Server CPU µs per request, median of the rounds, hooks on and off. */
  readonly cpuUsPerRequest: { readonly on: number; readonly off: number };
  /** Per round 1 − on/off req/s: the share of throughput the hooks take (negative: the hooks-on row was faster). */
  readonly rpsCost: Spread;
  /** Per round on/off server CPU per request − 1: what the hooks add to each request's CPU. */
  readonly cpuCost: Spread;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function spread(values: readonly number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), perRound: values };
}

const usPerRequest = (r: RoundFigures): number => (r.serverCpuS / r.requests) * 1e6;
const rpsOf = (r: RoundFigures): number => r.requests / r.durationS;

/** The cost of the hooks per row and mode, from a run's results; rows without a measured @nohooks twin are left out. */
export function hookCosts(results: readonly RowResult[]): HookCost[] {
  const costs: HookCost[] = [];
  for (const on of results) {
    if (!(BASELINE_TARGETS as readonly string[]).includes(on.row) || on.unavailable !== undefined) continue;
    const row = on.row as BaselineTarget;
    const off = results.find((r) => r.mode === on.mode && r.row === `${row}@nohooks` && r.unavailable === undefined);
    if (off === undefined) continue;
    const pairs: [RoundFigures, RoundFigures][] = [];
    const onRounds = on.rounds ?? [];
    const offRounds = off.rounds ?? [];
    for (let i = 0; i < Math.min(onRounds.length, offRounds.length); i++) {
      const a = onRounds[i]!;
      const b = offRounds[i]!;
      if (a.requests > 0 && b.requests > 0 && a.durationS > 0 && b.durationS > 0) pairs.push([a, b]);
    }
    if (pairs.length === 0) continue;
    costs.push({
      row,
      mode: on.mode,
      rounds: pairs.length,
      rps: { on: on.rps, off: off.rps },
      cpuUsPerRequest: { on: median(pairs.map(([a]) => usPerRequest(a))), off: median(pairs.map(([, b]) => usPerRequest(b))) },
      rpsCost: spread(pairs.map(([a, b]) => 1 - rpsOf(a) / rpsOf(b))),
      cpuCost: spread(pairs.map(([a, b]) => usPerRequest(a) / usPerRequest(b) - 1)),
    });
  }
  return costs;
}

export const percent = (n: number): string => `${n >= 0 ? '+' : '−'}${Math.abs(n * 100).toFixed(1)} %`;
const range = (s: Spread): string => `${percent(s.min)} … ${percent(s.max)}`;
const MODE: Readonly<Record<ModeId, string>> = { keepalive: 'keep-alive', churn: 'churn', body: '1 MiB' };

/**
 * One goal per row and mode, judged on server CPU per request (median of the rounds): on a
 * shared machine it moves far less between rounds than req/s, which the line gives beside it.
 */
export function hookCostGoals(costs: readonly HookCost[]): Goal[] {
  return costs.map((c) => ({
    status: c.cpuCost.median <= HOOK_COST_GOAL ? 'PASS' : 'FAIL',
    text:
      `${MODE[c.mode]}: hooks on ${c.row}: server CPU ${percent(c.cpuCost.median)} per request ` +
      `(${c.cpuUsPerRequest.on.toFixed(1)} against ${c.cpuUsPerRequest.off.toFixed(1)} µs, median of ${c.rounds} rounds, ${range(c.cpuCost)}), ` +
      `req/s cost ${percent(c.rpsCost.median)} (${range(c.rpsCost)}), against ${c.row}@nohooks ` +
      `(goal: server CPU ≤ +${HOOK_COST_GOAL * 100} %)`,
  }));
}

/** The markdown section: a row per row and mode. */
export function hookCostSection(costs: readonly HookCost[]): string[] {
  if (costs.length === 0) return [];
  const lines = [
    '',
    '## What the observability hooks cost (--hooks-ab)',
    '',
    'Each row against its `@nohooks` twin: the same checkout with `AKS_EMU_PERF_HOOKS=off` (no flow record per connection, no ' +
      'trace, route counters or access log line per request), measured right after it in every round. Per round: req/s of hooks ' +
      'on over off, and server CPU per request (aks-emu, plus the external backend on *-external rows) of on over off; the ' +
      'median of the rounds, and the lowest and highest round. Positive: the hooks cost that much.',
    '',
    '| mode | row | rounds | req/s on | req/s off | req/s cost, median | req/s cost, rounds | CPU µs/req on | CPU µs/req off | CPU cost, median | CPU cost, rounds |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const c of costs) {
    lines.push(
      `| ${MODE[c.mode]} | ${c.row} | ${c.rounds} | ${Math.round(c.rps.on).toLocaleString('en-US')} | ${Math.round(c.rps.off).toLocaleString('en-US')} | ` +
        `${percent(c.rpsCost.median)} | ${range(c.rpsCost)} | ${c.cpuUsPerRequest.on.toFixed(1)} | ${c.cpuUsPerRequest.off.toFixed(1)} | ` +
        `${percent(c.cpuCost.median)} | ${range(c.cpuCost)} |`,
    );
  }
  return lines;
}
