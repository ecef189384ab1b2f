/** One run, as written to perf/results/<date>.json and rendered to .md and .svg. */
import type { RowResult } from '../measure.js';
import { directOf, type Settings } from '../options.js';
import type { ScaleRun } from '../cluster-scale.js';
import type { ScaleResult } from '../scale.js';
import type { Goal } from './goals.js';
import type { HookCost } from './hooks-ab.js';
import type { Machine } from './machine.js';

export interface RunReport {
  /** The command line that made the run. */
  readonly command?: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly settings: Settings;
  /** Which process runs on which CPU, in words. */
  readonly placement: string;
  readonly machine: Machine;
  readonly backend: { readonly pod: string; readonly address: string };
  /** host:port of the external backend process, when its rows ran. */
  readonly externalBackend?: string;
  /** Things the reader must know (rows n/a, limits hit, notices from aks-emu). */
  readonly notes: readonly string[];
  readonly results: readonly RowResult[];
  readonly scale?: ScaleResult;
  /** Keep-alive req/s and p99 of the curve rows at each connection count. */
  readonly curve?: readonly CurvePoint[];
  /** The cluster-size rows, each from a fresh process. */
  readonly clusterScale?: readonly ScaleRun[];
  readonly goals: readonly Goal[];
  /** What the observability hooks cost per row and mode (--hooks-ab). */
  readonly hookCost?: readonly HookCost[];
}

export interface CurvePoint {
  readonly connections: number;
  readonly results: readonly RowResult[];
}

export interface Ratios {
  /** req/s over the direct row's. */
  readonly vsDirect?: number;
  /** req/s over the anchor's. */
  readonly vsAnchor?: number;
  /** p99 over the anchor's. */
  readonly p99VsAnchor?: number;
}

function measured(r: RowResult | undefined): r is RowResult {
  return r !== undefined && r.unavailable === undefined && r.rps > 0;
}

export function ratiosOf(result: RowResult, all: readonly RowResult[]): Ratios {
  if (!measured(result)) return {};
  const sameMode = all.filter((r) => r.mode === result.mode);
  const direct = sameMode.find((r) => r.row === directOf(result.row));
  const anchor = sameMode.find((r) => r.row === result.anchor);
  return {
    ...(measured(direct) && result.row !== direct.row ? { vsDirect: result.rps / direct.rps } : {}),
    ...(measured(anchor) ? { vsAnchor: result.rps / anchor.rps } : {}),
    ...(measured(anchor) && anchor.p99Ms > 0 ? { p99VsAnchor: result.p99Ms / anchor.p99Ms } : {}),
  };
}
