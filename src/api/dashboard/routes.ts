/**
 * The dashboard on the admin address:
 *   GET /dashboard                         the page (static/index.html)
 *   GET /dashboard/app.js, /dashboard/style.css
 *   GET /aks-emu/v1/dashboard/state        one DashboardState (JSON)
 *   GET /aks-emu/v1/dashboard/events       server-sent events: a `state` event at once and
 *                                          after every interval (?interval=MS, 100..60000)
 * The page is plain files with no build step and loads nothing from elsewhere; its
 * Content-Security-Policy allows only this origin's script, style and connections. The
 * page's files are served without the admin token (server.ts); the page asks for it.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiStatusError } from '../../errors/index.js';
import { FAULTS_FOR } from '../../faults/types.js';
import type { Snapshot } from '../../cluster/snapshot.js';
import type { ProbeStatusLike } from '../load-balancer-view.js';
import type { Target } from '../http/guard.js';
import { dashboardState, type DashboardState, type DashboardStats, type FaultView, type RouteRequests, type Sample } from './model.js';

/** What the dashboard reads; the admin API's backend provides it. */
export interface DashboardBackend {
  readonly snapshot: Snapshot;
  probeStatus(): readonly ProbeStatusLike[];
  stats(): unknown;
  /** The L7 pods' per-route request counters, where the runtime keeps them (the embedded one). */
  routeRequests?(): readonly RouteRequests[];
  /** The fault API's registry, where the runtime has one. */
  readonly faultControl?: { faults(): readonly FaultView[] };
}

export const DASHBOARD_EVENTS_PATH = '/aks-emu/v1/dashboard/events';
const DEFAULT_INTERVAL_MS = 1000;

/**
 * Only GET on the page, its two files and the API paths; the Content-Security-Policy keeps
 * anything the page would render from running as script even if it escaped text.
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  '': { file: 'index.html', type: 'text/html; charset=utf-8' },
  'app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  'style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

/** `/dashboard`, `/dashboard/`, `/dashboard/app.js`, `/dashboard/style.css`, with any query: the files of the page. */
export function isDashboardPageFile(url: string | undefined): boolean {
  const path = (url ?? '').split('?')[0];
  return path === '/dashboard' || path === '/dashboard/' || path === '/dashboard/app.js' || path === '/dashboard/style.css';
}

/** Next to this module in src/ and, copied by `npm run build`, in dist/. */
const STATIC_DIR = new URL('./static/', import.meta.url);

export function securityHeaders(type: string): Record<string, string> {
  return {
    'content-type': type,
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cache-control': 'no-store',
  };
}

/**
 * The embedded runtime's stats are one data plane's; the container runtime's control plane
 * reports `{loadBalancer, nodes: {NAME: ...}}`, one data plane per container: the LB's rules
 * and every node's Service ports, merged.
 */
export function dataPlaneStats(raw: unknown): DashboardStats | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as DashboardStats & { loadBalancer?: DashboardStats; nodes?: Record<string, DashboardStats | undefined> };
  if (Array.isArray(r.rules) || Array.isArray(r.servicePorts)) return r;
  if (r.nodes === undefined && r.loadBalancer === undefined) return undefined;
  const nodes = Object.values(r.nodes ?? {}).filter((n): n is DashboardStats => n !== undefined);
  return {
    rules: r.loadBalancer?.rules ?? [],
    servicePorts: nodes.flatMap((n) => n.servicePorts ?? []),
    endpoints: nodes.flatMap((n) => n.endpoints ?? []),
    activeConnections: (r.loadBalancer?.activeConnections ?? 0) + nodes.reduce((a, n) => a + (n.activeConnections ?? 0), 0),
  };
}

function faultList(backend: DashboardBackend): readonly FaultView[] | undefined {
  return backend.faultControl?.faults();
}

