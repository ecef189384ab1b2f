/**
 * The README's figures, written by the harness (`--update-readme`) from the run it just
 * made, between two markers, so that no figure in the README is copied by hand: the
 * command, the machine and its load, a summary per row, the curves, the scale rows and
 * the goals.
 */
import type { ModeId, RowId } from '../options.js';
import { MODE_LABEL } from './goals.js';
import { ratiosOf, type RunReport } from './run-report.js';

export const README_BEGIN = '<!-- perf:begin (written by `npm run perf -- --update-readme`; do not edit by hand) -->';
export const README_END = '<!-- perf:end -->';

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const times = (n: number | undefined): string => (n === undefined ? '' : `${n.toFixed(2)}×`);

/** One line per row: req/s with its ratios for each mode of the run. */
function summaryTable(report: RunReport): string[] {
  const modes = [...new Set(report.results.map((r) => r.mode))] as ModeId[];
  const rows = [...new Set(report.results.map((r) => r.row))] as RowId[];
  const header = ['row', ...modes.flatMap((m) => [`${MODE_LABEL[m]} req/s`, '× direct', '× anchor', 'p99 × anchor'])];
  const lines = [
    `| ${header.join(' | ')} |`,
    `|---|${header
      .slice(1)
      .map(() => '--:|')
      .join('')}`,
  ];
  for (const id of rows) {
    const cells = modes.flatMap((mode) => {
      const r = report.results.find((x) => x.row === id && x.mode === mode);
      if (!r || r.unavailable !== undefined) return ['n/a', '', '', ''];
      const ratios = ratiosOf(r, report.results);
      return [int(r.rps), times(ratios.vsDirect), times(ratios.vsAnchor), times(ratios.p99VsAnchor)];
    });
    lines.push(`| ${id} | ${cells.join(' | ')} |`);
  }
  return lines;
}

export interface ReadmeSource {
  /** The command that produced the run, as typed. */
  readonly command: string;
  /** The run's files relative to the README: `perf/results/<stamp>` without an extension. */
  readonly resultsBase: string;
}

export function renderReadmeBlock(report: RunReport, source: ReadmeSource): string {
  const m = report.machine;
  const lines = [
    README_BEGIN,
    '',
    `Latest full run: \`${source.command}\`, started ${report.startedAt}, on ${m.cpuModel} (${m.cores} cores, ${m.memoryGiB} GiB), ${m.os}, ` +
      `Node ${m.node}${Object.entries(m.anchors)
        .map(([k, v]) => `, ${k} ${v}`)
        .join('')}; **load average ${m.loadAverage} at start** (the machine is shared: read ratios, not absolute figures). ` +
      `${report.placement} ${report.settings.rounds} interleaved rounds × ${report.settings.durationS} s per row and mode, ${report.settings.connections} connections. ` +
      `Every figure: [${source.resultsBase}.md](${source.resultsBase}.md) (JSON beside it).`,
    '',
    '*-external rows end at one backend process of the harness (reached by aks-emu through selector-less Services and EndpointSlices, ' +
      'by haproxy and nginx directly); the other rows at the echo pod inside the aks-emu process (the hop collapse), `process-*` at a `process` pod. ' +
      '× direct is against the direct row of the same backend; × anchor against haproxy (L4) or nginx (L7) in front of the same backend.',
    '',
    ...summaryTable(report),
  ];
  if (report.curve && report.curve.length > 0) {
    lines.push(
      '',
      `Keep-alive req/s and p99 against connections (${report.curve.map((p) => p.connections).join(', ')}):`,
      '',
      `![curves](${source.resultsBase}-curve.svg)`,
    );
  }
  const lb = report.scale?.lb;
  if (lb) {
    lines.push(
      '',
      `Idle connections: ${int(lb.opened)} held through the LB took +${(lb.extraRssBytes / 2 ** 20).toFixed(1)} MiB of RSS ` +
        `(${int(lb.bytesPerConnection)} bytes each), ${lb.released ? 'all released afterwards' : 'NOT all released'}.` +
        (report.scale?.limitedBy ? ` Fewer than asked: ${report.scale.limitedBy}.` : ''),
    );
  }
  const sized = (report.clusterScale ?? []).filter((r) => r.measure);
  if (sized.length > 0) {
    lines.push('', 'Cluster size (each a fresh process):', '');
    for (const run of sized) {
      const mm = run.measure!;
      const name = run.job.kind === 'example' ? 'examples/store' : `${int(run.job.services)} Services${run.job.allLoadBalancer ? ' (all LoadBalancer)' : ''}`;
      const parts = [`serving ${int(mm.servingMs)} ms at timeScale ${run.job.timeScale}`];
      if (mm.peakRssBytes !== undefined) parts.push(`peak RSS ${int(mm.peakRssBytes / 2 ** 20)} MiB`);
      if (mm.idle) parts.push(`idle CPU ${(mm.idle.cpuShare * 100).toFixed(1)} % of a core`);
      if (mm.change) parts.push(`live change to traffic ${int(mm.change.trafficMs)} ms`);
      lines.push(`- ${name}: ${parts.join(', ')} (modules ${int(mm.importMs)} ms before that)`);
    }
  }
  lines.push('', 'Goals of that run:', '');
  for (const g of report.goals) if (g.status !== 'N/A') lines.push(`- **${g.status}** ${g.text}`);
  lines.push('', README_END);
  return lines.join('\n');
}

/** `text` with the block between the markers replaced; throws when the markers are missing or out of order. */
export function replaceReadmeBlock(text: string, block: string): string {
  const begin = text.indexOf(README_BEGIN);
  const end = text.indexOf(README_END);
  if (begin < 0 || end < begin) throw new Error(`README.md: the markers ${README_BEGIN} … ${README_END} are missing or out of order`);
  return text.slice(0, begin) + block + text.slice(end + README_END.length);
}
