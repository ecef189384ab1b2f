/**
 * `npm run perf`: aks-emu's paths against a direct connection and against haproxy (L4)
 * and nginx (L7), in one run, interleaved. Three processes measure apart: the aks-emu
 * child (cluster-process.ts), the load generator (load-process.ts) and the anchors.
 * Progress goes to stderr; the markdown report to stdout and perf/results/.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAnchor, type Anchor } from './anchors.js';
import { BASELINE_ADDRESSES } from './baseline-addresses.js';
import type { ClusterReady, ClusterSettings, ExternalBackend, Unavailable } from './cluster-types.js';
import { startExternalBackend, type RunningBackend } from './external-backend.js';
import { runScaleJob, scaleJobs, type ScaleRun } from './cluster-scale.js';
import { spawnChild, type Child } from './ipc.js';
import { measureMode, type RowResult } from './measure.js';
import { ANCHOR_IDS, baselineTargetOf, CURVE_ROWS, isExternalRow, modeOf, parseArgs, USAGE, type AnchorRowId, type Settings } from './options.js';
import { evaluateGoals, MODE_LABEL } from './report/goals.js';
import { describeMachine } from './report/machine.js';
import { renderMarkdown } from './report/markdown.js';
import { renderProfile, summariseProfile, type CpuProfile } from './report/profile-summary.js';
import { renderCurveSvg } from './report/curve-svg.js';
import { commandOf, renderReadmeBlock, replaceReadmeBlock } from './report/readme.js';
import type { CurvePoint, RunReport } from './report/run-report.js';
import { hookCostGoals, hookCosts } from './report/hooks-ab.js';
import { renderSvg } from './report/svg.js';
import { buildRows, type BaselineCluster } from './rows.js';
import { measureScale, type ScaleResult } from './scale.js';

const t0 = Date.now();
const log = (line: string): void => void process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
const CHILD_FILE_LIMIT = 65_536;
const START_TIMEOUT_MS = 180_000;

interface Placement {
  readonly load?: string;
  readonly servers?: string;
  readonly text: string;
}

/**
 * On 2 cores: the load generator gets one, and whatever serves the request (aks-emu with
 * its pod, or an anchor plus the same pod) shares the other, so every row has the same
 * CPU budget for proxy + backend.
 */
function placement(settings: Settings): Placement {
  if (!settings.pin || os.availableParallelism() < 2) return { text: 'Processes not pinned (--no-pin or a single CPU).' };
  if (spawnSync('taskset', ['-p', String(process.pid)]).status !== 0) return { text: 'Processes not pinned (no taskset: apt-get install util-linux).' };
  return {
    load: '0',
    servers: '1',
    text: 'Pinned: the load generator on CPU 0; aks-emu (one process, one event loop) and the anchors (haproxy nbthread 1, nginx one process) on CPU 1.',
  };
}

async function startAnchors(
  settings: Settings,
  ready: ClusterReady | Unavailable,
  place: Placement,
  external: ExternalBackend | undefined,
): Promise<Map<AnchorRowId, Anchor | Unavailable>> {
  const anchors = new Map<AnchorRowId, Anchor | Unavailable>();
  for (const id of ANCHOR_IDS) {
    if (!settings.rows.includes(id)) continue;
    if ('unavailable' in ready) {
      anchors.set(id, { unavailable: `no backend pod: ${ready.unavailable}` });
      continue;
    }
    // haproxy-process fronts the process pod's own listener; the *-external anchors the harness's backend process.
    const backend = id === 'haproxy-process' ? ready.processBackend : isExternalRow(id) ? external : ready.backend;
    if (backend === undefined) {
      anchors.set(id, { unavailable: id === 'haproxy-process' ? 'the process pod is not listening' : 'the external backend is not running' });
      continue;
    }
    try {
      anchors.set(
        id,
        await startAnchor(id === 'nginx' || id === 'nginx-external' ? 'nginx' : 'haproxy', {
          backend,
          hostHeader: ready.hostHeader,
          ...(place.servers ? { cpus: place.servers } : {}),
          log,
        }),
      );
    } catch (err) {
      anchors.set(id, { unavailable: (err as Error).message });
    }
  }
  return anchors;
}

/** The sum of `connections` over the data plane's LB rule counters (its stats shape is read loosely). */
async function lbConnections(cluster: Child): Promise<number | undefined> {
  const stats = await cluster.call<{ rules?: { connections?: number }[] } | undefined>('stats').catch(() => undefined);
  if (!Array.isArray(stats?.rules)) return undefined;
  return stats.rules.reduce((sum, r) => sum + (r.connections ?? 0), 0);
}

