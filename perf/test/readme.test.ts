import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { README_BEGIN, README_END, renderReadmeBlock, replaceReadmeBlock } from '../report/readme.js';
import type { RunReport } from '../report/run-report.js';
import { reportOf, rowResult } from './report-fixtures.js';

const REPORT: RunReport = reportOf({
  machine: { ...reportOf({}).machine, loadAverage: 3.21, anchors: { haproxy: '2.6' } },
  results: [
    rowResult('direct-external', 10_000, 2),
    rowResult('lb-external', 8_000, 2, { anchor: 'haproxy-external' }),
    rowResult('haproxy-external', 10_000, 2),
    { ...rowResult('nodeport-external', 0, 2), unavailable: 'no node' },
  ],
  goals: [
    { status: 'FAIL', text: 'keep-alive: lb-external vs haproxy-external: 0.80×' },
    { status: 'N/A', text: 'keep-alive: lb vs haproxy: not measured in this run' },
  ],
});

describe("the README's generated figures", () => {
  it('names the command, the machine and its load, with a row per path and the goals that were measured', () => {
    const block = renderReadmeBlock(REPORT, { command: 'npm run perf -- --rounds 3', resultsBase: 'perf/results/2026-12-07T14-00-00Z' });
    expect(block.startsWith(README_BEGIN) && block.endsWith(README_END)).toBe(true);
    expect(block).toContain('`npm run perf -- --rounds 3`');
    expect(block).toContain('load average 3.21 at start');
    expect(block).toContain('[perf/results/2026-12-07T14-00-00Z.md](perf/results/2026-12-07T14-00-00Z.md)');
    expect(block).toContain('| lb-external | 8,000 | 0.80× | 0.80× | 1.00× |');
    expect(block).toContain('| nodeport-external | n/a |');
    expect(block).toContain('**FAIL** keep-alive: lb-external vs haproxy-external');
    expect(block).not.toContain('not measured in this run');
  });

  it('replaces only what stands between the markers, and refuses a README without them', () => {
    const text = `intro\n${README_BEGIN}\nold figures\n${README_END}\nrest\n`;
    expect(replaceReadmeBlock(text, `${README_BEGIN}\nnew\n${README_END}`)).toBe(`intro\n${README_BEGIN}\nnew\n${README_END}\nrest\n`);
    expect(() => replaceReadmeBlock('no markers', 'x')).toThrow(/markers/);
  });

  it("finds the markers in the project's README", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(() => replaceReadmeBlock(readme, `${README_BEGIN}\n${README_END}`)).not.toThrow();
  });
});