/** One sample of the cluster for the dashboard. */
export function sampleDashboard(backend: DashboardBackend, previous: Sample | undefined, now = Date.now()): { state: DashboardState; sample: Sample } {
  return dashboardState(
    {
      snapshot: backend.snapshot,
      probes: backend.probeStatus(),
      stats: dataPlaneStats(backend.stats()),
      routeRequests: backend.routeRequests?.(),
      faults: faultList(backend),
      faultTypes: FAULTS_FOR,
      now,
    },
    previous,
  );
}

function intervalParam(query: URLSearchParams): number {
  const raw = query.get('interval');
  if (raw === null) return DEFAULT_INTERVAL_MS;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 100 || n > 60_000) {
    throw new ApiStatusError('BadRequest', `interval: Invalid value: ${JSON.stringify(raw.slice(0, 50))}: must be milliseconds between 100 and 60000`);
  }
  return n;
}

function streamEvents(backend: DashboardBackend, req: IncomingMessage, res: ServerResponse, intervalMs: number, log: (line: string) => void): void {
  // The first sample before the head: if it fails, the client gets a Status, not a stream.
  let { state, sample } = sampleDashboard(backend, undefined);
  res.writeHead(200, {
    ...securityHeaders('text/event-stream; charset=utf-8'),
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write('retry: 2000\n\n');
  // Every interval (at most a minute) sends a state, so the stream is never idle for long.
  const send = () => {
    // JSON.stringify without indentation holds no line break, so one data line carries it.
    res.write(`event: state\nid: ${sample.at}\ndata: ${JSON.stringify(state)}\n\n`);
  };
  send();
  const timer = setInterval(() => {
    try {
      ({ state, sample } = sampleDashboard(backend, sample));
    } catch (err) {
      // A timer callback that throws would end the process: end this stream instead, saying why.
      const message = (err as Error)?.message ?? String(err);
      log(`dashboard: sampling for an event stream failed, stream closed: ${(err as Error)?.stack ?? message}`);
      clearInterval(timer);
      res.end(`event: error\ndata: ${JSON.stringify({ message })}\n\n`);
      return;
    }
    send();
  }, intervalMs);
  const stop = () => clearInterval(timer);
  req.on('close', stop);
  res.on('close', stop);
  res.on('error', stop);
}

async function sendAsset(res: ServerResponse, name: string, head: boolean): Promise<void> {
  const asset = ASSETS[name]!;
  const body = await readFile(new URL(asset.file, STATIC_DIR));
  res.writeHead(200, { ...securityHeaders(asset.type), 'content-length': body.length });
  res.end(head ? undefined : body);
}

/** True when the request was the dashboard's and has been answered; throws a Status to refuse it. */
export async function handleDashboardRoute(
  backend: DashboardBackend,
  method: string,
  target: Target,
  req: IncomingMessage,
  res: ServerResponse,
  log: (line: string) => void,
): Promise<boolean> {
  const s = target.segments;
  const page = s[0] === 'dashboard' && s.length <= 2 ? (s[1] ?? '') : undefined;
  const api = s.length === 4 && s[0] === 'aks-emu' && s[1] === 'v1' && s[2] === 'dashboard' ? s[3] : undefined;
  if (page === undefined && api === undefined) return false;
  if (page !== undefined && !Object.hasOwn(ASSETS, page))
    throw new ApiStatusError('NotFound', `the server could not find the requested resource (${method} ${target.path})`);
  if (api !== undefined && api !== 'events' && api !== 'state')
    throw new ApiStatusError('NotFound', `the server could not find the requested resource (${method} ${target.path})`);
  if (method !== 'GET' && !(method === 'HEAD' && page !== undefined))
    throw new ApiStatusError('MethodNotAllowed', `the server does not allow this method on the requested resource (${method} ${target.path})`);
  if (page !== undefined) {
    await sendAsset(res, page, method === 'HEAD');
  } else if (api === 'state') {
    const body = JSON.stringify(sampleDashboard(backend, undefined).state, null, 2);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  } else {
    streamEvents(backend, req, res, intervalParam(target.query), log);
  }
  return true;
}
