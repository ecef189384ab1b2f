/** `npm run perf -- [options]`: what to measure, and how long. */
import type { TargetId } from './cluster-types.js';

export type AnchorRowId = 'haproxy' | 'nginx' | 'haproxy-process' | 'haproxy-external' | 'nginx-external';
/** aks-emu rows that a baseline build (--baseline DIR) runs beside this one, to measure a change before and after in one run. */
export const BASELINE_TARGETS = ['lb-external', 'nodeport-external', 'clusterip-external', 'ingress-external', 'lb', 'ingress'] as const;
export type BaselineTarget = (typeof BASELINE_TARGETS)[number];
/** `@base`: the --baseline checkout's build; `@nohooks`: this checkout with AKS_EMU_PERF_HOOKS=off (--hooks-ab). */
export type SecondBuild = 'base' | 'nohooks';
export type BaselineRowId = `${BaselineTarget}@${SecondBuild}`;
export type RowId = TargetId | AnchorRowId | BaselineRowId;

/** `lb-external@base` or `lb-external@nohooks` → `lb-external`; undefined for a row of this build. */
export function baselineTargetOf(row: RowId): BaselineTarget | undefined {
  const at = row.lastIndexOf('@');
  return at < 0 ? undefined : (row.slice(0, at) as BaselineTarget);
}

/** Which second build serves a row (`@base`, `@nohooks`); undefined for a row of this build. */
export function secondBuildOf(row: RowId): SecondBuild | undefined {
  const at = row.lastIndexOf('@');
  return at < 0 ? undefined : (row.slice(at + 1) as SecondBuild);
}
export type ModeId = 'keepalive' | 'churn' | 'body';

export const ROW_IDS: readonly RowId[] = [
  'direct-external',
  'lb-external',
  'nodeport-external',
  'clusterip-external',
  'ingress-external',
  'haproxy-external',
  'nginx-external',
  'direct',
  'clusterip',
  'nodeport',
  'lb',
  'ingress',
  'gateway',
  'haproxy',
  'nginx',
  'process-direct',
  'process-lb',
  'haproxy-process',
];
export const ANCHOR_IDS: readonly AnchorRowId[] = ['haproxy', 'nginx', 'haproxy-process', 'haproxy-external', 'nginx-external'];

/** Rows whose path ends at the external backend process the harness runs. */
export function isExternalRow(row: RowId): boolean {
  return (baselineTargetOf(row) ?? row).endsWith('-external');
}

/** The limit a row is compared with (× direct): the process rows end at another backend. */
export function directOf(row: RowId): RowId {
  if (isExternalRow(row)) return 'direct-external';
  if (baselineTargetOf(row) !== undefined) return 'direct';
  return row === 'process-lb' || row === 'haproxy-process' ? 'process-direct' : 'direct';
}
/** The rows drawn as curves against the connection count. */
export const CURVE_ROWS: readonly RowId[] = ['lb-external', 'haproxy-external', 'ingress-external', 'nginx-external'];

export const MODE_IDS: readonly ModeId[] = ['keepalive', 'churn', 'body'];

/** The 1 MiB row asks the echo pod for a body of this size with `?size=N`. */
export const BODY_BYTES = 1 << 20;

export interface Mode {
  readonly id: ModeId;
  readonly title: string;
  readonly path: string;
  readonly churn: boolean;
  readonly pipelining: number;
  /** The response must be at least this big, or the mode cannot run. */
  readonly minBodyBytes: number;
}

export interface Settings {
  readonly quick: boolean;
  readonly rounds: number;
  readonly durationS: number;
  readonly warmupS: number;
  readonly connections: number;
  readonly pipelining: number;
  readonly modes: readonly ModeId[];
  readonly rows: readonly RowId[];
  /** Idle connections for the scale row (0: no scale row). */
  readonly idleConnections: number;
  /** Load generator on CPU 0, aks-emu and the anchors on CPU 1. */
  readonly pin: boolean;
  /** CPU-profile the aks-emu child (V8's profiler, as --cpu-prof) during the keep-alive rounds of one row (`lb` unless --rows names another). */
  readonly profile: boolean;
  readonly timeScale: number;
  readonly outDir: string;
  /** Connection counts for the keep-alive curves of CURVE_ROWS; empty: no curves. */
  readonly curve: readonly number[];
  /** Cluster sizes (Services) for the start-up rows; empty: no cluster-size rows. */
  readonly clusterSizes: readonly number[];
  /** Seconds of idle CPU measured with idleServices LoadBalancer Services at real probe timings; 0: none. */
  readonly idleWindowS: number;
  readonly idleServices: number;
  /** Write the run's figures into README.md between its perf markers. */
  readonly updateReadme: boolean;
  /** Another checkout of aks-emu (with node_modules) whose build runs the @base rows beside this one. */
  readonly baseline?: string;
  /** This checkout again with AKS_EMU_PERF_HOOKS=off runs the @nohooks rows beside this one (--hooks-ab). */
  readonly hooksAb?: boolean;
}

