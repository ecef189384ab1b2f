import { describe, expect, it } from 'vitest';
import type { RowResult } from '../measure.js';
import { parseArgs } from '../options.js';
import { niceCeiling, renderCurveSvg } from '../report/curve-svg.js';
import { renderMarkdown } from '../report/markdown.js';
import type { RunReport } from '../report/run-report.js';

function point(row: RowResult['row'], rps: number, p99Ms: number, extra: Partial<RowResult> = {}): RowResult {
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

const REPORT: RunReport = {
  startedAt: '2026-12-07T00:00:00.000Z',
  finishedAt: '2026-12-07T00:01:00.000Z',
  settings: parseArgs(['--rows', 'lb-external,haproxy-external'], '/out'),
  placement: 'not pinned',
  machine: { cpuModel: 'cpu', cores: 2, memoryGiB: 1, os: 'os', kernel: 'k', node: 'v20', autocannon: '9', loadAverage: 0.5, anchors: {} },
  backend: { pod: 'p', address: 'a' },
  notes: [],
  results: [],
  goals: [],
  curve: [
    { connections: 1, results: [point('lb-external', 2000, 0.8, { anchor: 'haproxy-external' }), point('haproxy-external', 2500, 0.6)] },
    { connections: 50, results: [point('lb-external', 9000, 12, { anchor: 'haproxy-external' }), { ...point('haproxy-external', 0, 0), unavailable: 'gone' }] },
    { connections: 1000, results: [point('lb-external', 8000, 150, { anchor: 'haproxy-external' }), point('haproxy-external', 11000, 90)] },
  ],
};

describe('the curves', () => {
  it('rounds axis tops to 1, 2 or 5 times a power of ten', () => {
    expect([0, 0.3, 1, 7, 12, 180, 2001].map(niceCeiling)).toEqual([1, 0.5, 1, 10, 20, 200, 5000]);
  });

  it('draws a line per row in both panels, skipping the points a row could not run, anchors dashed', () => {
    const svg = renderCurveSvg(REPORT);
    const lines = [...svg.matchAll(/<polyline class="curve" data-row="([^"]+)" points="([^"]+)"[^>]*>/g)];
    expect(lines.map((m) => m[1])).toEqual(['lb-external', 'haproxy-external', 'lb-external', 'haproxy-external']);
    expect(lines.map((m) => m[2]!.split(' ').length)).toEqual([3, 2, 3, 2]);
    expect(lines[1]![0]).toContain('stroke-dasharray');
    expect(lines[0]![0]).not.toContain('stroke-dasharray');
  });

  it('tabulates req/s and p99 per connection count, n/a where a row did not run', () => {
    const md = renderMarkdown(REPORT);
    expect(md).toContain('| row | 1 conn. | 50 conn. | 1,000 conn. |');
    expect(md).toContain('| lb-external | 2,000, 0.80 | 9,000, 12.00 | 8,000, 150.00 |');
    expect(md).toContain('| haproxy-external | 2,500, 0.60 | n/a | 11,000, 90.00 |');
  });
});