async function writeProfile(profilePath: string, outDir: string, stamp: string, row: string, mode: string): Promise<string | undefined> {
  const raw = await readFile(profilePath, 'utf8').catch(() => undefined);
  if (raw === undefined) return undefined;
  const text = renderProfile(summariseProfile(JSON.parse(raw) as CpuProfile), `aks-emu CPU profile, ${mode} ${row} row, ${stamp}`);
  await writeFile(join(outDir, `${stamp}-profile.md`), text);
  return text;
}

interface AksEmu {
  readonly child: Child;
  readonly ready: ClusterReady | Unavailable;
}

interface AksEmuOptions {
  readonly ingress: boolean;
  readonly external?: ExternalBackend;
  /** Another checkout's perf/cluster-process.ts, on BASELINE_ADDRESSES (--baseline). */
  readonly baseline?: string;
  /** This checkout with AKS_EMU_PERF_HOOKS=off, on BASELINE_ADDRESSES (--hooks-ab). */
  readonly hooksOff?: boolean;
}

async function startAksEmu(settings: Settings, place: Placement, options: AksEmuOptions): Promise<AksEmu> {
  const started = Date.now();
  const child = spawnChild({
    entry: options.baseline === undefined ? './cluster-process.ts' : resolve(options.baseline, 'perf/cluster-process.ts'),
    fileLimit: CHILD_FILE_LIMIT,
    ...(place.servers ? { cpus: place.servers } : {}),
    nodeArgs: ['--expose-gc'],
    env: {
      AKS_EMU_PERF_CLUSTER: JSON.stringify({
        timeScale: settings.timeScale,
        seed: 1,
        ingress: options.ingress,
        ...(options.external ? { external: { host: options.external.host, port: options.external.port } } : {}),
        ...(options.baseline === undefined && !options.hooksOff ? {} : { addresses: BASELINE_ADDRESSES }),
      } satisfies ClusterSettings),
      ...(options.hooksOff ? { AKS_EMU_PERF_HOOKS: 'off' } : {}),
    },
  });
  const ready: ClusterReady | Unavailable = await child.awaitNotice(['ready', 'failed'], START_TIMEOUT_MS).then(
    ({ name, data }) => (name === 'ready' ? (data as ClusterReady) : { unavailable: `aks-emu did not start: ${String(data)}` }),
    (err: Error) => ({ unavailable: `aks-emu did not start: ${err.message}` }),
  );
  log(
    `  aks-emu${options.baseline === undefined ? '' : ` baseline (${options.baseline})`}${options.hooksOff ? ' with AKS_EMU_PERF_HOOKS=off' : ''} (pid ${child.pid}) ${'unavailable' in ready ? 'failed' : 'ready'} after ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return { child, ready };
}

/**
 * The scale row runs in a fresh aks-emu process: RSS seldom shrinks, so after the load
 * rows (or they after it) one figure would be flattered or polluted by the other's pages.
 */
async function scaleRow(settings: Settings, place: Placement, load: Child, track: (c: Child) => void): Promise<ScaleResult> {
  log(`Scale: ${settings.idleConnections} idle connections through the LB, in a fresh aks-emu (no ingress controller)`);
  const { child, ready } = await startAksEmu(settings, place, { ingress: false });
  track(child);
  try {
    if ('unavailable' in ready) return { requested: settings.idleConnections, count: 0, sources: [], unavailable: ready.unavailable };
    return await measureScale(settings.idleConnections, ready.targets.lb, ready.targets.direct, load.pid, {
      cluster: child,
      load,
      aksEmuPid: child.pid,
      hostHeader: ready.hostHeader,
      log,
    });
  } catch (err) {
    return { requested: settings.idleConnections, count: 0, sources: [], unavailable: (err as Error).message };
  } finally {
    await child.stop();
  }
}

/** README.md's performance figures, from a run's report (base: its results path without extension). */
async function updateReadme(report: RunReport, base: string): Promise<void> {
  const readmePath = fileURLToPath(new URL('../README.md', import.meta.url));
  const block = renderReadmeBlock(report, { command: commandOf(report, parseArgs([], '')), resultsBase: relative(dirname(readmePath), base) });
  await writeFile(readmePath, replaceReadmeBlock(await readFile(readmePath, 'utf8'), block));
  log(`written: README.md's performance figures, from ${base}.json`);
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) return void process.stdout.write(`${USAGE}\n`);
  const from = process.argv.indexOf('--readme-from');
  if (from >= 0) {
    // The figures of a run already made (its .json), written into the README without measuring again.
    const file = process.argv[from + 1];
    if (file === undefined) throw new Error('--readme-from needs a results .json file');
    const report = JSON.parse(await readFile(file, 'utf8')) as RunReport;
    return updateReadme(report, resolve(file).replace(/\.json$/, ''));
  }
  const settings = parseArgs(process.argv.slice(2), fileURLToPath(new URL('./results/', import.meta.url)));
  const startedAt = new Date();
  const loadAtStart = os.loadavg()[0] ?? 0;
  const stamp = startedAt
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
  await mkdir(settings.outDir, { recursive: true });
  const place = placement(settings);
  const profilePath = settings.profile ? join(settings.outDir, `${stamp}.cpuprofile`) : undefined;
  const notes: string[] = [];

  const load: Child = spawnChild({ entry: './load-process.ts', fileLimit: CHILD_FILE_LIMIT, ...(place.load ? { cpus: place.load } : {}) });
  const clusters: Child[] = [];
  let anchors = new Map<AnchorRowId, Anchor | Unavailable>();
  const stopAnchors = async (): Promise<void> => {
    for (const a of anchors.values()) if ('stop' in a) await a.stop();
    anchors = new Map();
  };
  let external: RunningBackend | undefined;
  const stopAll = async (): Promise<void> => {
    await stopAnchors();
    await external?.stop();
    await Promise.all([load.stop(), ...clusters.map((c) => c.stop())]);
  };
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));

  let report: RunReport;
  try {
    log(`aks-emu perf (${settings.quick ? 'quick' : settings.profile ? 'profile' : 'full'}): starting the cluster`);
    if (settings.rows.some(isExternalRow)) {
      try {
        external = await startExternalBackend(place.servers);
        log(`  external backend (pid ${external.pid}) on ${external.host}:${external.port}`);
      } catch (err) {
        notes.push((err as Error).message);
      }
    }
    // The controller's readiness takes ~20 s at real timings: only start it when its row runs.
    const ingress = settings.rows.includes('ingress') || settings.rows.includes('ingress-external');
    // A twin (--baseline, --hooks-ab) starts beside the build under test, not after it: a process
    // that sat idle while the other started (about 20 s with the ingress controller) had its young
    // generation shrunk by V8 and collected about twice as often through the rounds (perf/README.md).
    const twinRows = settings.rows.filter((r) => baselineTargetOf(r) !== undefined);
    const twinWanted = settings.baseline !== undefined || settings.hooksAb === true;
    const [main, twin] = await Promise.all([
      startAksEmu(settings, place, { ingress, ...(external ? { external } : {}) }),
      twinWanted
        ? startAksEmu(settings, place, {
            ingress: twinRows.some((r) => r.startsWith('ingress')),
            ...(settings.baseline === undefined ? { hooksOff: true } : { baseline: settings.baseline }),
            ...(external ? { external } : {}),
          })
        : undefined,
    ]);
    const { child: cluster, ready } = main;
    clusters.push(cluster);
    if ('unavailable' in ready) notes.push(ready.unavailable);
    else notes.push(...ready.notices.map((n) => `aks-emu: ${n}`));
    let baseline: BaselineCluster | undefined;
    if (twin !== undefined) {
      const { child, ready: baseReady } = twin;
      clusters.push(child);
      baseline = { pid: child.pid, ready: baseReady };
      if ('unavailable' in baseReady) notes.push(`${settings.hooksAb ? 'hooks-off' : 'baseline'} build: ${baseReady.unavailable}`);
      else if (settings.hooksAb) notes.push(...baseReady.notices.map((n) => `aks-emu @nohooks: ${n}`));
    }
    anchors = await startAnchors(settings, ready, place, external);
    const versions = Object.fromEntries([...anchors].flatMap(([id, a]) => ('version' in a ? [[id, a.version]] : [])));
    const machine = await describeMachine(versions, loadAtStart);
    const rows = buildRows(settings.rows, ready, anchors, baseline);
    const hostHeader = 'unavailable' in ready ? 'localhost' : ready.hostHeader;
    const results: RowResult[] = [];
    for (const modeId of settings.modes) {
      const mode = modeOf(modeId, settings);
      log(`${mode.title}: ${rows.length} rows × ${settings.rounds} rounds × ${settings.durationS} s`);
      const profiling = profilePath
        ? { roundsStart: () => cluster.call<void>('profileStart'), roundsEnd: () => cluster.call<void>('profileStop', { path: profilePath }) }
        : {};
      results.push(
        ...(await measureMode(mode, rows, {
          load,
          aksEmuPid: cluster.pid,
          hostHeader,
          settings,
          log,
          lbConnections: () => lbConnections(cluster),
          ...(external ? { backendPid: external.pid } : {}),
          ...profiling,
        })),
      );
    }
    const curve: CurvePoint[] = [];
    const curveRows = rows.filter((r) => CURVE_ROWS.includes(r.id));
    for (const connections of curveRows.length > 0 ? settings.curve : []) {
      log(`Curve: keep-alive at ${connections} connections: ${curveRows.length} rows × ${settings.rounds} rounds × ${settings.durationS} s`);
      const results = await measureMode(modeOf('keepalive', settings), curveRows, {
        load,
        aksEmuPid: cluster.pid,
        hostHeader,
        settings: { ...settings, connections },
        keyPrefix: `curve-${connections}/`,
        log,
        lbConnections: async () => undefined,
        ...(external ? { backendPid: external.pid } : {}),
      });
      curve.push({ connections, results });
    }
    await stopAnchors();
    await Promise.all(clusters.map((c) => c.stop()));
    const scale = settings.idleConnections > 0 ? await scaleRow(settings, place, load, (c) => clusters.push(c)) : undefined;
    if (scale?.limitedBy) notes.push(`scale row: ${scale.count} connections, not ${scale.requested}: ${scale.limitedBy}`);
    const clusterScale: ScaleRun[] = [];
    for (const job of scaleJobs(settings.clusterSizes, { idleWindowS: settings.idleWindowS, idleServices: settings.idleServices })) {
      log(
        `Cluster size: ${job.kind === 'example' ? 'the bundled example' : `${job.services} Services`} at timeScale ${job.timeScale}${job.idleWindowS ? `, idle CPU over ${job.idleWindowS} s` : ''}`,
      );
      const run = await runScaleJob(job, { fileLimit: CHILD_FILE_LIMIT, ...(place.servers ? { cpus: place.servers } : {}) });
      log(run.measure ? `  serving after ${Math.round(run.measure.servingMs)} ms` : `  n/a: ${run.unavailable}`);
      clusterScale.push(run);
    }
    const hookCost = settings.hooksAb ? hookCosts(results) : [];
    report = {
      command: ['npm run perf --', ...process.argv.slice(2)].join(' '),
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      settings,
      placement: place.text,
      machine,
      backend: 'unavailable' in ready ? { pod: '-', address: '-' } : { pod: ready.backend.pod, address: `${ready.backend.host}:${ready.backend.port}` },
      ...(external ? { externalBackend: `${external.host}:${external.port}` } : {}),
      notes,
      results,
      ...(scale ? { scale } : {}),
      ...(curve.length > 0 ? { curve } : {}),
      ...(clusterScale.length > 0 ? { clusterScale } : {}),
      goals: [...evaluateGoals(results, settings.modes, scale, clusterScale), ...hookCostGoals(hookCost)],
      ...(settings.hooksAb ? { hookCost } : {}),
    };
  } finally {
    await stopAll();
  }

  const base = join(settings.outDir, stamp);
  const markdown = renderMarkdown(report);
  await writeFile(`${base}.md`, markdown);
  await writeFile(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(`${base}.svg`, renderSvg(report));
  if (report.curve) await writeFile(`${base}-curve.svg`, renderCurveSvg(report));
  process.stdout.write(markdown);
  log(`written: ${base}.md, .json, .svg${report.curve ? ', -curve.svg' : ''}`);
  if (settings.updateReadme) await updateReadme(report, base);
  if (profilePath) {
    const profile = await writeProfile(profilePath, settings.outDir, stamp, settings.rows[0] ?? 'lb', MODE_LABEL[settings.modes[0] ?? 'keepalive']);
    if (profile) {
      process.stdout.write(`\n${profile}`);
      log(`written: ${base}-profile.md and ${profilePath} (open it in Chrome DevTools)`);
    } else log(`no profile was written to ${profilePath}`);
  }
}

main().catch((err: unknown) => {
  log(`perf: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
