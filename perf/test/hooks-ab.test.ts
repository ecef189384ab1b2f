import { describe, expect, it } from 'vitest';
import type { RoundFigures } from '../measure.js';
import { roundOrder } from '../measure.js';
import { directOf, parseArgs, secondBuildOf } from '../options.js';
import { hookCostGoals, hookCosts, hookCostSection, median } from '../report/hooks-ab.js';
import { renderMarkdown } from '../report/markdown.js';
import { reportOf, rowResult } from './report-fixtures.js';

/** Rounds of one second with `requests` each and `cpuUs` µs of server CPU per request. */
function rounds(...perRound: [requests: number, cpuUs: number][]): RoundFigures[] {
  return perRound.map(([requests, cpuUs]) => ({ requests, durationS: 1, serverCpuS: (requests * cpuUs) / 1e6 }));
}

describe('--hooks-ab', () => {
  it('puts an @nohooks row after each row the second build serves, and refuses --baseline beside it', () => {
    const s = parseArgs(['--hooks-ab', '--rows', 'direct-external,lb-external,nginx,ingress'], '/out');
    expect(s.hooksAb).toBe(true);
    expect(s.baseline).toBeUndefined();
    expect(s.rows).toEqual(['direct-external', 'lb-external', 'lb-external@nohooks', 'nginx', 'ingress', 'ingress@nohooks']);
    expect(secondBuildOf('ingress@nohooks')).toBe('nohooks');
    expect(secondBuildOf('ingress@base')).toBe('base');
    expect(secondBuildOf('ingress')).toBeUndefined();
    expect(directOf('lb-external@nohooks')).toBe('direct-external');
    expect(() => parseArgs(['--hooks-ab', '--baseline', '/tmp/b'], '/out')).toThrow(/--baseline and --hooks-ab/);
  });

  it('swaps a row and its twin every other round, and leaves rows without a twin in place', () => {
    const rows = ['direct', 'lb', 'lb@nohooks', 'nginx', 'ingress', 'ingress@nohooks'].map((id) => ({ id }) as { id: Parameters<typeof secondBuildOf>[0] });
    expect(roundOrder(rows, 1).map((r) => r.id)).toEqual(['direct', 'lb', 'lb@nohooks', 'nginx', 'ingress', 'ingress@nohooks']);
    expect(roundOrder(rows, 2).map((r) => r.id)).toEqual(['direct', 'lb@nohooks', 'lb', 'nginx', 'ingress@nohooks', 'ingress']);
    expect(roundOrder(rows, 3).map((r) => r.id)).toEqual(roundOrder(rows, 1).map((r) => r.id));
  });

  it('takes the median of the per-round ratios, so one slow round does not move it', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    const results = [
      // Round 2 of the hooks-on row is slow (the machine was busy): its ratio is an outlier.
      rowResult('lb', 9_000, 1, { rounds: rounds([10_000, 50.5], [5_000, 100], [10_000, 51]) }),
      rowResult('lb@nohooks', 10_000, 1, { rounds: rounds([10_000, 50], [10_000, 50], [10_200, 50]) }),
    ];
    const [cost, ...rest] = hookCosts(results);
    expect(rest).toEqual([]);
    expect(cost).toMatchObject({ row: 'lb', mode: 'keepalive', rounds: 3, rps: { on: 9_000, off: 10_000 } });
    expect(cost!.cpuCost.median).toBeCloseTo(0.02, 6);
    expect(cost!.cpuCost.min).toBeCloseTo(0.01, 6);
    expect(cost!.cpuCost.max).toBeCloseTo(1, 6);
    expect(cost!.rpsCost.median).toBeCloseTo(1 - 10_000 / 10_200, 6);
    expect(cost!.rpsCost.max).toBeCloseTo(0.5, 6);
    expect(cost!.cpuUsPerRequest.on).toBeCloseTo(51, 6);
    expect(cost!.cpuUsPerRequest.off).toBeCloseTo(50, 6);
  });

  it('judges each row and mode on server CPU per request against 3 %', () => {
    const results = [
      rowResult('lb', 10_000, 1, { rounds: rounds([10_000, 51], [10_000, 51]) }),
      rowResult('lb@nohooks', 10_000, 1, { rounds: rounds([10_000, 50], [10_000, 50]) }),
      rowResult('ingress', 5_000, 1, { mode: 'churn', rounds: rounds([5_000, 104], [5_000, 104]) }),
      rowResult('ingress@nohooks', 5_000, 1, { mode: 'churn', rounds: rounds([5_000, 100], [5_000, 100]) }),
    ];
    const goals = hookCostGoals(hookCosts(results));
    expect(goals.map((g) => g.status)).toEqual(['PASS', 'FAIL']);
    expect(goals[0]!.text).toContain('keep-alive: hooks on lb: server CPU +2.0 % per request (51.0 against 50.0 µs, median of 2 rounds');
    expect(goals[1]!.text).toContain('churn: hooks on ingress: server CPU +4.0 %');
    expect(goals[1]!.text).toContain('(goal: server CPU ≤ +3 %)');
  });

  it('leaves out rows whose twin did not run or has no rounds, and writes no section without costs', () => {
    const results = [
      rowResult('lb', 10_000, 1, { rounds: rounds([10_000, 50]) }),
      rowResult('lb@nohooks', 0, 0, { unavailable: 'did not start' }),
      rowResult('ingress', 10_000, 1, { rounds: rounds([10_000, 50]) }),
      rowResult('ingress@nohooks', 10_000, 1, { rounds: rounds([0, 50]) }),
      rowResult('lb-external', 10_000, 1, { rounds: rounds([10_000, 50]) }),
      rowResult('lb-external@base', 10_000, 1, { rounds: rounds([10_000, 50]) }),
    ];
    expect(hookCosts(results)).toEqual([]);
    expect(hookCostSection([])).toEqual([]);
  });

  it('puts the table in the markdown report', () => {
    const results = [rowResult('lb', 10_000, 1, { rounds: rounds([10_000, 51]) }), rowResult('lb@nohooks', 10_000, 1, { rounds: rounds([10_000, 50]) })];
    const markdown = renderMarkdown(reportOf({ results, hookCost: hookCosts(results) }));
    expect(markdown).toContain('## What the observability hooks cost (--hooks-ab)');
    expect(markdown).toContain('| keep-alive | lb | 1 | 10,000 | 10,000 | +0.0 % | +0.0 % … +0.0 % | 51.0 | 50.0 | +2.0 % | +2.0 % … +2.0 % |');
  });
});
