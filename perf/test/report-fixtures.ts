/** Row results and a report around them, for the tests of the report's renderers. */
import type { RowResult } from '../measure.js';
import { parseArgs } from '../options.js';
import type { RunReport } from '../report/run-report.js';

/** A keep-alive row result over one second: `rps` requests, p50 1 ms, the given p99. */
export function rowResult(row: RowResult['row'], rps: number, p99Ms: number, extra: Partial<RowResult> = {}): RowResult {
  return {
    row,
    mode: 'keepalive',
    layer: 'L4',
    path: 'p',
    via: 'v',
    requests: rps,
    durationS: 1,
    rps,
    p50Ms: 1,
    p99Ms,
    maxMs: 9,
    errors: 0,
    aksEmuCpuS: 1,
    aksEmuPeakRssBytes: 1,
    ...extra,
  };
}

export function reportOf(parts: Partial<RunReport>): RunReport {
  return {
    startedAt: '2026-12-07T14:00:00.000Z',
    finishedAt: '2026-12-07T14:20:00.000Z',
    settings: parseArgs([], '/out'),
    placement: 'Pinned.',
    machine: {
      cpuModel: 'AMD EPYC',
      cores: 2,
      memoryGiB: 23.5,
      os: 'Debian',
      kernel: '6',
      node: 'v20.20.2',
      autocannon: '9.0.0',
      loadAverage: 0.5,
      anchors: {},
    },
    backend: { pod: 'p', address: 'a' },
    notes: [],
    results: [],
    goals: [],
    ...parts,
  };
}
