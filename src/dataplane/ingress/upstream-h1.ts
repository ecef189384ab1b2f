/**
 * The lean upstream client: one plain-HTTP/1.1 connection to one endpoint, carrying one
 * request at a time (the pool, upstream-connections.ts, sends HTTPS upstreams' requests
 * through undici). A request body (a stream) follows the head with the client's
 * Content-Length, or chunked when it had none, with backpressure both ways.
 *
 * The request head is serialised here and written in one write; the response head is
 * parsed by upstream-response.ts; the body goes to the handler as views of the socket's
 * reads (Content-Length, chunked or until close), with backpressure (onData → false
 * pauses the socket, resume() reads on). The connection is reused only after a complete
 * response that allows it, and with nothing after the response's last byte.
 *
 * It drives the same dispatch-handler calls as undici (onConnect, onHeaders or
 * onResponseHead, onData, onComplete, onError) with the same error codes for timeouts
 * (UND_ERR_CONNECT_TIMEOUT, UND_ERR_HEADERS_TIMEOUT, UND_ERR_BODY_TIMEOUT), so the proxy's
 * proxy-next-upstream and 502/504 choices are unchanged.
 */
import { connect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import {
  ChunkedDecoder,
  headEnd,
  MAX_RESPONSE_HEAD_BYTES,
  parseResponseHead,
  UpstreamResponseError,
  type Framing,
  type ResponseHeaders,
} from './upstream-response.js';

/** A dispatch handler the pool frees its connection through; onResponseHead skips undici's raw header form. */
export interface ReleasingHandler extends Dispatcher.DispatchHandler {
  release: (() => void) | undefined;
  /** Instead of onHeaders, when present: the head already parsed (names lowercased). */
  onResponseHead?(statusCode: number, headers: ResponseHeaders, resume: () => void): boolean;
}

export class UpstreamTimeoutError extends Error {
  constructor(
    message: string,
    readonly code: 'UND_ERR_CONNECT_TIMEOUT' | 'UND_ERR_HEADERS_TIMEOUT' | 'UND_ERR_BODY_TIMEOUT',
  ) {
    super(message);
  }
}

/** The upstream closed or reset the connection before the response was complete. */
export class UpstreamClosedError extends Error {
  readonly code = 'UND_ERR_SOCKET';
}

/** RFC 9110 token (header names) and field-value characters, as undici checks them before sending. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const BAD_PATH = /[^\u0021-\u00ff]/;

/** nginx resends these only with `non_idempotent` in proxy_next_upstream (ingress-nginx's default has not). */
const NON_IDEMPOTENT = new Set(['POST', 'LOCK', 'PATCH']);

/** Methods whose requests carry a payload: undici sends `content-length: 0` for them without a body. */
const EXPECTS_PAYLOAD = new Set(['PUT', 'POST', 'PATCH', 'QUERY', 'PROPFIND', 'PROPPATCH']);

function invalid(message: string): Error {
  return Object.assign(new Error(message), { code: 'UND_ERR_INVALID_ARG' });
}

/**
 * The request head as undici writes it (request line, host, `connection: keep-alive`, the
 * headers in order, `content-length: 0` for a body-less POST/PUT/PATCH); throws on what
 * undici refuses to send.
 */
export function serializeRequestHead(options: Dispatcher.DispatchOptions, defaultHost: string, body: BodyFraming = 'none'): string {
  const method = options.method;
  const path = options.path;
  if (path[0] !== '/' || BAD_PATH.test(path)) throw invalid('invalid request path');
  const headers = (options.headers ?? {}) as Record<string, string | string[] | undefined>;
  let host = defaultHost;
  let rest = '';
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const key = name.toLowerCase();
    if (!TOKEN.test(name)) throw invalid('invalid header key');
    if (key === 'host') {
      if (typeof value !== 'string' || BAD_VALUE.test(value)) throw invalid('invalid host header');
      host = value;
      continue;
    }
    // Framing and connection headers are this client's to write: a body's Content-Length
    // goes as it came, an empty body's is replaced as undici replaces it.
    if (key === 'content-length') {
      if (body !== 'length') continue;
      if (typeof value !== 'string' || !/^[0-9]+$/.test(value)) throw invalid('invalid content-length header');
      rest += `content-length: ${value}\r\n`;
      continue;
    }
    if (key === 'connection') continue;
    if (key === 'keep-alive' || key === 'upgrade' || key === 'transfer-encoding' || key === 'expect') throw invalid(`invalid ${key} header`);
    if (typeof value === 'string') {
      if (BAD_VALUE.test(value)) throw invalid(`invalid ${name} header`);
      rest += `${name}: ${value}\r\n`;
    } else {
      for (const v of value) {
        if (BAD_VALUE.test(v)) throw invalid(`invalid ${name} header`);
        rest += `${name}: ${v}\r\n`;
      }
    }
  }
  let head = `${method} ${path} HTTP/1.1\r\n`;
  head += `host: ${host}\r\n`;
  head += 'connection: keep-alive\r\n';
  head += rest;
  if (body === 'chunked') head += 'transfer-encoding: chunked\r\n';
  else if (body === 'none' && EXPECTS_PAYLOAD.has(method)) head += 'content-length: 0\r\n';
  return head + '\r\n';
}

