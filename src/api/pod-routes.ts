/**
 * The pod routes that are not plain JSON reads: the API server's log path
 * (GET /api/v1/namespaces/{ns}/pods/{name}/log?container=&previous=&follow=, text/plain,
 * streamed with follow) and aks-emu's crash (POST /aks-emu/v1/namespaces/{ns}/pods/{name}/kill).
 * server.ts asks handlePodRoute first; a backend without these capabilities answers 404.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AksEmuError, toStatus } from '../errors/index.js';
import type { Target } from './http/guard.js';

export interface PodControlBackend {
  /** A promise where the logs live elsewhere (the container runtime asks the Docker engine). */
  podLogs?(namespace: string, name: string, options: { container?: string; previous?: boolean }): string | Promise<string>;
  followPodLogs?(namespace: string, name: string, container: string | undefined, onLine: (line: string) => void): () => void;
  crashPod?(namespace: string, name: string): void | Promise<void>;
}

const LOG = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log\/?$/;
const KILL = /^\/aks-emu\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/kill\/?$/;

function fail(res: ServerResponse, err: unknown): void {
  const status = toStatus(err);
  const body = JSON.stringify(status);
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status.code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}

/** true when the request was one of these routes (answered or failed); false: not ours. */
export function handlePodRoute(backend: PodControlBackend, req: IncomingMessage, res: ServerResponse, target: Target): boolean {
  // The guard's parsed request-target: a path it accepted, segments joined back with single slashes.
  const url = { pathname: `/${target.segments.map(encodeURIComponent).join('/')}`, searchParams: target.query };
  const log = LOG.exec(url.pathname);
  const kill = KILL.exec(url.pathname);
  if (!log && !kill) return false;
  void answer(backend, req, res, url, log, kill);
  return true;
}

async function answer(
  backend: PodControlBackend,
  req: IncomingMessage,
  res: ServerResponse,
  url: { readonly pathname: string; readonly searchParams: URLSearchParams },
  log: RegExpExecArray | null,
  kill: RegExpExecArray | null,
): Promise<void> {
  try {
    if (log) {
      if (req.method !== 'GET') throw new AksEmuError('AKS_EMU_USAGE', `method ${req.method} not allowed on ${url.pathname}`, { status: 405 });
      const [ns, name] = [decodeURIComponent(log[1]!), decodeURIComponent(log[2]!)];
      if (!backend.podLogs) throw new AksEmuError('AKS_EMU_NOT_FOUND', 'this runtime keeps no pod logs');
      const container = url.searchParams.get('container') || undefined;
      const previous = url.searchParams.get('previous') === 'true';
      const text = await backend.podLogs(ns, name, { ...(container ? { container } : {}), previous });
      const follow = url.searchParams.get('follow') === 'true' && !previous && backend.followPodLogs;
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', ...(follow ? {} : { 'content-length': Buffer.byteLength(text) }) });
      if (!follow) {
        res.end(text);
        return;
      }
      res.write(text);
      const stop = backend.followPodLogs!(ns, name, container, (line) => res.write(`${line}\n`));
      res.on('close', stop);
      return;
    }
    if (req.method !== 'POST') throw new AksEmuError('AKS_EMU_USAGE', `method ${req.method} not allowed on ${url.pathname}`, { status: 405 });
    const [ns, name] = [decodeURIComponent(kill![1]!), decodeURIComponent(kill![2]!)];
    if (!backend.crashPod) throw new AksEmuError('AKS_EMU_NOT_FOUND', 'this runtime cannot kill pods');
    await backend.crashPod(ns, name);
    const body = JSON.stringify({ pod: `${ns}/${name}`, killed: true });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  } catch (err) {
    fail(res, err);
  }
}
