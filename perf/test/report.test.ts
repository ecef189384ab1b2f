import { describe, expect, it } from 'vitest';
import type { RowResult } from '../measure.js';
import { parseArgs } from '../options.js';
import { evaluateGoals } from '../report/goals.js';
import { renderMarkdown } from '../report/markdown.js';
import { ratiosOf, type RunReport } from '../report/run-report.js';
import { renderSvg } from '../report/svg.js';
import type { HoldMeasure, ScaleResult } from '../scale.js';

function result(row: RowResult['row'], rps: number, p99Ms: number, extra: Partial<RowResult> = {}): RowResult {
  const anchor = row === 'ingress' ? 'nginx' : ['lb', 'clusterip', 'nodeport'].includes(row) ? 'haproxy' : undefined;
  return {
    row,
    mode: 'keepalive',
    layer: 'L4',
    path: 'p',
    via: 'v',
    ...(anchor ? { anchor } : {}),
    requests: rps * 10,
    durationS: 10,
    rps,
    p50Ms: p99Ms / 2,
    p99Ms,
    maxMs: p99Ms * 2,
    errors: 0,
    aksEmuCpuS: 1,
    aksEmuPeakRssBytes: 100 * 2 ** 20,
    ...extra,
  };
}

const RESULTS: RowResult[] = [
  result('direct', 20_000, 2),
  result('clusterip', 12_000, 2.3),
  result('nodeport', 9_000, 5),
  result('lb', 17_000, 2.2),
  { ...result('ingress', 0, 0), unavailable: 'no controller' },
  result('haproxy', 15_000, 2),
  result('nginx', 9_000, 3),
];

function hold(extra: Partial<HoldMeasure>): HoldMeasure {
  return {
    opened: 5_000,
    failed: 0,
    extraRssBytes: 20 * 2 ** 20,
    bytesPerConnection: (20 * 2 ** 20) / 5_000,
    extraHeapBytes: 10 * 2 ** 20,
    fdsBefore: 40,
    fdsHeld: 15_040,
    fdsAfter: 40,
    leftAtTarget: 0,
    released: true,
    ...extra,
  };
}

describe('the report', () => {
  it('computes ratios to direct and to the row’s own anchor', () => {
    const lb = ratiosOf(RESULTS[3]!, RESULTS);
    expect(lb.vsDirect).toBeCloseTo(0.85);
    expect(lb.vsAnchor).toBeCloseTo(17 / 15);
    expect(lb.p99VsAnchor).toBeCloseTo(1.1);
    expect(ratiosOf(RESULTS[0]!, RESULTS)).toEqual({});
    expect(ratiosOf(RESULTS[4]!, RESULTS)).toEqual({});
  });

  it('judges each goal PASS, FAIL or N/A with its numbers', () => {
    const scale: ScaleResult = { requested: 10_000, count: 5_000, sources: ['127.0.0.1'], lb: hold({}) };
    const goals = evaluateGoals(RESULTS, ['keepalive'], scale);
    const line = (prefix: string) => goals.find((g) => g.text.startsWith(prefix));
    expect(line('keep-alive: lb vs haproxy')?.status).toBe('PASS');
    expect(line('keep-alive: clusterip vs haproxy')?.status).toBe('FAIL');
    expect(line('keep-alive: nodeport vs haproxy')?.status).toBe('FAIL');
    expect(line('keep-alive: ingress vs nginx')).toMatchObject({ status: 'N/A', text: expect.stringContaining('no controller') });
    expect(line('keep-alive: lb vs direct')?.status).toBe('PASS');
    // 4,194 bytes per connection × 10,000 = 40 MiB, extrapolated from 5,000.
    expect(line('scale')).toMatchObject({ status: 'PASS', text: expect.stringContaining('extrapolated from 5,000') });
  });

  it('fails the scale goal when connections stay open after the release', () => {
    const scale: ScaleResult = {
      requested: 10_000,
      count: 10_000,
      sources: ['127.0.0.1'],
      lb: hold({ opened: 10_000, leftAtTarget: 3, fdsAfter: 49, released: false }),
    };
    const goal = evaluateGoals([], [], scale).find((g) => g.text.startsWith('scale: 10,000'))!;
    expect(goal.status).toBe('FAIL');
    expect(goal.text).toContain('3 still open at the frontend');
  });

  it('renders unavailable rows as n/a with the reason, and a chart with a bar per ratio', () => {
    const report: RunReport = {
      startedAt: '2030-01-01T00:00:00.000Z',
      finishedAt: '2030-01-01T00:01:00.000Z',
      settings: parseArgs(['--quick'], '/out'),
      placement: 'Pinned.',
      machine: { cpuModel: 'cpu', cores: 2, memoryGiB: 8, os: 'linux', kernel: '6', node: 'v20', autocannon: '9', loadAverage: 0, anchors: {} },
      backend: { pod: 'echo-1', address: '127.65.0.2:8080' },
      notes: [],
      results: RESULTS,
      goals: evaluateGoals(RESULTS, ['keepalive'], undefined),
    };
    const md = renderMarkdown(report);
    expect(md).toContain('| ingress | p (v) | n/a: no controller |');
    expect(md).toMatch(/\| lb \| p \(v\) \| 17,000 \| 1\.100 \| 2\.200 \|/);
    expect(md).toContain('- **PASS** keep-alive: lb vs direct');
    const svg = renderSvg(report);
    expect(svg.startsWith('<svg')).toBe(true);
    // lb, clusterip, nodeport: × direct and × haproxy; haproxy and nginx: × direct only.
    expect(svg.match(/class="bar"/g)?.length).toBe(8);
  });
});