/** How a request body is framed: none, the client's Content-Length, or chunked (a body without one). */
export type BodyFraming = 'none' | 'length' | 'chunked';

/** A request body the lean client can send: a stream (the client's request, or proxy-body-size's counter). */
export function isBodyStream(body: unknown): body is Readable {
  return typeof (body as Readable | null)?.pipe === 'function' && typeof (body as Readable).on === 'function';
}

export interface H1ConnectionOptions {
  readonly host: string;
  readonly port: number;
  /** Host header when the request has none: the endpoint's address, as undici sends. */
  readonly hostHeader: string;
  readonly localAddress?: string;
  readonly connectTimeoutMs: number;
  /** How long an idle connection is kept (upstream-keepalive-timeout). */
  readonly idleTimeoutMs: number;
  /** Requests after which the connection is not reused (upstream-keepalive-requests). */
  readonly maxRequests: number;
}

const enum Phase {
  Connecting,
  Idle,
  Head,
  Body,
  Closed,
}

/**
 * One connection. `onGone` tells the pool the connection can no longer be used (closed,
 * failed, or not reusable); it is called before the handler's onComplete/onError, so the
 * pool never hands a dead connection to the next request.
 */
export class H1Connection {
  readonly #socket: Socket;
  readonly #options: H1ConnectionOptions;
  #phase = Phase.Connecting;
  #connectTimer: NodeJS.Timeout | undefined;
  #handler: ReleasingHandler | undefined;
  #method = 'GET';
  #head: Buffer | undefined;
  #framing: Framing = 'none';
  #left = 0;
  #chunked: ChunkedDecoder | undefined;
  #keepAlive = false;
  #served = 0;
  /** Response bytes seen for the current request: a reused connection failing at 0 may be retried. */
  #received = 0;
  #timeoutMs = 0;
  #paused = false;
  readonly #onGone: (conn: H1Connection, retry: ReleasingHandler | undefined, options: Dispatcher.DispatchOptions | undefined) => void;
  #request: Dispatcher.DispatchOptions | undefined;
  /** The request body still being sent. */
  #body: Readable | undefined;
  #bodyChunked = false;

