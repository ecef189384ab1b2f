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

import { LeanResponse, type CloseHook } from '../ingress/downstream-message.js';
import type { Exchange } from '../ingress/exchange.js';
import { clientIp } from '../ingress/exchange.js';
import { newRequestId } from '../ingress/proxy-headers.js';
import type { CompiledEndpoint, CompiledLocation, CompiledServer, CompiledUpstream } from '../ingress/router.js';
import type { AccessLog } from './access-log.js';
import { flowOf } from './flow.js';
import type { HttpCounters, PodRequests, RouteCounters, RouteLabels } from './http-counters.js';
import { KeptStrings } from './kept-strings.js';
import type { TraceRecord, Traces, TraceView } from './traces.js';

/** The fields of a sealed record's KeptStrings, in the order seal() pushes them. */
const K_URL = 0;
const K_HOST = 1;
const K_TARGET = 2;
const K_EX_URL = 3;
const K_AUTHORIZATION = 4;
const K_REFERER = 5;
const K_USER_AGENT = 6;
const K_CLIENT = 7;
const K_REQUEST_ID = 8;
const K_FIELDS = 9;

/** nginx's status for a request whose client closed the connection before the answer. */
export const CLIENT_CLOSED_REQUEST = 499;

/** ingress-nginx's name for the controller's own default backend. */
const DEFAULT_BACKEND = 'upstream-default-backend';

export interface HttpObserverOptions {
  readonly traces: Traces;
  readonly counters: HttpCounters;
  /** `namespace/name` of the L7 pod. */
  readonly pod: string;
  /** The ingress controller's access log; none: no access log. */
  readonly accessLog?: AccessLog;
}

/** What one try of a request upstream did: the endpoint, its status, body bytes and time. */
export class TryRecord {
  address = '-';
  /** The endpoint's config (compiled, long-lived): its pod's name is made into a string only when read. */
  endpoint: CompiledEndpoint['config'] | undefined = undefined;
  status = 0;
  bytes = 0;
  ms = 0;

  /** `namespace/name` of the endpoint's pod, if it has one. */
  get pod(): string | undefined {
    const config = this.endpoint;
    return config?.podName === undefined ? undefined : `${config.podNamespace ?? ''}/${config.podName}`;
  }

  /** What `from` had done by now (a trace copies its tries when it is sealed). */
  copy(from: TryRecord): void {
    this.address = from.address;
    this.endpoint = from.endpoint;
    this.status = from.status;
    this.bytes = from.bytes;
    this.ms = from.ms;
  }
}

/**
 * One try of a request upstream while it runs, written by the proxy's upstream call. It is
 * short-lived: the trace copies what it did when the trace is sealed and keeps no reference
 * to it, so what the call does after that (an abort once the client left) is not recorded.
 */
export class UpstreamTry extends TryRecord {
  /** Body bytes that reached the client. */
  relayed = 0;
  readonly #t0 = performance.now();

  constructor(address: string, endpoint: CompiledEndpoint['config'] | undefined) {
    super();
    this.address = address;
    this.endpoint = endpoint;
  }

  headers(status: number): void {
    this.status = status;
  }

  /** Body bytes from the upstream; `relayed`: they were written to the client. */
  recv(bytes: number, relayed: boolean): void {
    this.bytes += bytes;
    if (relayed) this.relayed += bytes;
  }

  done(failedStatus?: number): void {
    this.ms = performance.now() - this.#t0;
    if (failedStatus !== undefined && this.status === 0) this.status = failedStatus;
  }
}

/**
 * One request's trace. Records are reused: each is held by the request while it runs, by
 * the trace ring and by the access log ring, and once all three have let go its observer
 * takes it back for a later request. Nothing reads a record after that: every reader (the
 * trace API, followers, the access log's text) copies what it needs when it reads.
 */
