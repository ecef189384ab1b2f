/**
 * The observability routes: GET /metrics (Prometheus' text format) and
 * GET /aks-emu/v1/traces?service=NS/NAME&last=N&kind=tcp|http, which with follow=1 streams
 * each trace as it ends as server-sent events (`event: trace`, `data: <JSON>`). server.ts
 * asks handleObserveRoute first; a backend without these capabilities answers 404.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EXPOSITION_CONTENT_TYPE } from '../dataplane/observe/exposition.js';
import type { TraceQuery, TraceView } from '../dataplane/observe/traces.js';
import { ApiStatusError, toStatus } from '../errors/index.js';
import type { Target } from './http/guard.js';

/** Sync in the embedded runtime; the container runtime's control gathers from its roles, so it answers later. */
export interface ObserveBackend {
  metrics?(): string | Promise<string>;
  traces?(query: TraceQuery): TraceView[] | Promise<TraceView[]>;
  followTraces?(query: TraceQuery, onTrace: (view: TraceView) => void): () => void;
}

const TRACES = '/aks-emu/v1/traces';

function invalid(field: string, message: string): ApiStatusError {
  return new ApiStatusError('BadRequest', `${field}: ${message}`, { causes: [{ reason: 'FieldValueInvalid', message, field }] });
}

/** The query's fields, each checked; a bad one is a 400 naming it. */
export function parseTraceQuery(query: URLSearchParams): TraceQuery & { follow: boolean } {
  for (const key of query.keys()) {
    if (!['service', 'last', 'kind', 'follow'].includes(key)) throw invalid(key, 'unknown query parameter (known: service, last, kind, follow)');
  }
  const service = query.get('service');
  if (service !== null && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\/[a-z0-9]([-a-z0-9]*[a-z0-9])?)?$/.test(service)) {
    throw invalid('service', `"${service}" is not NAMESPACE/NAME (or NAME in namespace default)`);
  }
  const last = query.get('last');
  if (last !== null && !/^[1-9][0-9]{0,8}$/.test(last)) throw invalid('last', `"${last}" must be a positive integer`);
  const kind = query.get('kind');
  if (kind !== null && kind !== 'tcp' && kind !== 'http') throw invalid('kind', `"${kind}" must be tcp or http`);
  const follow = query.get('follow');
  if (follow !== null && !['1', 'true', '0', 'false'].includes(follow)) throw invalid('follow', `"${follow}" must be 1, true, 0 or false`);
  return {
    ...(service === null ? {} : { service: service.includes('/') ? service : `default/${service}` }),
    ...(last === null ? {} : { last: Number(last) }),
    ...(kind === null ? {} : { kind }),
    follow: follow === '1' || follow === 'true',
  };
}

function fail(res: ServerResponse, err: unknown): void {
  const status = toStatus(err);
  const body = JSON.stringify(status);
  if (res.headersSent) return void res.end();
  res.writeHead(status.code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}

function send(res: ServerResponse, contentType: string, body: string): void {
  res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) }).end(body);
}

/** true when the request was one of these routes (answered, failed, or being answered); false: not ours. */
export function handleObserveRoute(backend: ObserveBackend, req: IncomingMessage, res: ServerResponse, target: Target): boolean {
  const path = `/${target.segments.join('/')}`;
  if (path !== '/metrics' && path !== TRACES) return false;
  answer(backend, req, res, target, path).catch((err: unknown) => fail(res, err));
  return true;
}

async function answer(backend: ObserveBackend, req: IncomingMessage, res: ServerResponse, target: Target, path: string): Promise<void> {
  if (req.method !== 'GET')
    throw new ApiStatusError('MethodNotAllowed', `the server does not allow this method on the requested resource (${req.method} ${path})`);
  if (path === '/metrics') {
    if (!backend.metrics) throw new ApiStatusError('NotFound', 'this runtime serves no metrics');
    send(res, EXPOSITION_CONTENT_TYPE, await backend.metrics());
    return;
  }
  const { follow, ...query } = parseTraceQuery(target.query);
  if (!backend.traces || !backend.followTraces) throw new ApiStatusError('NotFound', 'this runtime keeps no traces');
  if (!follow) {
    send(res, 'application/json', JSON.stringify({ kind: 'TraceList', items: await backend.traces(query) }, null, 2));
    return;
  }
  // With last=N the latest N come first, as `tail -n N -f` prints them.
  const latest = query.last === undefined ? [] : await backend.traces(query);
  if (res.destroyed) return;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const event = (view: TraceView) => res.write(`event: trace\nid: ${view.id}\ndata: ${JSON.stringify(view)}\n\n`);
  for (const view of latest) if (view.open !== true) event(view);
  res.write(': following\n\n');
  const stop = backend.followTraces({ ...query, last: undefined }, event);
  res.on('close', stop);
}