  constructor(
    options: H1ConnectionOptions,
    onGone: (conn: H1Connection, retry: ReleasingHandler | undefined, options: Dispatcher.DispatchOptions | undefined) => void,
  ) {
    this.#options = options;
    this.#onGone = onGone;
    const socket = connect({ host: options.host, port: options.port, localAddress: options.localAddress, noDelay: true });
    this.#socket = socket;
    this.#connectTimer = setTimeout(this.#connectTimedOut, options.connectTimeoutMs);
    socket.on('connect', this.#onConnect);
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    socket.on('timeout', this.#onTimeout);
    socket.on('drain', this.#onDrain);
  }

  get connected(): boolean {
    return this.#phase !== Phase.Connecting && this.#phase !== Phase.Closed;
  }

  get closed(): boolean {
    return this.#phase === Phase.Closed;
  }

  /** Sends one request; the connection must be free (connecting or idle). */
  run(options: Dispatcher.DispatchOptions, handler: ReleasingHandler): void {
    this.#handler = handler;
    this.#request = options;
    this.#method = options.method;
    this.#received = 0;
    const body = isBodyStream(options.body) ? options.body : undefined;
    const framing: BodyFraming =
      body === undefined ? 'none' : (options.headers as Record<string, unknown> | undefined)?.['content-length'] !== undefined ? 'length' : 'chunked';
    let head: string;
    try {
      head = serializeRequestHead(options, this.#options.hostHeader, framing);
    } catch (err) {
      this.#handler = undefined;
      this.#request = undefined;
      // Nothing was sent: the connection stays usable.
      handler.onError?.(err as Error);
      return;
    }
    handler.onConnect?.(this.#abort);
    if (this.#handler !== handler) return;
    if (this.#phase === Phase.Idle) {
      this.#phase = Phase.Head;
      this.#socket.ref();
    }
    this.#setTimeout(options.headersTimeout ?? 300_000);
    this.#socket.write(head, 'latin1');
    if (body !== undefined) this.#sendBody(body, framing === 'chunked');
  }

  #sendBody(body: Readable, chunked: boolean): void {
    this.#body = body;
    this.#bodyChunked = chunked;
    body.on('data', this.#onBodyData);
    body.on('end', this.#onBodyEnd);
    body.on('error', this.#onBodyError);
  }

  /**
   * Stops sending the body (sent, failed, or the response came first). What is left of it
   * is read and dropped, as nginx discards a request body it no longer needs, so the
   * client's connection is not left stalled behind it.
   */
  #detachBody(): void {
    const body = this.#body;
    if (!body) return;
    this.#body = undefined;
    body.off('data', this.#onBodyData);
    body.off('end', this.#onBodyEnd);
    body.off('error', this.#onBodyError);
    body.resume();
  }

  readonly #onBodyData = (chunk: Buffer): void => {
    if (chunk.length === 0) return;
    const socket = this.#socket;
    let ok: boolean;
    if (this.#bodyChunked) {
      socket.cork();
      socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      socket.write(chunk);
      ok = socket.write('\r\n', 'latin1');
      socket.uncork();
    } else {
      ok = socket.write(chunk);
    }
    if (!ok) this.#body?.pause();
  };

  readonly #onDrain = (): void => {
    this.#body?.resume();
  };

  readonly #onBodyEnd = (): void => {
    if (this.#bodyChunked) this.#socket.write('0\r\n\r\n', 'latin1');
    this.#detachBody();
  };

  readonly #onBodyError = (err: Error): void => {
    this.#fail(err);
  };

  close(): void {
    this.#fail(new UpstreamClosedError('the connection was closed by the proxy'));
  }

  readonly #resume = (): void => {
    if (this.#paused) {
      this.#paused = false;
      this.#socket.resume();
    }
  };

  readonly #abort = (err?: Error): void => {
    const handler = this.#handler;
    if (!handler) return;
    this.#handler = undefined;
    this.#detachBody();
    this.#gone(undefined);
    this.#socket.destroy();
    handler.onError?.(err ?? new Error('request aborted'));
  };

  readonly #connectTimedOut = (): void => {
    this.#connectTimer = undefined;
    const { host, port, connectTimeoutMs } = this.#options;
    this.#fail(new UpstreamTimeoutError(`connect timeout (${host}:${port}, ${connectTimeoutMs} ms)`, 'UND_ERR_CONNECT_TIMEOUT'));
  };

  readonly #onConnect = (): void => {
    clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    this.#phase = this.#handler ? Phase.Head : Phase.Idle;
    if (!this.#handler) {
      this.#setTimeout(this.#options.idleTimeoutMs);
      this.#socket.unref();
    }
  };

  readonly #onTimeout = (): void => {
    // While connecting, the connect timer decides.
    if (this.#phase === Phase.Connecting) return;
    if (this.#phase === Phase.Head) this.#fail(new UpstreamTimeoutError('headers timeout', 'UND_ERR_HEADERS_TIMEOUT'));
    else if (this.#phase === Phase.Body) this.#fail(new UpstreamTimeoutError('body timeout', 'UND_ERR_BODY_TIMEOUT'));
    else this.close();
  };

  readonly #onError = (err: Error): void => {
    this.#fail(err);
  };

  readonly #onEnd = (): void => {
    if (this.#phase === Phase.Body && this.#framing === 'close') return this.#complete(false);
    this.#fail(new UpstreamClosedError('the upstream closed the connection'));
  };

  readonly #onClose = (): void => {
    this.#fail(new UpstreamClosedError('the upstream closed the connection'));
  };

  #setTimeout(ms: number): void {
    if (ms === this.#timeoutMs) return;
    this.#timeoutMs = ms;
    this.#socket.setTimeout(ms);
  }

  /** The connection is of no further use; a request in flight fails (or is retried once on a new one). */
  #fail(err: Error): void {
    if (this.#phase === Phase.Closed) return;
    clearTimeout(this.#connectTimer);
    const handler = this.#handler;
    const options = this.#request;
    this.#handler = undefined;
    this.#request = undefined;
    this.#detachBody();
    // nginx retries a request that failed on a cached keep-alive connection before any
    // response byte without counting a try (ngx_http_upstream_next: peer.cached): the
    // upstream closed the idle connection as the request went out.
    // A POST, LOCK or PATCH already sent is not resent (NGX_HTTP_UPSTREAM_FT_NON_IDEMPOTENT).
    const retry =
      handler !== undefined &&
      options !== undefined &&
      this.#served > 0 &&
      this.#received === 0 &&
      this.#phase === Phase.Head &&
      options.body == null &&
      !(err instanceof UpstreamTimeoutError) &&
      !NON_IDEMPOTENT.has(options.method)
        ? handler
        : undefined;
    this.#gone(retry, options);
    this.#socket.destroy();
    if (handler && !retry) handler.onError?.(err);
  }

  #gone(retry?: ReleasingHandler, options?: Dispatcher.DispatchOptions): void {
    if (this.#phase === Phase.Closed) return;
    this.#phase = Phase.Closed;
    this.#onGone(this, retry, options);
  }

  readonly #onData = (buf: Buffer): void => {
    const handler = this.#handler;
    if (!handler || (this.#phase !== Phase.Head && this.#phase !== Phase.Body)) {
      // Bytes from an idle upstream: nothing to relay them to, the connection is out of step.
      return this.close();
    }
    this.#received += buf.length;
    let at = 0;
    try {
      while (at < buf.length && this.#handler === handler) {
        at = this.#phase === Phase.Head ? this.#readHead(buf, at, handler) : this.#readBody(buf, at, handler);
        if (this.closed) return;
      }
    } catch (err) {
      if (err instanceof UpstreamResponseError) return this.#fail(err);
      throw err;
    }
  };

  /** Returns where the unread bytes start. */
  #readHead(buf: Buffer, at: number, handler: ReleasingHandler): number {
    let data = buf;
    let from = at;
    const pending = this.#head;
    if (pending !== undefined) {
      data = Buffer.concat([pending, buf.subarray(at)]);
      from = 0;
    }
    const end = headEnd(data, Math.max(from, pending ? pending.length - 3 : from), data.length);
    if (end < 0) {
      if (data.length - from > MAX_RESPONSE_HEAD_BYTES) throw new UpstreamResponseError('upstream sent too big header');
      this.#head = pending !== undefined ? data : Buffer.from(data.subarray(from));
      return buf.length;
    }
    if (end - from > MAX_RESPONSE_HEAD_BYTES) throw new UpstreamResponseError('upstream sent too big header');
    this.#head = undefined;
    const head = parseResponseHead(data.toString('latin1', from, end), this.#method);
    const consumed = pending !== undefined ? end - pending.length + at : end;
    if (head.status < 200) {
      // 1xx interim responses are not relayed (nginx passes on only 101, for upgrades it asked for).
      if (head.status === 101) throw new UpstreamResponseError('upstream switched protocols unasked (101)');
      return consumed;
    }
    this.#framing = head.framing;
    this.#left = head.length;
    this.#keepAlive = head.keepAlive;
    this.#chunked = head.framing === 'chunked' ? new ChunkedDecoder() : undefined;
    this.#phase = Phase.Body;
    this.#setTimeout(this.#request?.bodyTimeout ?? 300_000);
    const relay = handler.onResponseHead
      ? handler.onResponseHead(head.status, head.headers, this.#resume)
      : handler.onHeaders?.(head.status, rawHeaders(head.headers), this.#resume, '');
    if (this.#handler !== handler) return buf.length;
    if (relay === false) {
      this.#abort(new Error('the response is not relayed'));
      return buf.length;
    }
    if (head.framing === 'none' || (head.framing === 'length' && head.length === 0)) {
      this.#complete(consumed === buf.length);
      return buf.length;
    }
    return consumed;
  }

  #readBody(buf: Buffer, at: number, handler: ReleasingHandler): number {
    if (this.#framing === 'close') {
      this.#deliver(handler, at === 0 ? buf : buf.subarray(at));
      return buf.length;
    }
    if (this.#framing === 'length') {
      const n = Math.min(this.#left, buf.length - at);
      this.#left -= n;
      this.#deliver(handler, at === 0 && n === buf.length ? buf : buf.subarray(at, at + n));
      if (this.#left === 0 && this.#handler === handler) this.#complete(at + n === buf.length);
      return buf.length;
    }
    const decoder = this.#chunked!;
    const stop = decoder.feed(buf, at, buf.length, (piece) => this.#deliver(handler, piece));
    if (decoder.done && this.#handler === handler) this.#complete(stop === buf.length);
    return buf.length;
  }

  #deliver(handler: ReleasingHandler, piece: Buffer): void {
    if (piece.length === 0) return;
    if (handler.onData?.(piece) === false && !this.#paused && this.#handler === handler) {
      this.#paused = true;
      this.#socket.pause();
    }
  }

  /** The response is complete; `clean`: nothing came after its last byte. */
  #complete(clean: boolean): void {
    const handler = this.#handler;
    this.#handler = undefined;
    this.#request = undefined;
    this.#served++;
    this.#resume();
    // A body not wholly sent (the upstream answered first) leaves the connection out of step.
    const unsent = this.#body !== undefined;
    this.#detachBody();
    const reusable = clean && !unsent && this.#keepAlive && this.#served < this.#options.maxRequests;
    if (reusable) {
      this.#phase = Phase.Idle;
      this.#setTimeout(this.#options.idleTimeoutMs);
      // An idle pooled connection does not keep the process alive (undici's do not either).
      this.#socket.unref();
    } else {
      this.#gone();
      this.#socket.destroy();
    }
    handler?.onComplete?.([]);
  }
}

function rawHeaders(headers: ResponseHeaders): Buffer[] {
  const raw: Buffer[] = [];
  for (const name in headers) {
    const value = headers[name]!;
    for (const v of typeof value === 'string' ? [value] : value) raw.push(Buffer.from(name, 'latin1'), Buffer.from(v, 'latin1'));
  }
  return raw;
}
