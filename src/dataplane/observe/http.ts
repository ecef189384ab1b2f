/**
 * One HTTP request through an L7 pod (the ingress controller or a Gateway): its trace
 * (the rule that matched, the rewrite, each upstream try with its endpoint, status and
 * time), its route counters, and for the ingress controller an access log line in
 * ingress-nginx's default `log-format-upstream`:
 *
 *   $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
 *   "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name]
 *   [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length
 *   $upstream_response_time $upstream_status $req_id
 *
 * The proxy calls begin() once per request; the record is finished when the response
 * closes (finished, or the client went away: nginx's 499).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

import type { Exchange } from '../ingress/exchange.js';
import { clientIp } from '../ingress/exchange.js';
import { newRequestId } from '../ingress/proxy-headers.js';
import type { CompiledEndpoint } from '../ingress/router.js';
import { flowOf } from './flow.js';
import type { HttpCounters, RouteCounters, RouteLabels } from './http-counters.js';
import type { TraceRecord, Traces, TraceView } from './traces.js';

/** nginx's status for a request whose client closed the connection before the answer. */
export const CLIENT_CLOSED_REQUEST = 499;

/** ingress-nginx's name for the controller's own default backend. */
const DEFAULT_BACKEND = 'upstream-default-backend';

export interface HttpObserverOptions {
  readonly traces: Traces;
  readonly counters: HttpCounters;
  /** `namespace/name` of the L7 pod. */
  readonly pod: string;
  /** Where access log lines go (the ingress controller's container log); none: no access log. */
  readonly accessLog?: (line: string) => void;
}

/** One try of a request upstream. */
export class UpstreamTry {
  status = 0;
  bytes = 0;
  ms = 0;
  readonly #t0 = performance.now();

  constructor(
    readonly address: string,
    readonly pod: string | undefined,
  ) {}

  headers(status: number): void {
    this.status = status;
  }

  /** Body bytes from the upstream; returns what of them reached the client. */
  recv(bytes: number, relayed: boolean): number {
    this.bytes += bytes;
    return relayed ? bytes : 0;
  }

  done(failedStatus?: number): void {
    this.ms = performance.now() - this.#t0;
    if (failedStatus !== undefined && this.status === 0) this.status = failedStatus;
  }
}

export class HttpTrace implements TraceRecord {
  readonly startedAt = Date.now();
  readonly #t0 = performance.now();
  readonly tries: UpstreamTry[] = [];
  status = 0;
  durationMs: number | undefined = undefined;
  bodyBytes = 0;
  /** Body bytes relayed from the upstream (what a relayed response sent). */
  relayed = 0;
  requestId = '';
  ended = false;
  service = '';
  /** Ingress/HTTPRoute faults that took effect on the request (src/dataplane/faults). */
  faults: string[] | undefined = undefined;
  /** The L4 flow that brought the request's connection, when the runtime traced it. */
  readonly connection: number | undefined;
  /** $remote_addr, read while the request has its socket: at the response's close Node may have detached it. */
  readonly client: string;

  /** The request while it runs; dropped once the trace is sealed, so the ring holds no sockets. */
  #ex: Exchange | undefined;
  #res: ServerResponse | undefined;
  #facts: RequestFacts | undefined;

  constructor(
    readonly id: number,
    readonly observer: HttpObserver,
    ex: Exchange,
    res: ServerResponse,
  ) {
    this.#ex = ex;
    this.#res = res;
    this.connection = flowOf(underlying(ex.req.socket))?.id;
    this.client = clientIp(ex.req);
  }

  /** Only read while the request runs (finish() seals the trace last). */
  get ex(): Exchange {
    return this.#ex!;
  }

  get res(): ServerResponse {
    return this.#res!;
  }

  /**
   * The request's facts the view needs are kept (plain strings and compiled config); the
   * request, response and socket are let go. The view itself is built only when someone reads
   * the trace, not for every request.
   */
  seal(): void {
    this.#facts = factsOf(this.ex, this.client);
    this.#ex = undefined;
    this.#res = undefined;
  }

  get open(): boolean {
    return !this.ended;
  }

  services(): readonly string[] {
    return this.service === '' ? [] : [this.service];
  }

  /** A try of this request starts towards an endpoint. */
  tryStarted(endpoint: CompiledEndpoint | undefined): UpstreamTry {
    const config = endpoint?.config;
    const t = new UpstreamTry(endpoint?.address ?? '-', config?.podName === undefined ? undefined : `${config.podNamespace ?? ''}/${config.podName}`);
    this.tries.push(t);
    return t;
  }

  elapsedMs(): number {
    return performance.now() - this.#t0;
  }

  toJSON(): TraceView {
    return this.#build(this.#facts ?? factsOf(this.ex, this.client));
  }

