/**
 * The ratios as a hand-written SVG bar chart: per mode, per row, req/s × direct and
 * req/s × its anchor, with the goal lines at 0.8 (lb vs direct) and 1.0 (vs anchor).
 */
import type { ModeId } from '../options.js';
import { MODE_LABEL } from './goals.js';
import { ratiosOf, type RunReport } from './run-report.js';

const WIDTH = 760;
const LABEL_WIDTH = 170;
const BAR_HEIGHT = 9;
const ROW_HEIGHT = 24;
const MODE_GAP = 30;
const TOP = 50;
const COLOURS = { direct: '#3b6fb6', anchor: '#e08a2c' };

export function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function renderSvg(report: RunReport): string {
  // A mode whose rows are all n/a has nothing to draw.
  const modes = [...new Set(report.results.filter((r) => r.unavailable === undefined).map((r) => r.mode))] as ModeId[];
  const rowsOf = (mode: ModeId) => report.results.filter((r) => r.mode === mode && r.row !== 'direct');
  const all = report.results.flatMap((r) => Object.values(ratiosOf(r, report.results)).filter((v): v is number => v !== undefined));
  const maxRatio = Math.min(3, Math.max(1.5, ...all.map((v) => Math.ceil(v * 4) / 4)));
  const plotWidth = WIDTH - LABEL_WIDTH - 60;
  const x = (v: number): number => LABEL_WIDTH + (Math.min(v, maxRatio) / maxRatio) * plotWidth;
  const height = TOP + modes.reduce((h, m) => h + MODE_GAP + rowsOf(m).length * ROW_HEIGHT, 0) + 30;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escape(`aks-emu: req/s ratios, ${report.startedAt}`)}</text>`,
    `<rect x="${LABEL_WIDTH}" y="30" width="10" height="10" fill="${COLOURS.direct}"/><text x="${LABEL_WIDTH + 14}" y="39">× direct (goal for lb ≥ 0.8)</text>`,
    `<rect x="${LABEL_WIDTH + 200}" y="30" width="10" height="10" fill="${COLOURS.anchor}"/><text x="${LABEL_WIDTH + 214}" y="39">× anchor: haproxy (L4), nginx (L7) (goal ≥ 1.0)</text>`,
  ];
  let y = TOP;
  const plotTop = y;
  for (const mode of modes) {
    y += MODE_GAP;
    out.push(`<text x="10" y="${y - 8}" font-weight="bold">${escape(MODE_LABEL[mode])}</text>`);
    for (const r of rowsOf(mode)) {
      const ratios = ratiosOf(r, report.results);
      out.push(`<text x="${LABEL_WIDTH - 6}" y="${y + BAR_HEIGHT + 2}" text-anchor="end">${escape(r.row)}</text>`);
      if (r.unavailable !== undefined) {
        out.push(`<text x="${LABEL_WIDTH + 4}" y="${y + BAR_HEIGHT + 2}" fill="#888">n/a</text>`);
      }
      const bars: [number | undefined, string][] = [
        [ratios.vsDirect, COLOURS.direct],
        [ratios.vsAnchor, COLOURS.anchor],
      ];
      bars.forEach(([value, colour], i) => {
        if (value === undefined) return;
        const top = y + i * (BAR_HEIGHT + 1);
        out.push(`<rect class="bar" x="${LABEL_WIDTH}" y="${top}" width="${(x(value) - LABEL_WIDTH).toFixed(1)}" height="${BAR_HEIGHT}" fill="${colour}"/>`);
        out.push(`<text x="${(x(value) + 4).toFixed(1)}" y="${top + BAR_HEIGHT - 1}" font-size="10">${value.toFixed(2)}</text>`);
      });
      y += ROW_HEIGHT;
    }
  }
  for (const mark of [0.8, 1.0]) {
    out.push(`<line x1="${x(mark).toFixed(1)}" y1="${plotTop}" x2="${x(mark).toFixed(1)}" y2="${y}" stroke="#444" stroke-dasharray="3,3"/>`);
    out.push(`<text x="${x(mark).toFixed(1)}" y="${y + 14}" text-anchor="middle" font-size="10">${mark.toFixed(1)}</text>`);
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