export class HttpTrace implements TraceRecord, CloseHook {
  id = 0;
  startedAt = 0;
  #t0 = 0;
  /** The first upstream try while the request runs, and the retries after it (most requests make one try: no array for them). */
  #firstTry: UpstreamTry | undefined = undefined;
  #retries: UpstreamTry[] | undefined = undefined;
  /** Once sealed: what the tries had done then (the first one, and the retries' copies, reused with the record). */
  #tryCount = 0;
  readonly #first = new TryRecord();
  readonly #more: TryRecord[] = [];
  status = 0;
  durationMs: number | undefined = undefined;
  bodyBytes = 0;
  ended = false;
  service = '';
  /** Ingress/HTTPRoute faults that took effect on the request (src/dataplane/faults). */
  faults: string[] | undefined = undefined;
  /** The L4 flow that brought the request's connection, when the runtime traced it. */
  connection: number | undefined = undefined;
  /** $remote_addr, read while the request has its socket (at the response's close Node may have detached it); kept once sealed. */
  #client = '';
  #requestId = '';

  /** The request while it runs; dropped once the trace is sealed, so the ring holds no sockets. */
  #ex: Exchange | undefined = undefined;
  #res: ServerResponse | undefined = undefined;
  /** Request, trace ring and access log ring: the record is reused when none holds it. */
  #holds = 0;
  /**
   * What the view reads once the request is let go, kept as fields (not an object per
   * request): strings the request already had and the compiled router objects, which live
   * as long as their router. The view's strings and objects are made only when it is read.
   */
  #sealed = false;
  #method = '';
  #httpVersion = '';
  /** The sealed record's strings (K_* fields), off the JavaScript heap: kept-strings.ts says why. */
  readonly #kept = new KeptStrings(K_FIELDS);
  #gateway = false;
  #loc: CompiledLocation | undefined = undefined;
  #server: CompiledServer | undefined = undefined;
  #upstream: CompiledUpstream | undefined = undefined;
  /** What the access log line reads besides the trace (set when the log records the request). */
  #loggedAt = 0;
  #requestLength = 0;
  #authorization: string | undefined = undefined;
  #referer: string | undefined = undefined;
  #userAgent: string | undefined = undefined;
  #upstreamName = '';
  #alternative = '';

  constructor(readonly observer: HttpObserver) {}

  /** A request starts (on a new record or one taken back): held by the request and the trace ring. */
  start(id: number, ex: Exchange, res: ServerResponse): void {
    this.id = id;
    this.startedAt = Date.now();
    this.#t0 = performance.now();
    this.#holds = 2;
    this.#ex = ex;
    this.#res = res;
    this.connection = flowOf(underlying(ex.req.socket))?.id;
    this.#client = clientIp(ex.req);
  }

  /** The lean server's response closed (CloseHook): the request is finished. */
  responseClosed(): void {
    this.observer.finish(this);
  }

  /** Only read while the request runs (finish() seals the trace last). */
  get ex(): Exchange {
    return this.#ex!;
  }

  get res(): ServerResponse {
    return this.#res!;
  }

  /** The access log ring keeps the record too. */
  retain(): void {
    this.#holds++;
  }

