/**
 * One request's state through the proxy, and the undici dispatch handler that relays the
 * upstream's answer. The handler writes straight into the client's response, with
 * undici's own backpressure (onData → false, resume on drain): no body stream, no pipe,
 * no promise per request. Handlers are module functions bound through `this`, not
 * per-request closures.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { util, type Dispatcher } from 'undici';
import type { ResponseHeaders } from './upstream-response.js';
import { seenRemoteAddress } from '../l4/local-endpoints.js';
import type { HttpTrace, UpstreamTry } from '../observe/http.js';
import type { CompiledLocation, CompiledServer, CompiledUpstream } from './router.js';
import type { CompiledRouteRule } from './route-match.js';
import type { ControllerTraffic } from '../../cluster/ingress/types.js';

export type Scheme = 'http' | 'https';

export class BodyTooLargeError extends Error {}

/** client_max_body_size for bodies without Content-Length: counted as they stream. */
export class BodyLimit extends Transform {
  #left: number;

  constructor(limit: number) {
    super();
    this.#left = limit;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#left -= chunk.length;
    if (this.#left < 0) callback(new BodyTooLargeError('request body larger than proxy-body-size'));
    else callback(null, chunk);
  }
}

export function ignore(): void {
  // The other side has already been destroyed; there is nobody left to tell.
}

export function isTimeout(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'ETIMEDOUT';
}

/** $remote_addr: the peer as the pod sees it (a handed-over flow carries it, see local-endpoints.ts). */
export function clientIp(req: IncomingMessage): string {
  const address = seenRemoteAddress(req.socket);
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** One request's state; the handlers below are methods, not per-request closures. */
export class Exchange {
  readonly req: IncomingMessage;
  readonly scheme: Scheme;
  readonly port: string;
  server!: CompiledServer;
  location: CompiledLocation | undefined;
  upstream: CompiledUpstream | undefined;
  /** The Gateway API rule that matched (its filters apply); undefined for Ingress locations. */
  rule: CompiledRouteRule | undefined;
  /** Routed by a Gateway API table: the proxy answers and relays as Envoy does. */
  gateway = false;
  /** The controller ConfigMap's per-request settings (forwarded.ts); undefined: ingress-nginx's defaults. */
  traffic: ControllerTraffic | undefined;
  host = '';
  url = '';
  query = '';
  decoded = false;
  target = '';
  status = 0;
  redirect: string | undefined;
  closeAfter = false;
  /** X-Code for a custom default backend (`default-backend` annotation). */
  errorCode = 0;
  /** custom-http-errors took over: `/` is requested from the error backend. */
  intercepted = false;
  setCookie: string | undefined;
  requestId = '';
  /** The upstream request, fixed before the first try; retries reuse it. */
  upstreamRequest: Dispatcher.DispatchOptions | undefined;
  /** Index into upstream.endpoints of the current try. */
  endpoint = 0;
  attempt = 0;
  tries = 1;
  /** The request's trace while it runs, when the pod observes its requests (observe/http.ts); cleared when the trace is sealed. */
  observed: HttpTrace | undefined = undefined;

  constructor(req: IncomingMessage, scheme: Scheme, port: string) {
    this.req = req;
    this.scheme = scheme;
    this.port = port;
  }
}

/** What the proxy decides when the upstream answers or fails. */
export interface UpstreamOutcome {
  /**
   * The response head has arrived: true to relay it (after writing the client's head),
   * false when the proxy answers otherwise (custom-http-errors).
   */
  responseStart(ex: Exchange, res: ServerResponse, statusCode: number, headers: ResponseHeaders): boolean;
  /** After responseStart() said false: the upstream request has been aborted, the proxy answers. */
  responseDropped(ex: Exchange, res: ServerResponse, statusCode: number): void;
  /** No response head: connect error, timeout, reset, or a request body over the limit. */
  responseFailed(ex: Exchange, res: ServerResponse, error: Error): void;
}

const CALL = Symbol('aks-emu.upstream-call');
type CallResponse = ServerResponse & { [CALL]?: UpstreamCall };

/** The client's response drained: let undici read on. */
function onResponseDrain(this: CallResponse): void {
  this[CALL]?.resume();
}

/** The client went away first: abort the upstream request (undici then frees the connection). */
function onResponseClose(this: CallResponse): void {
  this[CALL]?.abandon();
}

/**
 * One try of one request upstream, as an undici dispatch handler (its Buffer-header
 * interface, which skips the adapter undici wraps around the newer one).
 */
export class UpstreamCall implements Dispatcher.DispatchHandler {
  /** Set by the connection pool: frees the upstream connection, called once when the call ends. */
  release: (() => void) | undefined;
  #abort: ((err?: Error) => void) | undefined;
  #resume: (() => void) | undefined;
  #started = false;
  #relaying = false;
  #done = false;
  readonly #try: UpstreamTry | undefined;

  constructor(
    readonly ex: Exchange,
    readonly res: ServerResponse,
    readonly outcome: UpstreamOutcome,
  ) {
    const r = res as CallResponse;
    if (r[CALL] === undefined) {
      res.on('drain', onResponseDrain);
      res.on('close', onResponseClose);
    }
    r[CALL] = this;
    this.#try = ex.observed?.tryStarted(ex.upstream?.endpoints[ex.endpoint]);
  }

  resume(): void {
    this.#resume?.();
  }

  abandon(): void {
    if (!this.#done) this.#abort?.(new Error('the client closed the connection'));
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#abort = abort;
    if (this.res.destroyed) abort(new Error('the client closed the connection'));
  }

  /** undici's form (HTTPS upstreams, requests with a body). */
  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    // 1xx interim responses are not relayed (nginx passes on only 101, handled as an upgrade).
    if (statusCode < 200) return true;
    return this.onResponseHead(statusCode, util.parseHeaders(rawHeaders) as ResponseHeaders, resume);
  }

  /** The lean client's form (upstream-h1.ts): the head already parsed. */
  onResponseHead(statusCode: number, headers: ResponseHeaders, resume: () => void): boolean {
    this.#started = true;
    this.#try?.headers(statusCode);
    this.#resume = resume;
    this.#relaying = this.outcome.responseStart(this.ex, this.res, statusCode, headers);
    if (this.#relaying) return true;
    this.#done = true;
    this.#abort?.(new Error('the response is replaced'));
    this.outcome.responseDropped(this.ex, this.res, statusCode);
    return false;
  }

  onData(chunk: Buffer): boolean {
    this.#try?.recv(chunk.length, this.#relaying);
    return this.#relaying ? this.res.write(chunk) : true;
  }

  #released(): void {
    const release = this.release;
    this.release = undefined;
    release?.();
  }

  onComplete(): void {
    this.#try?.done();
    this.#released();
    if (this.#done) return;
    this.#done = true;
    this.res.end();
  }

  onError(err: Error): void {
    this.#try?.done(isTimeout(err) ? 504 : 502);
    this.#released();
    if (this.#done) return;
    this.#done = true;
    // Failing mid-body, the client's response cannot be completed.
    if (this.#started) this.res.destroy();
    else this.outcome.responseFailed(this.ex, this.res, err);
  }
}
