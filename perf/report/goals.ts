/**
 * The goals of the perf issue, judged on one run's results. They are benchmarks, not
 * tests: a FAIL is information for whoever optimises the data plane.
 */
import type { RowResult } from '../measure.js';
import type { AnchorRowId, ModeId, RowId } from '../options.js';
import { GOAL_SERVICES, type ScaleMeasure, type ScaleRun } from '../cluster-scale.js';
import { SCALE_GOAL_CONNECTIONS, type ScaleResult } from '../scale.js';

export interface Goal {
  readonly status: 'PASS' | 'FAIL' | 'N/A';
  readonly text: string;
}

const RPS_VS_ANCHOR = 1.0;
const P99_VS_ANCHOR = 1.2;
const LB_VS_DIRECT = 0.8;
const SCALE_BUDGET_BYTES = 64 * 2 ** 20;

const ANCHORED: readonly { row: RowId; anchor: AnchorRowId }[] = [
  { row: 'lb-external', anchor: 'haproxy-external' },
  { row: 'nodeport-external', anchor: 'haproxy-external' },
  { row: 'clusterip-external', anchor: 'haproxy-external' },
  { row: 'ingress-external', anchor: 'nginx-external' },
  { row: 'lb', anchor: 'haproxy' },
  { row: 'clusterip', anchor: 'haproxy' },
  { row: 'nodeport', anchor: 'haproxy' },
  { row: 'ingress', anchor: 'nginx' },
  { row: 'gateway', anchor: 'nginx' },
];

/** The L4 rows held against their direct limit (goal ≥ 0.8×). */
const VS_DIRECT: readonly [RowId, RowId][] = [
  ['lb-external', 'direct-external'],
  ['nodeport-external', 'direct-external'],
  ['clusterip-external', 'direct-external'],
  ['lb', 'direct'],
];

export const MODE_LABEL: Readonly<Record<ModeId, string>> = { keepalive: 'keep-alive', churn: 'churn', body: '1 MiB' };

const rps = (n: number): string => `${Math.round(n).toLocaleString('en-US')} req/s`;
const ms = (n: number): string => `${n.toFixed(2)} ms`;
const times = (n: number): string => `${n.toFixed(2)}×`;

function find(results: readonly RowResult[], mode: ModeId, row: RowId): RowResult | undefined {
  return results.find((r) => r.mode === mode && r.row === row);
}

function missing(label: string, ...rows: (RowResult | undefined)[]): Goal | undefined {
  const gone = rows.find((r) => r === undefined || r.unavailable !== undefined || r.requests === 0);
  if (rows.some((r) => r === undefined)) return { status: 'N/A', text: `${label}: not measured in this run` };
  if (gone) return { status: 'N/A', text: `${label}: ${gone.row} n/a${gone.unavailable ? ` (${gone.unavailable})` : ''}` };
  return undefined;
}

function anchorGoal(mode: ModeId, row: RowResult | undefined, anchor: RowResult | undefined, rowId: RowId, anchorId: AnchorRowId): Goal {
  const label = `${MODE_LABEL[mode]}: ${rowId} vs ${anchorId}`;
  const gap = missing(label, row, anchor);
  if (gap || !row || !anchor) return gap ?? { status: 'N/A', text: label };
  const rpsRatio = row.rps / anchor.rps;
  const p99Ratio = anchor.p99Ms > 0 ? row.p99Ms / anchor.p99Ms : Infinity;
  const ok = rpsRatio >= RPS_VS_ANCHOR && p99Ratio <= P99_VS_ANCHOR;
  return {
    status: ok ? 'PASS' : 'FAIL',
    text:
      `${label}: ${rps(row.rps)} = ${times(rpsRatio)} (goal ≥ ${RPS_VS_ANCHOR.toFixed(1)}×), ` +
      `p99 ${ms(row.p99Ms)} vs ${ms(anchor.p99Ms)} = ${times(p99Ratio)} (goal ≤ ${P99_VS_ANCHOR.toFixed(1)}×)`,
  };
}

function scaleGoal(scale: ScaleResult | undefined): Goal {
  const label = `scale: ${SCALE_GOAL_CONNECTIONS.toLocaleString('en-US')} idle connections through the LB`;
  if (!scale) return { status: 'N/A', text: `${label}: not measured in this run` };
  const lb = scale.lb;
  if (scale.unavailable !== undefined || !lb) return { status: 'N/A', text: `${label}: ${scale.unavailable ?? 'not measured'}` };
  const projected = lb.bytesPerConnection * SCALE_GOAL_CONNECTIONS;
  const extrapolated = lb.opened < SCALE_GOAL_CONNECTIONS ? ` (extrapolated from ${lb.opened.toLocaleString('en-US')} connections)` : '';
  const ok = projected < SCALE_BUDGET_BYTES && lb.released && lb.failed === 0 && lb.opened > 0;
  const failures = lb.failed > 0 ? `, ${lb.failed} failed to open (${lb.firstError ?? '?'})` : '';
  return {
    status: ok ? 'PASS' : 'FAIL',
    text:
      `${label}: ${(projected / 2 ** 20).toFixed(1)} MiB extra RSS${extrapolated} (goal < 64 MiB), ` +
      `${lb.released ? 'all released' : `NOT all released (${lb.leftAtTarget} still open at the frontend; ${lb.fdsAfter} fds open after, ${lb.fdsBefore} before)`}${failures}`,
  };
}