  #build(facts: RequestFacts): TraceView {
    const { loc, route } = facts;
    return {
      id: this.id,
      kind: 'http',
      start: new Date(this.startedAt).toISOString(),
      ...(this.connection === undefined ? {} : { connection: this.connection }),
      pod: this.observer.pod,
      client: facts.client,
      request: facts.request,
      host: facts.host,
      ...(this.service === '' ? {} : { service: this.service }),
      hops: [
        {
          hop: facts.gateway ? 'gateway-route' : 'ingress-rule',
          ...(route.kind === '' ? { route: 'default backend' } : { kind: route.kind, route: `${route.namespace}/${route.route}` }),
          server: facts.server,
          ...(loc === undefined ? {} : { path: loc.config.path, pathType: loc.config.pathType }),
        },
        ...(facts.target !== '' && facts.target !== facts.url ? [{ hop: 'rewrite', from: facts.url, to: facts.target }] : []),
        ...(facts.upstream === undefined ? [] : [{ hop: 'upstream', upstream: facts.upstream }]),
        ...this.tries.map((t) => ({ hop: 'endpoint', endpoint: t.address, ...(t.pod === undefined ? {} : { pod: t.pod }), status: t.status, ms: round(t.ms) })),
      ],
      ...(this.faults === undefined ? {} : { faults: this.faults }),
      requestId: this.requestId,
      ...(this.ended ? { status: this.status, durationMs: round(this.durationMs ?? 0), bodyBytes: this.bodyBytes } : { open: true }),
    };
  }
}

/** What a trace's view reads of its request: no socket, request or response object. */
interface RequestFacts {
  readonly loc: Exchange['location'];
  readonly route: RouteLabels;
  readonly client: string;
  readonly request: string;
  readonly host: string;
  readonly gateway: boolean;
  readonly server: string | undefined;
  readonly target: string;
  readonly url: string;
  readonly upstream: string | undefined;
}