export function modeOf(id: ModeId, settings: Pick<Settings, 'pipelining'>): Mode {
  switch (id) {
    case 'keepalive':
      return { id, title: 'Keep-alive', path: '/', churn: false, pipelining: settings.pipelining, minBodyBytes: 1 };
    case 'churn':
      return { id, title: 'Connection churn (a new connection per request)', path: '/', churn: true, pipelining: 1, minBodyBytes: 1 };
    case 'body':
      return { id, title: '1 MiB response body', path: `/?size=${BODY_BYTES}`, churn: false, pipelining: 1, minBodyBytes: BODY_BYTES };
  }
}

export const USAGE = `npm run perf -- [options]
  --quick               about a minute: 2 rounds of 1 s per row and mode
  --rounds N            interleaved rounds per row and mode (default 5)
  --duration S          seconds per round (default 5)
  --warmup S            unrecorded seconds per row before the first round (default 2)
  --connections N       concurrent connections, every row (default 32)
  --pipelining N        keep-alive mode only (default 1)
  --modes a,b           keepalive,churn,body (default all)
  --rows a,b            ${ROW_IDS.join(',')}
                        (default all; *-external: to a backend process of the harness's own, through selector-less Services)
  --idle N              idle connections for the scale row (default 10000; 0 to skip)
  --curve a,b           connection counts for the keep-alive curves (req/s and p99) of ${CURVE_ROWS.join(', ')}
                        (default 1,10,50,200,1000; --quick none; 0 for none)
  --sizes a,b           cluster sizes (Services, 3 pods each, half LoadBalancer) whose start-up to serving and
                        peak RSS are measured in fresh processes, with a live change at each (default
                        10,100,300,1000,5000; --quick 10,100; 0 to skip; a size needing more listening sockets than the
                        open-file limit allows is reported n/a with the count); the bundled example's startCluster() comes with them
  --idle-cpu S          seconds of idle CPU measured with --idle-services LoadBalancer Services at real probe
                        timings (default 20; --quick 0)
  --idle-services N     Services (all LoadBalancer, 3 pods each) for the idle-CPU row (default 1000, the issue's size)
  --update-readme       write this run's figures into README.md's performance section (between its perf markers)
  --readme-from FILE    only write README.md's figures from a run already made (its results .json), measuring nothing
  --no-pin              do not pin processes to CPUs
  --profile             CPU-profile aks-emu on the keep-alive lb row (or the aks-emu row --rows names, in the mode
                        --modes names first) and list the top functions
  --time-scale X        the cluster's timeScale (default 1: real Azure timings)
  --out DIR             where results go (default perf/results)
  --baseline DIR        also run aks-emu from another checkout (say, the commit before a change, made with
                        git worktree add) on a second address range: each of ${BASELINE_TARGETS.join(', ')}
                        selected gets an @base row beside it, measured in the same interleaved rounds
  --hooks-ab            also run this checkout with its observability hooks off (AKS_EMU_PERF_HOOKS=off: no flow
                        records, no request traces, route counters or access log) on the second address range:
                        each of those rows gets an @nohooks row beside it, and the report gives the hooks' cost
                        per row and mode (req/s and server CPU µs per request, median of the rounds; goal ≤ 3 %)`;

function list<T extends string>(value: string, allowed: readonly T[], flag: string): T[] {
  const items = value.split(',').filter(Boolean);
  for (const item of items) if (!allowed.includes(item as T)) throw new Error(`${flag}: unknown ${JSON.stringify(item)} (one of ${allowed.join(', ')})`);
  return items as T[];
}