  /** The request, the trace ring or the access log ring let go of the record. */
  release(): void {
    if (--this.#holds === 0) this.observer.recycle(this);
  }

  /** The trace ring dropped the record (TraceRecord). */
  evicted(): void {
    this.release();
  }

  /** Back to a new record's state, so a record waiting to be reused holds nothing. */
  reset(): void {
    this.#firstTry = undefined;
    this.#retries = undefined;
    this.#tryCount = 0;
    this.status = 0;
    this.durationMs = undefined;
    this.bodyBytes = 0;
    this.ended = false;
    this.service = '';
    this.faults = undefined;
    this.#client = '';
    this.#requestId = '';
    this.#kept.clear();
    this.#ex = undefined;
    this.#res = undefined;
    this.#sealed = false;
    this.#loc = undefined;
    this.#server = undefined;
    this.#upstream = undefined;
    this.#authorization = undefined;
    this.#referer = undefined;
    this.#userAgent = undefined;
  }

  /** The request's facts the view needs are kept; the request, response, socket and live tries are let go. */
  seal(): void {
    const ex = this.ex;
    const req = ex.req;
    // The record outlives the request by thousands of requests: it keeps strings that live
    // anyway (method, version) or copies into its own bytes (the rest, in K_* order; reset()
    // emptied them), so that the request's own strings (a slice keeps the whole head) die young.
    this.#method = lasting(req.method ?? '');
    this.#httpVersion = lasting(req.httpVersion);
    const kept = this.#kept;
    const url = req.url ?? '';
    kept.push(url);
    kept.push(ex.host);
    // Without a rewrite the target and the normalised URL are most often the request's URL.
    if (ex.target === url) kept.repeat(K_URL);
    else kept.push(ex.target);
    if (ex.url === url) kept.repeat(K_URL);
    else kept.push(ex.url);
    kept.push(this.#authorization);
    kept.push(this.#referer);
    kept.push(this.#userAgent);
    kept.push(this.#client);
    kept.push(this.#requestId);
    this.#authorization = undefined;
    this.#referer = undefined;
    this.#userAgent = undefined;
    this.#client = '';
    this.#requestId = '';
    this.#gateway = Boolean(ex.gateway);
    this.#loc = ex.location;
    this.#server = ex.server;
    this.#upstream = ex.upstream;
    this.#sealed = true;
    // The access log line and the view read the tries as they were when the response closed.
    const first = this.#firstTry;
    const retries = this.#retries;
    if (first !== undefined) this.#first.copy(first);
    if (retries !== undefined) {
      for (let i = 0; i < retries.length; i++) {
        if (i === this.#more.length) this.#more.push(new TryRecord());
        this.#more[i]!.copy(retries[i]!);
      }
    }
    this.#tryCount = first === undefined ? 0 : 1 + (retries?.length ?? 0);
    this.#firstTry = undefined;
    this.#retries = undefined;
    this.#ex = undefined;
    this.#res = undefined;
  }

  get open(): boolean {
    return !this.ended;
  }

  get client(): string {
    return this.#sealed ? (this.#kept.get(K_CLIENT) ?? '') : this.#client;
  }

  /** The request id the response carried (set when the request finishes, before the record is sealed). */
  get requestId(): string {
    return this.#sealed ? (this.#kept.get(K_REQUEST_ID) ?? '') : this.#requestId;
  }

  set requestId(id: string) {
    this.#requestId = id;
  }

  /** The access log records this request: what its line reads of the request, kept now (the line is made when read). */
  logged(requestLength: number, now: number): void {
    const ex = this.ex;
    const headers = ex.req.headers;
    this.#loggedAt = now;
    this.#requestLength = requestLength;
    this.#authorization = headers.authorization;
    this.#referer = headers.referer;
    this.#userAgent = headers['user-agent'];
    this.#upstreamName = ex.location?.upstream?.name ?? DEFAULT_BACKEND;
    this.#alternative = ex.upstream !== undefined && ex.location?.upstream?.alternative === ex.upstream ? ex.upstream.name : '';
  }

  /** The request's line in log-format-upstream (after logged() and seal()). */
  accessLogLine(): string {
    // The upstream lists ($upstream_addr and its siblings), comma-and-space separated, `-` without a try.
    const tries = this.tries();
    let addrs = '-';
    let lengths = '-';
    let times = '-';
    let statuses = '-';
    for (let i = 0; i < tries.length; i++) {
      const t = tries[i]!;
      const status = t.status === 0 ? '-' : String(t.status);
      if (i === 0) {
        addrs = t.address;
        lengths = String(t.bytes);
        times = seconds(t.ms);
        statuses = status;
      } else {
        addrs += `, ${t.address}`;
        lengths += `, ${t.bytes}`;
        times += `, ${seconds(t.ms)}`;
        statuses += `, ${status}`;
      }
    }
    const kept = this.#kept;
    const request = `${this.#method} ${kept.get(K_URL) ?? ''} HTTP/${this.#httpVersion}`;
    return `${this.client} - ${remoteUser(kept.get(K_AUTHORIZATION))} [${timeLocal(this.#loggedAt)}] "${escapeLogValue(request)}" ${this.status} ${this.bodyBytes} "${headerValue(kept.get(K_REFERER))}" "${headerValue(kept.get(K_USER_AGENT))}" ${this.#requestLength} ${seconds(this.durationMs ?? 0)} [${this.#upstreamName}] [${this.#alternative}] ${addrs} ${lengths} ${times} ${statuses} ${this.requestId}`;
  }

  services(): readonly string[] {
    return this.service === '' ? [] : [this.service];
  }

  /** A try of this request starts towards an endpoint. */
  tryStarted(endpoint: CompiledEndpoint | undefined): UpstreamTry {
    const t = new UpstreamTry(endpoint?.address ?? '-', endpoint?.config);
    if (this.#firstTry === undefined) this.#firstTry = t;
    else (this.#retries ??= []).push(t);
    return t;
  }

  /** How many tries went upstream. */
  get tryCount(): number {
    if (this.#sealed) return this.#tryCount;
    return this.#firstTry === undefined ? 0 : 1 + (this.#retries?.length ?? 0);
  }

  /** Every try, in order: the live ones while the request runs, then what they had done when it was sealed. */
  tries(): readonly TryRecord[] {
    if (this.#sealed) {
      const n = this.#tryCount;
      return n === 0 ? [] : [this.#first, ...this.#more.slice(0, n - 1)];
    }
    const first = this.#firstTry;
    if (first === undefined) return [];
    return this.#retries === undefined ? [first] : [first, ...this.#retries];
  }

  /** Body bytes the tries relayed to the client (while the request runs). */
  relayed(): number {
    let n = this.#firstTry?.relayed ?? 0;
    if (this.#retries !== undefined) for (const t of this.#retries) n += t.relayed;
    return n;
  }

  elapsedMs(): number {
    return performance.now() - this.#t0;
  }

  toJSON(): TraceView {
    if (this.#sealed) {
      const kept = this.#kept;
      const request = `${this.#method} ${kept.get(K_URL) ?? ''} HTTP/${this.#httpVersion}`;
      return this.#build(
        this.#loc,
        this.#server,
        this.#upstream,
        request,
        kept.get(K_HOST) ?? '',
        this.#gateway,
        kept.get(K_TARGET) ?? '',
        kept.get(K_EX_URL) ?? '',
      );
    }
    const ex = this.ex;
    return this.#build(ex.location, ex.server, ex.upstream, requestLine(ex.req), ex.host, Boolean(ex.gateway), ex.target, ex.url);
  }

  #build(
    loc: CompiledLocation | undefined,
    server: CompiledServer | undefined,
    upstream: CompiledUpstream | undefined,
    request: string,
    host: string,
    gateway: boolean,
    target: string,
    url: string,
  ): TraceView {
    const route = routeLabels(loc, server, upstream);
    return {
      id: this.id,
      kind: 'http',
      start: new Date(this.startedAt).toISOString(),
      ...(this.connection === undefined ? {} : { connection: this.connection }),
      pod: this.observer.pod,
      client: this.client,
      request,
      host,
      ...(this.service === '' ? {} : { service: this.service }),
      hops: [
        {
          hop: gateway ? 'gateway-route' : 'ingress-rule',
          ...(route.kind === '' ? { route: 'default backend' } : { kind: route.kind, route: `${route.namespace}/${route.route}` }),
          server: server?.hostname,
          ...(loc === undefined ? {} : { path: loc.config.path, pathType: loc.config.pathType }),
        },
        ...(target !== '' && target !== url ? [{ hop: 'rewrite', from: url, to: target }] : []),
        ...(upstream === undefined ? [] : [{ hop: 'upstream', upstream: upstream.name }]),
        ...this.tries().map((t) => ({
          hop: 'endpoint',
          endpoint: t.address,
          ...(t.pod === undefined ? {} : { pod: t.pod }),
          status: t.status,
          ms: round(t.ms),
        })),
      ],
      ...(this.faults === undefined ? {} : { faults: this.faults }),
      requestId: this.requestId,
      ...(this.ended ? { status: this.status, durationMs: round(this.durationMs ?? 0), bodyBytes: this.bodyBytes } : { open: true }),
    };
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * The same text as a string the module holds for good (methods and HTTP versions), or the
 * string itself. A record keeps what a request read for as long as the rings keep it, so
 * the parser's copies would be promoted out of the young generation with every record.
 */
function lasting(text: string): string {
  switch (text) {
    case 'GET':
      return 'GET';
    case 'HEAD':
      return 'HEAD';
    case 'POST':
      return 'POST';
    case 'PUT':
      return 'PUT';
    case 'DELETE':
      return 'DELETE';
    case 'PATCH':
      return 'PATCH';
    case 'OPTIONS':
      return 'OPTIONS';
    case '1.1':
      return '1.1';
    case '1.0':
      return '1.0';
    default:
      return text;
  }
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
  return routeLabels(ex.location, ex.server, ex.upstream);
}

function routeLabels(loc: CompiledLocation | undefined, server: CompiledServer | undefined, upstream: CompiledUpstream | undefined): RouteLabels {
  const ref = loc?.config.ingress;
  const service = upstream?.config.service;
  const svc = service === undefined ? '' : `${service.namespace}/${service.name}`;
  if (loc === undefined || ref === undefined || loc.builtin !== undefined) {
    return { kind: '', namespace: '', route: '', host: server?.hostname ?? '', path: loc?.config.path ?? '', service: svc };
  }
  // Gateway API rules name their route `HTTPRoute namespace/name`; Ingress locations `namespace/name`.
  const space = ref.indexOf(' ');
  const kind = space < 0 ? 'Ingress' : ref.slice(0, space);
  const name = ref.slice(space + 1);
  const slash = name.indexOf('/');
  return { kind, namespace: name.slice(0, slash), route: name.slice(slash + 1), host: server?.hostname ?? '', path: loc.config.path, service: svc };
}

function onResponseClose(this: ServerResponse & { [TRACE]?: HttpTrace }): void {
  const trace = this[TRACE];
  this[TRACE] = undefined;
  if (trace !== undefined) trace.observer.finish(trace);
}

const TRACE = Symbol('aks-emu.http-trace');

interface RouteHandle {
  readonly counters: RouteCounters;
  readonly pod: PodRequests;
}

/** Records taken back and waiting for a request: enough for a burst, bounded so a quiet controller lets them go. */
const SPARE_RECORDS = 256;

export class HttpObserver {
  readonly #spare: HttpTrace[] = [];
  #made = 0;
  /** Per compiled location (a WeakMap: a router rebuilt on a snapshot swap lets its keys go). */
  readonly #routes = new WeakMap<object, RouteHandle>();

  constructor(readonly options: HttpObserverOptions) {}

  /** How many records this observer has made: the rest of its requests reused one. */
  get recordsMade(): number {
    return this.#made;
  }

  get pod(): string {
    return this.options.pod;
  }

  /** A request starts: its trace is kept from now on and finished when the response closes. */
  begin(ex: Exchange, res: ServerResponse): void {
    const traces = this.options.traces;
    let trace = this.#spare.pop();
    if (trace === undefined) {
      trace = new HttpTrace(this);
      this.#made++;
    }
    trace.start(traces.nextId(), ex, res);
    ex.observed = trace;
    // The lean server calls the trace itself: no listener to add and emit per request.
    if (res instanceof LeanResponse) res.closeHook = trace;
    else {
      (res as ServerResponse & { [TRACE]?: HttpTrace })[TRACE] = trace;
      // on(), not once(): 'close' comes once per response, and once() wraps the listener in a new closure each time.
      res.on('close', onResponseClose);
    }
    traces.add(trace);
  }

  /** The counters a request of this location (or server, for requests no location took) adds to, and this pod's share of them. */
  #route(ex: Exchange): RouteHandle {
    const key: object = ex.location ?? ex.server ?? this;
    let handle = this.#routes.get(key);
    if (handle === undefined) {
      const counters = this.options.counters.forLocation(key, routeOf, ex);
      this.#routes.set(key, (handle = { counters, pod: counters.forPod(this.options.pod) }));
    }
    return handle;
  }

  /** No ring and no request holds the record any more: it is reused for a later request. */
  recycle(trace: HttpTrace): void {
    trace.reset();
    if (this.#spare.length < SPARE_RECORDS) this.#spare.push(trace);
  }

  finish(trace: HttpTrace): void {
    const { ex, res } = trace;
    const req = ex.req;
    trace.ended = true;
    trace.durationMs = trace.elapsedMs();
    trace.status = res.headersSent ? res.statusCode : CLIENT_CLOSED_REQUEST;
    trace.requestId = ex.requestId === '' ? newRequestId() : ex.requestId;
    trace.service = serviceName(ex.upstream);
    trace.bodyBytes = bodyBytesSent(trace);
    let log: AccessLog | undefined;
    // The controller's own /healthz location is not logged (ingress-nginx: access_log off there).
    if (ex.location?.builtin === undefined) {
      const requestLength = requestLengthOf(req);
      const route = this.#route(ex);
      route.counters.record(
        trace.status,
        trace.durationMs / 1000,
        requestLength,
        trace.bodyBytes,
        trace.tryCount,
        route.pod,
        trace.faults !== undefined && trace.faults.includes('abort'),
      );
      // The ConfigMap's disable-access-log turns the log off for the whole controller.
      if (this.options.accessLog !== undefined && ex.traffic?.disableAccessLog !== true) {
        trace.logged(requestLength, Date.now());
        log = this.options.accessLog;
      }
    }
    trace.seal();
    // The exchange may outlive the response (a try the client left is still being aborted): it must not reach the record once reused.
    ex.observed = undefined;
    log?.add(trace);
    this.options.traces.ended(trace);
    trace.release();
  }
}

/** `namespace/name` of the upstream's Service, made once per compiled upstream ('' for none). */
function serviceName(upstream: CompiledUpstream | undefined): string {
  const service = upstream?.config.service;
  if (service === undefined) return '';
  let name = serviceNames.get(service);
  if (name === undefined) serviceNames.set(service, (name = `${service.namespace}/${service.name}`));
  return name;
}

const serviceNames = new WeakMap<object, string>();

function bodyBytesSent(trace: HttpTrace): number {
  if (trace.ex.req.method === 'HEAD' || !trace.res.headersSent) return 0;
  const relayed = trace.relayed();
  if (relayed > 0) return relayed;
  // The controller's own answers pass their head to writeHead(), which getHeader() does not see; the written head does.
  const head = (trace.res as ServerResponse & { _header?: string | null })._header;
  const length = head ? /\r\ncontent-length: *(\d+)/i.exec(head) : null;
  return length ? Number(length[1]) : 0;
}

/** $request_length: request line, headers and body (as declared by Content-Length). */
function requestLengthOf(req: IncomingMessage): number {
  // The request line's length without making it: `METHOD URL HTTP/x.y`.
  let n = (req.method ?? '').length + 1 + (req.url ?? '').length + 6 + req.httpVersion.length + 2;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) n += raw[i]!.length + 2 + raw[i + 1]!.length + 2;
  n += 2;
  const declared = Number(req.headers['content-length']);
  return Number.isFinite(declared) ? n + declared : n;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** nginx's $time_local (the controller's clock is UTC, as in its container): `07/Dec/2026:13:05:09 +0000`. */
export function timeLocal(date: Date | number): string {
  const ms = typeof date === 'number' ? date : date.getTime();
  // One string per second: a busy controller logs many requests in the same second.
  const second = Math.floor(ms / 1000);
  if (second === lastTimeLocal.second) return lastTimeLocal.text;
  const d = new Date(second * 1000);
  lastTimeLocal.second = second;
  return (lastTimeLocal.text = `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`);
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

const lastTimeLocal = { second: Number.NaN, text: '' };

/** $remote_user: the user name of Basic credentials, as nginx reads it from the Authorization header. */
function remoteUser(auth: string | undefined): string {
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

/** One line of log-format-upstream, made from what the trace recorded. */
export function accessLogLine(trace: HttpTrace): string {
  return trace.accessLogLine();
}