function factsOf(ex: Exchange, client: string): RequestFacts {
  return {
    loc: ex.location,
    route: routeOf(ex),
    client,
    request: requestLine(ex.req),
    host: ex.host,
    gateway: Boolean(ex.gateway),
    server: ex.server?.hostname,
    target: ex.target,
    url: ex.url,
    upstream: ex.upstream?.name,
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** A TLS socket's TCP socket, which is the one the L4 flow rode on. */
function underlying(socket: Socket): Socket {
  return (socket as Socket & { _parent?: Socket })._parent ?? socket;
}

function requestLine(req: IncomingMessage): string {
  return `${req.method ?? ''} ${req.url ?? ''} HTTP/${req.httpVersion}`;
}

/** The route identity a request is counted and traced under. */
export function routeOf(ex: Exchange): RouteLabels {
  const loc = ex.location;
  const ref = loc?.config.ingress;
  const service = ex.upstream?.config.service;
  const svc = service === undefined ? '' : `${service.namespace}/${service.name}`;
  if (loc === undefined || ref === undefined || loc.builtin !== undefined) {
    return { kind: '', namespace: '', route: '', host: ex.server?.hostname ?? '', path: loc?.config.path ?? '', service: svc };
  }
  // Gateway API rules name their route `HTTPRoute namespace/name`; Ingress locations `namespace/name`.
  const space = ref.indexOf(' ');
  const kind = space < 0 ? 'Ingress' : ref.slice(0, space);
  const name = ref.slice(space + 1);
  const slash = name.indexOf('/');
  return { kind, namespace: name.slice(0, slash), route: name.slice(slash + 1), host: ex.server?.hostname ?? '', path: loc.config.path, service: svc };
}

function onResponseClose(this: ServerResponse & { [TRACE]?: HttpTrace }): void {
  const trace = this[TRACE];
  this[TRACE] = undefined;
  if (trace !== undefined) trace.observer.finish(trace);
}

const TRACE = Symbol('aks-emu.http-trace');

export class HttpObserver {
  constructor(readonly options: HttpObserverOptions) {}

  get pod(): string {
    return this.options.pod;
  }

  /** A request starts: its trace is kept from now on and finished when the response closes. */
  begin(ex: Exchange, res: ServerResponse): void {
    const traces = this.options.traces;
    const trace = new HttpTrace(traces.nextId(), this, ex, res);
    ex.observed = trace;
    (res as ServerResponse & { [TRACE]?: HttpTrace })[TRACE] = trace;
    res.once('close', onResponseClose);
    traces.add(trace);
  }

  finish(trace: HttpTrace): void {
    const { ex, res } = trace;
    trace.ended = true;
    trace.durationMs = trace.elapsedMs();
    trace.status = res.headersSent ? res.statusCode : CLIENT_CLOSED_REQUEST;
    trace.requestId = ex.requestId === '' ? newRequestId() : ex.requestId;
    const service = ex.upstream?.config.service;
    trace.service = service === undefined ? '' : `${service.namespace}/${service.name}`;
    trace.bodyBytes = bodyBytesSent(trace);
    const requestLength = requestLengthOf(ex.req);
    // The controller's own /healthz location is not logged (ingress-nginx: access_log off there).
    if (ex.location?.builtin === undefined) {
      const counters: RouteCounters = this.options.counters.forLocation(ex.location ?? ex.server ?? this, () => routeOf(ex));
      counters.record(
        trace.status,
        trace.durationMs / 1000,
        requestLength,
        trace.bodyBytes,
        trace.tries.length,
        this.options.pod,
        trace.faults?.includes('abort') === true,
      );
      // The ConfigMap's disable-access-log turns the log off for the whole controller.
      if (ex.traffic?.disableAccessLog !== true) this.options.accessLog?.(accessLogLine(trace, requestLength, new Date()));
    }
    trace.seal();
    this.options.traces.ended(trace);
  }
}

function bodyBytesSent(trace: HttpTrace): number {
  if (trace.ex.req.method === 'HEAD' || !trace.res.headersSent) return 0;
  if (trace.relayed > 0) return trace.relayed;
  // The controller's own answers pass their head to writeHead(), which getHeader() does not see; the written head does.
  const head = (trace.res as ServerResponse & { _header?: string | null })._header;
  const length = head ? /\r\ncontent-length: *(\d+)/i.exec(head) : null;
  return length ? Number(length[1]) : 0;
}

/** $request_length: request line, headers and body (as declared by Content-Length). */
function requestLengthOf(req: IncomingMessage): number {
  let n = requestLine(req).length + 2;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) n += raw[i]!.length + 2 + raw[i + 1]!.length + 2;
  n += 2;
  const declared = Number(req.headers['content-length']);
  return Number.isFinite(declared) ? n + declared : n;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** nginx's $time_local (the controller's clock is UTC, as in its container): `07/Dec/2026:13:05:09 +0000`. */
export function timeLocal(date: Date): string {
  // One string per second: a busy controller logs many requests in the same second.
  const second = Math.floor(date.getTime() / 1000);
  if (second === lastTimeLocal.second) return lastTimeLocal.text;
  const two = (n: number) => String(n).padStart(2, '0');
  lastTimeLocal.second = second;
  return (lastTimeLocal.text = `${two(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`);
}

const lastTimeLocal = { second: Number.NaN, text: '' };

/** $remote_user: the user name of Basic credentials, as nginx reads it from the Authorization header. */
function remoteUser(req: IncomingMessage): string {
  const auth = req.headers.authorization;
  if (auth === undefined || !/^basic /i.test(auth)) return '-';
  const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('latin1');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? '' : decoded.slice(0, colon);
  return user === '' ? '-' : escapeLogValue(user);
}

// eslint-disable-next-line no-control-regex -- the control bytes are what nginx escapes
const NEEDS_ESCAPE = /["\\\x00-\x1f\x7f-\uffff]/;

/** nginx's access log escaping: `"`, `\` and bytes outside printable ASCII as \xHH. */
function escapeLogValue(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  let out = '';
  for (const ch of value) {
    const code = ch.charCodeAt(0);
    if (ch === '"' || ch === '\\' || code < 0x20 || code > 0x7e) out += `\\x${code.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}

function headerValue(value: string | string[] | undefined): string {
  const v = Array.isArray(value) ? value.join(', ') : value;
  return v === undefined || v === '' ? '-' : escapeLogValue(v);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

export function accessLogLine(trace: HttpTrace, requestLength: number, now: Date): string {
  const { ex } = trace;
  const req = ex.req;
  const upstreamName = ex.location?.upstream?.name ?? DEFAULT_BACKEND;
  const alternative = ex.upstream !== undefined && ex.location?.upstream?.alternative === ex.upstream ? ex.upstream.name : '';
  const tries = trace.tries;
  const list = (f: (t: UpstreamTry) => string) => (tries.length === 0 ? '-' : tries.map(f).join(', '));
  return [
    `${trace.client} - ${remoteUser(req)} [${timeLocal(now)}] "${escapeLogValue(requestLine(req))}" ${trace.status} ${trace.bodyBytes}`,
    `"${headerValue(req.headers.referer)}" "${headerValue(req.headers['user-agent'])}" ${requestLength} ${seconds(trace.durationMs ?? 0)}`,
    `[${upstreamName}] [${alternative}] ${list((t) => t.address)} ${list((t) => String(t.bytes))} ${list((t) => seconds(t.ms))} ${list((t) => String(t.status || '-'))} ${trace.requestId}`,
  ].join(' ');
}
