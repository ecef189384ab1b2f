/**
 * The curves as a hand-written SVG: two panels, keep-alive req/s and p99 latency against
 * the connection count (log scale), one line per row (aks-emu's paths solid, the anchors
 * dashed).
 */
import type { RowId } from '../options.js';
import type { RunReport } from './run-report.js';
import { escape } from './svg.js';

const WIDTH = 820;
const PANEL_WIDTH = 340;
const PANEL_HEIGHT = 240;
const LEFT = 70;
const TOP = 60;
const GAP = 60;
const COLOURS = ['#3b6fb6', '#e08a2c', '#2e9e5b', '#b63b8f', '#7a5c2e', '#555555'];

/** A round upper bound for an axis: 1, 2 or 5 × 10^n at or above v. */
export function niceCeiling(v: number): number {
  if (!(v > 0)) return 1;
  const exp = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * exp >= v) return m * exp;
  return 10 * exp;
}

interface Series {
  readonly row: RowId;
  readonly points: readonly { readonly connections: number; readonly value: number }[];
}

function panel(title: string, unit: string, series: readonly Series[], connections: readonly number[], x0: number, anchorRows: ReadonlySet<RowId>): string[] {
  const max = niceCeiling(Math.max(0, ...series.flatMap((s) => s.points.map((p) => p.value))));
  const lo = Math.log10(Math.min(...connections));
  const hi = Math.log10(Math.max(...connections));
  const x = (c: number): number => x0 + (hi === lo ? PANEL_WIDTH / 2 : ((Math.log10(c) - lo) / (hi - lo)) * PANEL_WIDTH);
  const y = (v: number): number => TOP + PANEL_HEIGHT - (v / max) * PANEL_HEIGHT;
  const out = [
    `<text x="${x0}" y="${TOP - 12}" font-weight="bold">${escape(title)}</text>`,
    `<rect x="${x0}" y="${TOP}" width="${PANEL_WIDTH}" height="${PANEL_HEIGHT}" fill="none" stroke="#999"/>`,
  ];
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    const v = max * f;
    out.push(`<line x1="${x0}" y1="${y(v).toFixed(1)}" x2="${x0 + PANEL_WIDTH}" y2="${y(v).toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${x0 - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="10">${escape(Math.round(v).toLocaleString('en-US'))}</text>`);
  }
  for (const c of connections) {
    out.push(`<text x="${x(c).toFixed(1)}" y="${TOP + PANEL_HEIGHT + 14}" text-anchor="middle" font-size="10">${c}</text>`);
  }
  out.push(`<text x="${x0 + PANEL_WIDTH / 2}" y="${TOP + PANEL_HEIGHT + 30}" text-anchor="middle" font-size="11">connections (log scale)</text>`);
  out.push(
    `<text x="${x0 - 50}" y="${TOP + PANEL_HEIGHT / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 ${x0 - 50} ${TOP + PANEL_HEIGHT / 2})">${escape(unit)}</text>`,
  );
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const colour = COLOURS[i % COLOURS.length]!;
    const dash = anchorRows.has(s.row) ? ' stroke-dasharray="5,3"' : '';
    const path = s.points.map((p) => `${x(p.connections).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
    out.push(`<polyline class="curve" data-row="${escape(s.row)}" points="${path}" fill="none" stroke="${colour}" stroke-width="2"${dash}/>`);
    for (const p of s.points) out.push(`<circle cx="${x(p.connections).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="2.5" fill="${colour}"/>`);
  });
  return out;
}

export function renderCurveSvg(report: RunReport): string {
  const curve = report.curve ?? [];
  const connections = curve.map((p) => p.connections);
  const rows = [...new Set(curve.flatMap((p) => p.results.map((r) => r.row)))];
  const seriesOf = (pick: (rps: number, p99: number) => number): Series[] =>
    rows.map((row) => ({
      row,
      points: curve.flatMap((p) => {
        const r = p.results.find((x) => x.row === row);
        return r && r.unavailable === undefined && r.requests > 0 ? [{ connections: p.connections, value: pick(r.rps, r.p99Ms) }] : [];
      }),
    }));
  const anchors = new Set<RowId>(curve.flatMap((p) => p.results.flatMap((r) => (r.anchor ? [r.anchor] : []))));
  const height = TOP + PANEL_HEIGHT + 50 + 20 * Math.ceil(rows.length / 3);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escape(`aks-emu keep-alive curves, ${report.startedAt} (load average ${report.machine.loadAverage} at start)`)}</text>`,
  ];
  if (connections.length > 0) {
    out.push(
      ...panel(
        'req/s',
        'requests per second',
        seriesOf((rps) => rps),
        connections,
        LEFT,
        anchors,
      ),
    );
    out.push(
      ...panel(
        'p99 latency',
        'p99 ms',
        seriesOf((_, p99) => p99),
        connections,
        LEFT + PANEL_WIDTH + GAP,
        anchors,
      ),
    );
  }
  rows.forEach((row, i) => {
    const lx = LEFT + (i % 3) * 240;
    const ly = TOP + PANEL_HEIGHT + 50 + Math.floor(i / 3) * 20;
    const colour = COLOURS[i % COLOURS.length]!;
    const dash = anchors.has(row) ? ' stroke-dasharray="5,3"' : '';
    out.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 24}" y2="${ly - 4}" stroke="${colour}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${lx + 30}" y="${ly}">${escape(row)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
