/**
 * One request's state through the proxy and the small stream helpers the proxy uses.
 * Handlers are module functions bound through `this`, not per-request closures.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { CompiledLocation, CompiledServer, CompiledUpstream } from './router.js';

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

interface PipedBody extends Readable {
  downstream?: ServerResponse;
}

interface PipedResponse extends ServerResponse {
  upstreamBody?: Readable;
}

/** The upstream failed mid-body: the client's response cannot be completed. */
function onUpstreamBodyError(this: PipedBody): void {
  this.downstream?.destroy();
}

/** The client went away first: stop reading the upstream response. */
function onDownstreamClose(this: PipedResponse): void {
  const body = this.upstreamBody;
  if (body && !body.readableEnded) body.destroy();
}

/**
 * Streams an upstream body to the client. pipe() rather than pipeline(): pipeline makes an
 * AbortController (and on completion a DOMException) per call, which tops a profile under load.
 */
export function relayBody(body: Readable, res: ServerResponse): void {
  (body as PipedBody).downstream = res;
  (res as PipedResponse).upstreamBody = body;
  body.on('error', onUpstreamBodyError);
  res.on('close', onDownstreamClose);
  body.pipe(res);
}

/** Drops an upstream body nobody will read; undici reports the abort as an error event. */
export function discard(body: Readable): void {
  body.on('error', ignore);
  body.destroy();
}

export function isTimeout(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'ETIMEDOUT';
}

export function clientIp(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
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

  constructor(req: IncomingMessage, scheme: Scheme, port: string) {
    this.req = req;
    this.scheme = scheme;
    this.port = port;
  }
}