const SERVING_BUDGET_MS = 3000;
const RSS_BUDGET_BYTES = 300 * 2 ** 20;
const IDLE_CPU_BUDGET = 0.05;
const CHANGE_BUDGET_MS = 200;
const EXAMPLE_BUDGET_MS = 500;

/** The cluster-size goals: each N/A when its job did not run or failed. */
export function clusterScaleGoals(runs: readonly ScaleRun[]): Goal[] {
  const n = GOAL_SERVICES.toLocaleString('en-US');
  const startUp = runs.find((r) => r.job.kind === 'services' && r.job.services === GOAL_SERVICES && r.job.timeScale === 0.01);
  const idle = runs.find((r) => r.job.idleWindowS !== undefined);
  const example = runs.find((r) => r.job.kind === 'example');
  const judge = (label: string, run: ScaleRun | undefined, check: (m: ScaleMeasure) => { ok: boolean; text: string } | undefined): Goal => {
    if (!run) return { status: 'N/A', text: `${label}: not measured in this run` };
    if (!run.measure) return { status: 'N/A', text: `${label}: ${run.unavailable ?? 'failed'}` };
    const verdict = check(run.measure);
    if (!verdict) return { status: 'N/A', text: `${label}: not measured` };
    return { status: verdict.ok ? 'PASS' : 'FAIL', text: `${label}: ${verdict.text}` };
  };
  const ms = (v: number): string => `${Math.round(v).toLocaleString('en-US')} ms`;
  return [
    judge(`scale: ${n} Services serving at timeScale 0.01`, startUp, (m) => ({
      ok: m.served && m.servingMs < SERVING_BUDGET_MS,
      text: `${ms(m.servingMs)}${m.served ? '' : ' (NOT serving)'} (goal < ${ms(SERVING_BUDGET_MS)})`,
    })),
    judge(`scale: ${n} Services peak RSS`, startUp, (m) =>
      m.peakRssBytes === undefined
        ? undefined
        : { ok: m.peakRssBytes < RSS_BUDGET_BYTES, text: `${(m.peakRssBytes / 2 ** 20).toFixed(0)} MiB (goal < 300 MiB)` },
    ),
    judge(`scale: idle CPU with ${idle?.job.services.toLocaleString('en-US') ?? n} LoadBalancer Services at real probe timings`, idle, (m) =>
      m.idle === undefined
        ? undefined
        : { ok: m.idle.cpuShare < IDLE_CPU_BUDGET, text: `${(m.idle.cpuShare * 100).toFixed(1)} % of a core over ${m.idle.windowS.toFixed(0)} s (goal < 5 %)` },
    ),
    judge(`scale: a live change (POST of one LB Service) to traffic at ${n} Services`, startUp, (m) =>
      m.change === undefined
        ? undefined
        : {
            ok: m.change.ok && m.change.trafficMs < CHANGE_BUDGET_MS,
            text: `${ms(m.change.trafficMs)}${m.change.ok ? '' : ' (never answered)'} (goal < ${CHANGE_BUDGET_MS} ms)`,
          },
    ),
    judge('scale: startCluster() for examples/store at timeScale 0.01', example, (m) => ({
      ok: m.served && m.startClusterMs < EXAMPLE_BUDGET_MS,
      text: `${ms(m.startClusterMs)}, after ${ms(m.importMs)} loading modules (goal < ${EXAMPLE_BUDGET_MS} ms)`,
    })),
  ];
}

export function evaluateGoals(
  results: readonly RowResult[],
  modes: readonly ModeId[],
  scale: ScaleResult | undefined,
  clusterScale: readonly ScaleRun[] = [],
): Goal[] {
  const goals: Goal[] = [];
  for (const mode of modes) {
    for (const { row, anchor } of ANCHORED) goals.push(anchorGoal(mode, find(results, mode, row), find(results, mode, anchor), row, anchor));
    for (const [rowId, directId] of VS_DIRECT) {
      const lb = find(results, mode, rowId);
      const direct = find(results, mode, directId);
      const label = `${MODE_LABEL[mode]}: ${rowId} vs ${directId}`;
      const gap = missing(label, lb, direct);
      if (gap || !lb || !direct) goals.push(gap ?? { status: 'N/A', text: label });
      else {
        const ratio = lb.rps / direct.rps;
        goals.push({
          status: ratio >= LB_VS_DIRECT ? 'PASS' : 'FAIL',
          text: `${label}: ${rps(lb.rps)} = ${times(ratio)} of ${rps(direct.rps)} (goal ≥ ${LB_VS_DIRECT}×)`,
        });
      }
    }
  }
  goals.push(scaleGoal(scale));
  goals.push(...clusterScaleGoals(clusterScale));
  return goals;
}
