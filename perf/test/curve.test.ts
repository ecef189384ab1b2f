import { describe, expect, it } from 'vitest';
import { niceCeiling, renderCurveSvg } from '../report/curve-svg.js';
import { renderMarkdown } from '../report/markdown.js';
import type { RunReport } from '../report/run-report.js';
import { reportOf, rowResult } from './report-fixtures.js';

const REPORT: RunReport = reportOf({
  curve: [
    { connections: 1, results: [rowResult('lb-external', 2000, 0.8, { anchor: 'haproxy-external' }), rowResult('haproxy-external', 2500, 0.6)] },
    {
      connections: 50,
      results: [rowResult('lb-external', 9000, 12, { anchor: 'haproxy-external' }), { ...rowResult('haproxy-external', 0, 0), unavailable: 'gone' }],
    },
    { connections: 1000, results: [rowResult('lb-external', 8000, 150, { anchor: 'haproxy-external' }), rowResult('haproxy-external', 11000, 90)] },
  ],
});

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