function positive(value: string | undefined, flag: string, allowZero = false): number {
  const n = Number(value);
  if (value === undefined || !Number.isFinite(n) || n < 0 || (!allowZero && n === 0))
    throw new Error(`${flag} needs a ${allowZero ? 'non-negative' : 'positive'} number`);
  return n;
}

/** `a,b,c` whole numbers; 0 alone means none. */
function counts(value: string, flag: string): number[] {
  return value
    .split(',')
    .filter(Boolean)
    .map((v) => Math.round(positive(v, flag, true)))
    .filter((n) => n > 0);
}

export function parseArgs(argv: readonly string[], defaultOutDir: string): Settings {
  const quick = argv.includes('--quick');
  const s = {
    quick,
    rounds: quick ? 2 : 5,
    durationS: quick ? 1 : 5,
    warmupS: quick ? 0.5 : 2,
    connections: 32,
    pipelining: 1,
    modes: [...MODE_IDS] as ModeId[],
    rows: [...ROW_IDS] as RowId[],
    idleConnections: 10_000,
    clusterSizes: quick ? [10, 100] : [10, 100, 300, 1000, 5000],
    idleServices: 1000,
    curve: quick ? [] : [1, 10, 50, 200, 1000],
    updateReadme: false,
    idleWindowS: quick ? 0 : 20,
    pin: true,
    profile: false,
    timeScale: 1,
    outDir: defaultOutDir,
  };
  let rowsGiven = false;
  let modesGiven = false;
  let baseline: string | undefined;
  let hooksAb = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--quick':
        break;
      case '--rounds':
        s.rounds = Math.round(positive(value(), flag));
        break;
      case '--duration':
        s.durationS = positive(value(), flag);
        break;
      case '--warmup':
        s.warmupS = positive(value(), flag, true);
        break;
      case '--connections':
        s.connections = Math.round(positive(value(), flag));
        break;
      case '--pipelining':
        s.pipelining = Math.round(positive(value(), flag));
        break;
      case '--modes':
        s.modes = list(value(), MODE_IDS, flag);
        modesGiven = true;
        break;
      case '--rows':
        s.rows = list(value(), ROW_IDS, flag);
        rowsGiven = true;
        break;
      case '--idle':
        s.idleConnections = Math.round(positive(value(), flag, true));
        break;
      case '--sizes':
        s.clusterSizes = counts(value(), flag);
        break;
      case '--curve':
        s.curve = counts(value(), flag);
        break;
      case '--idle-cpu':
        s.idleWindowS = positive(value(), flag, true);
        break;
      case '--idle-services':
        s.idleServices = Math.round(positive(value(), flag));
        break;
      case '--update-readme':
        s.updateReadme = true;
        break;
      case '--no-pin':
        s.pin = false;
        break;
      case '--profile':
        s.profile = true;
        break;
      case '--time-scale':
        s.timeScale = positive(value(), flag);
        break;
      case '--out':
        s.outDir = value();
        break;
      case '--baseline':
        baseline = value();
        break;
      case '--hooks-ab':
        hooksAb = true;
        break;
      default:
        throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  }
  if (s.profile) {
    // A profile of one aks-emu path alone: nothing else runs in the aks-emu process meanwhile.
    const row = rowsGiven ? s.rows.find((r) => !(ANCHOR_IDS as readonly RowId[]).includes(r)) : 'lb';
    if (row === undefined) throw new Error('--profile: --rows must name an aks-emu row (direct, clusterip, nodeport, lb or ingress)');
    // One mode: the keep-alive one unless --modes names another.
    s.modes = [modesGiven ? s.modes[0]! : 'keepalive'];
    s.rows = [row];
    s.idleConnections = 0;
    s.clusterSizes = [];
    s.idleWindowS = 0;
    s.curve = [];
  }
  if (baseline !== undefined && hooksAb) throw new Error('--baseline and --hooks-ab both need the second address range: give one of them');
  if (baseline === undefined && !hooksAb) return s;
  const second: SecondBuild = hooksAb ? 'nohooks' : 'base';
  // Each second-build row right after its own, so the two share every round's conditions.
  const rows = s.rows.flatMap((r): RowId[] => ((BASELINE_TARGETS as readonly RowId[]).includes(r) ? [r, `${r as BaselineTarget}@${second}`] : [r]));
  return { ...s, rows, ...(baseline === undefined ? { hooksAb: true } : { baseline }) };
}
