/** The run as markdown: one table per mode, the goals as PASS/FAIL lines, the scale row, the setup. */
import type { RowResult } from '../measure.js';
import { modeOf, type ModeId } from '../options.js';
import type { ScaleRun } from '../cluster-scale.js';
import type { HoldMeasure, ScaleResult } from '../scale.js';
import { hookCostSection } from './hooks-ab.js';
import { ratiosOf, type RunReport } from './run-report.js';

const MiB = 2 ** 20;
const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const fixed = (n: number, digits: number): string => n.toFixed(digits);
const ratio = (n: number | undefined): string => (n === undefined ? '' : `${n.toFixed(2)}×`);

/** Escapes what would break a table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

const HEADER =
  '| row | path | req/s | p50 ms | p99 ms | max ms | errors | aks-emu CPU s | anchor CPU s | backend CPU s | server CPU µs/req | aks-emu peak RSS MiB | req/s × direct | req/s × anchor | p99 × anchor |';
const RULE = '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|';

function row(r: RowResult, all: readonly RowResult[]): string {
  const path = `${r.path} (${r.via})`;
  if (r.unavailable !== undefined) return `| ${r.row} | ${cell(path)} | n/a: ${cell(r.unavailable)} | | | | | | | | | | | | |`;
  const ratios = ratiosOf(r, all);
  // Everything that serves the request: aks-emu (the echo pod, and the path when it is aks-emu's), the anchor, the external backend.
  const serverCpu = r.requests > 0 ? ((r.aksEmuCpuS + (r.proxyCpuS ?? 0) + (r.backendCpuS ?? 0)) / r.requests) * 1e6 : 0;
  const anchorLabel = r.anchor ? ` (${r.anchor})` : '';
  return [
    '',
    r.row,
    cell(path),
    int(r.rps),
    fixed(r.p50Ms, 3),
    fixed(r.p99Ms, 3),
    fixed(r.maxMs, 1),
    int(r.errors),
    fixed(r.aksEmuCpuS, 2),
    r.proxyCpuS === undefined ? '' : fixed(r.proxyCpuS, 2),
    r.backendCpuS === undefined ? '' : fixed(r.backendCpuS, 2),
    fixed(serverCpu, 1),
    fixed(r.aksEmuPeakRssBytes / MiB, 1),
    ratio(ratios.vsDirect),
    ratios.vsAnchor === undefined ? '' : `${ratio(ratios.vsAnchor)}${anchorLabel}`,
    ratio(ratios.p99VsAnchor),
    '',
  ]
    .join(' | ')
    .trim();
}

function holdLine(label: string, h: HoldMeasure): string {
  const released = h.released
    ? 'all released'
    : h.leftAtTarget > 0
      ? `NOT all released: ${int(h.leftAtTarget)} still open at the target`
      : `every held connection closed, but ${int(h.fdsAfter - h.fdsBefore)} more descriptors open than before`;
  const failed = h.failed > 0 ? `; ${int(h.failed)} failed to open (${h.firstError ?? '?'})` : '';
  return (
    `- ${label}: ${int(h.opened)} held, +${fixed(h.extraRssBytes / MiB, 1)} MiB RSS = ${int(h.bytesPerConnection)} bytes per connection ` +
    `(JS heap + external: ${int(h.opened > 0 ? h.extraHeapBytes / h.opened : 0)} bytes per connection); ` +
    `open fds ${int(h.fdsBefore)} → ${int(h.fdsHeld)} → ${int(h.fdsAfter)} (${released})${failed}`
  );
}

function scaleSection(scale: ScaleResult | undefined): string[] {
  if (!scale) return [];
  const lines = ['', '## Scale: idle connections through the LB', ''];
  if (scale.unavailable !== undefined && !scale.lb) return [...lines, `n/a: ${scale.unavailable}`];
  lines.push(
    `${int(scale.count)} idle keep-alive connections (one request each, then idle), from ${scale.sources.length > 0 ? scale.sources.join(', ') : '127.0.0.1'}.`,
  );
  if (scale.limitedBy) lines.push(`Fewer than the ${int(scale.requested)} asked: ${scale.limitedBy}.`);
  lines.push('');
  if (scale.lb) lines.push(holdLine('through the LB frontend (LB → node → pod)', scale.lb));
  if (scale.direct) {
    lines.push(
      holdLine(
        "straight to the pod, after the LB hold (the echo pod's own share, in the aks-emu process; RSS reuses the pages the LB hold freed, so JS memory is the telling figure)",
        scale.direct,
      ),
    );
  }
  if (scale.direct && scale.lb && scale.lb.opened > 0 && scale.direct.opened > 0) {
    const net = scale.lb.extraHeapBytes / scale.lb.opened - scale.direct.extraHeapBytes / scale.direct.opened;
    lines.push(`- the L4 path's own JS memory, without the pod's share: about ${int(net)} bytes per connection`);
  }
  return lines;
}

function curveSection(report: RunReport): string[] {
  const curve = report.curve;
  if (!curve || curve.length === 0) return [];
  const rows = [...new Set(curve.flatMap((p) => p.results.map((r) => r.row)))];
  const lines = [
    '',
    '## Curves: keep-alive req/s and p99 against connections',
    '',
    `GET /, the same rounds and durations as above at each connection count (drawn in the \`-curve.svg\` beside this file). Each cell: req/s, p99 ms.`,
    '',
    `| row | ${curve.map((p) => `${int(p.connections)} conn.`).join(' | ')} |`,
    `|---|${curve.map(() => '--:|').join('')}`,
  ];
  for (const id of rows) {
    const cells = curve.map((p) => {
      const r = p.results.find((x) => x.row === id);
      if (!r || r.unavailable !== undefined) return 'n/a';
      return `${int(r.rps)}, ${fixed(r.p99Ms, 2)}`;
    });
    lines.push(`| ${id} | ${cells.join(' | ')} |`);
  }
  return lines;
}

function clusterScaleSection(runs: readonly ScaleRun[] | undefined): string[] {
  if (!runs || runs.length === 0) return [];
  const lines = [
    '',
    '## Scale: cluster size',
    '',
    'Each line a fresh aks-emu process: N Services with 3 echo pods each (every other one a LoadBalancer; all of them on the idle-CPU line), ' +
      "on as many nodes as the pods need at 250 pods a node (AKS's highest --max-pods; at least 3), " +
      'started with startCluster() from inline manifests. *serving* runs from startCluster() until the last LoadBalancer Service answered ' +
      'a request; *modules* is loading aks-emu before that (a test file pays it once). The live change is a POST of one LoadBalancer Service ' +
      'to the Kubernetes API until its frontend answered.',
    '',
    '| cluster | timeScale | modules ms | startCluster ms | serving ms | pods | nodes | peak RSS MiB | idle CPU | live change to traffic ms |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const run of runs) {
    const name = run.job.kind === 'example' ? 'examples/store' : `${int(run.job.services)} Services${run.job.allLoadBalancer ? ', all LoadBalancer' : ''}`;
    const m = run.measure;
    if (!m) {
      lines.push(`| ${name} | ${run.job.timeScale} | n/a: ${cell(run.unavailable ?? 'failed')} | | | | | | | |`);
      continue;
    }
    lines.push(
      [
        '',
        name,
        String(run.job.timeScale),
        int(m.importMs),
        int(m.startClusterMs),
        `${int(m.servingMs)}${m.served ? '' : ' (not serving)'}`,
        int(m.pods),
        int(m.nodes),
        m.peakRssBytes === undefined ? '' : fixed(m.peakRssBytes / MiB, 0),
        m.idle ? `${fixed(m.idle.cpuShare * 100, 1)} % over ${fixed(m.idle.windowS, 0)} s` : '',
        m.change ? `${int(m.change.trafficMs)}${m.change.ok ? '' : ' (never answered)'}` : '',
        '',
      ]
        .join(' | ')
        .trim(),
    );
  }
  return lines;
}

export function renderMarkdown(report: RunReport): string {
  const { settings, machine } = report;
  const kind = settings.profile ? 'profile' : settings.quick ? 'quick' : 'full';
  const lines = [
    `# aks-emu performance, ${report.startedAt} (${kind})`,
    '',
    `Machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}, Linux ${machine.kernel}, Node ${machine.node}, autocannon ${machine.autocannon}` +
      `${Object.entries(machine.anchors)
        .map(([k, v]) => `, ${k} ${v}`)
        .join('')}; load average ${machine.loadAverage} at start.`,
    '',
    `Settings: ${settings.connections} connections, ${settings.rounds} interleaved rounds × ${settings.durationS} s per row and mode ` +
      `(+${settings.warmupS} s warm-up), keep-alive pipelining ${settings.pipelining}, cluster timeScale ${settings.timeScale}. ${report.placement}`,
    '',
    `The in-process rows end at the same echo pod (${report.backend.pod}, ${report.backend.address}); ` +
      `the *-external rows at one backend process of the harness's own (${report.externalBackend ?? 'not run'}: perf/process-backend.mjs, ` +
      'a lean HTTP/1.1 responder), reached by aks-emu through selector-less Services and EndpointSlices, and by haproxy and nginx directly; ' +
      'the process-* rows at a `process` pod (aks-emu runs the same program and forwards its pod IP to it). ' +
      'Latency from autocannon with 1 µs resolution; errors = non-2xx + socket errors + timeouts; ' +
      'server CPU = aks-emu + anchor CPU time over completed requests.',
  ];
  const modes = [...new Set(report.results.map((r) => r.mode))] as ModeId[];
  for (const mode of modes) {
    const m = modeOf(mode, settings);
    lines.push('', `## ${m.title}`, '', `GET ${m.path}${m.churn ? ' with `Connection: close`' : ''}, pipelining ${m.pipelining}.`, '', HEADER, RULE);
    for (const r of report.results.filter((x) => x.mode === mode)) lines.push(row(r, report.results));
    const lb = report.results.find((x) => x.mode === mode && x.row === 'lb' && x.lbConnections !== undefined);
    if (lb?.lbConnections !== undefined && lb.requests > 0) {
      lines.push(
        '',
        `Connections the LB frontend accepted during the lb row's rounds: ${int(lb.lbConnections)} for ${int(lb.requests)} responses ` +
          `(${fixed(lb.lbConnections / lb.requests, 3)} per response).`,
      );
    }
  }
  lines.push(...hookCostSection(report.hookCost ?? []));
  lines.push(...scaleSection(report.scale));
  lines.push(...curveSection(report));
  lines.push(...clusterScaleSection(report.clusterScale));
  lines.push('', '## Goals', '');
  for (const g of report.goals) lines.push(`- **${g.status}** ${g.text}`);
  if (report.notes.length > 0) {
    lines.push('', '## Notes', '');
    for (const n of report.notes) lines.push(`- ${n}`);
  }
  return `${lines.join('\n')}\n`;
}
