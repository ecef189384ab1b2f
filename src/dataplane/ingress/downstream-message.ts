/**
 * The request and response of the lean downstream server (downstream-h1.ts): the part of
 * Node's IncomingMessage and ServerResponse that the proxy, the observer and the fault hooks
 * use, with the same meaning (headers as Node combines them, `headersSent`, `statusCode`,
 * `'close'` once when the response is done or its connection is gone, `'drain'`).
 *
 * The response head is what Node's ServerResponse writes for the same call (the caller's
 * fields, then Date, Connection, Keep-Alive, and Transfer-Encoding: chunked when the length
 * is not known), and it goes out in one write with the body when the body is small and
 * complete in the same tick, which is how the proxy relays most answers.
 */
import { EventEmitter } from 'node:events';
import { STATUS_CODES, type OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { RequestHead } from './downstream-request.js';

/** The connection side a response writes to. */
export interface ResponseSink {
  readonly output: Socket;
  /** `Keep-Alive: timeout=N\r\n`, as Node's server sends it. */
  readonly keepAliveHeader: string;
  responseEnded(response: LeanResponse): void;
  bodyRead(): void;
}

/** A request without a body: the fields the proxy reads, no stream (nothing reads a body that is not there). */
export class LeanHead {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly headers: Record<string, string | string[]>;
  readonly rawHeaders: string[];
  readonly socket: Socket;
  readonly complete = true;

  constructor(socket: Socket, head: RequestHead) {
    this.socket = socket;
    this.method = head.method;
    this.url = head.url;
    this.httpVersion = head.httpVersion;
    this.headers = head.headers;
    this.rawHeaders = head.rawHeaders;
  }
}

/** A request with a body: the body is the stream, fed as it is read from the socket. */
export class LeanRequest extends Readable {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly headers: Record<string, string | string[]>;
  readonly rawHeaders: string[];
  readonly socket: Socket;
  complete = false;
  #sink: ResponseSink | undefined;

  constructor(socket: Socket, head: RequestHead, sink: ResponseSink) {
    super();
    this.socket = socket;
    this.method = head.method;
    this.url = head.url;
    this.httpVersion = head.httpVersion;
    this.headers = head.headers;
    this.rawHeaders = head.rawHeaders;
    this.#sink = sink;
    // The body's reader (the upstream request) listens while it reads and may stop before the
    // client's abort is emitted; with nobody reading, the abort concerns nobody.
    this.on('error', bodyAbortedUnread);
  }

  override _read(): void {
    this.#sink?.bodyRead();
  }

  /** The whole body has been pushed. */
  finish(): void {
    this.complete = true;
    this.#sink = undefined;
    this.push(null);
  }

  /** The body cannot be completed (the client went away, or sent a malformed chunk). */
  fail(err: Error): void {
    this.#sink = undefined;
    this.destroy(err);
  }
}

function bodyAbortedUnread(): void {
  // See LeanRequest's constructor: the client's abort reaches whoever reads the body.
}

/** Node's cached Date header value, renewed once a second at most. */
let dateValue = '';
let dateUntil = 0;
function httpDate(): string {
  const now = Date.now();
  if (now >= dateUntil) {
    dateValue = new Date(now).toUTCString();
    dateUntil = now - (now % 1000) + 1000;
  }
  return dateValue;
}

/** A body up to this size goes out in the head's write; larger ones are written as they come. */
const COALESCE_BYTES = 16 * 1024;
const LAST_CHUNK = '0\r\n\r\n';
const CRLF = '\r\n';

function assertValue(name: string, value: string): void {
  // Node's ERR_INVALID_CHAR: a CR or LF in a value would split the response.
  if (value.includes('\n') || value.includes('\r')) throw new TypeError(`Invalid character in header content ["${name}"]`);
}

/** Told once when a response closes, before its 'close' is emitted: the observer's trace (observe/http.ts), one call instead of a listener. */
export interface CloseHook {
  responseClosed(): void;
}

export class LeanResponse extends EventEmitter {
  statusCode = 200;
  headersSent = false;
  destroyed = false;
  writableEnded = false;
  /** The head as written (Node's `_header`; the observer reads Content-Length from it). */
  _header: string | null = null;
  /** The connection stays open after this response. */
  keepAlive: boolean;
  readonly #sink: ResponseSink;
  readonly #head: RequestHead;
  #hasBody = true;
  #chunked = false;
  /** Head and body pieces not written yet (held to go out in one write). */
  #pending: (string | Buffer)[] = [];
  #pendingBytes = 0;
  #flushQueued = false;
  #closed = false;
  closeHook: CloseHook | undefined = undefined;

  constructor(sink: ResponseSink, head: RequestHead) {
    super();
    this.#sink = sink;
    this.#head = head;
    this.keepAlive = head.keepAlive;
  }

  get socket(): Socket {
    return this.#sink.output;
  }

  writeHead(status: number, headers?: OutgoingHttpHeaders): this {
    if (this.headersSent) throw new Error('Cannot write headers after they are sent to the client');
    this.statusCode = status;
    const method = this.#head.method;
    this.#hasBody = method !== 'HEAD' && status !== 204 && status !== 304 && !(status >= 100 && status < 200);
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    let length = false;
    let connection: string | undefined;
    let transferEncoding = false;
    if (headers !== undefined) {
      for (const name in headers) {
        const value = headers[name];
        if (value === undefined) continue;
        if (Array.isArray(value)) {
          for (const v of value) {
            assertValue(name, v);
            head += `${name}: ${v}\r\n`;
          }
          continue;
        }
        const text = typeof value === 'string' ? value : String(value);
        assertValue(name, text);
        head += `${name}: ${text}\r\n`;
        if (name.length === 14 && name.toLowerCase() === 'content-length') length = true;
        else if (name.length === 10 && name.toLowerCase() === 'connection') connection = text;
        else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') transferEncoding = true;
      }
    }
    head += `Date: ${httpDate()}\r\n`;
    if (connection !== undefined) {
      if (connection.toLowerCase().includes('close')) this.keepAlive = false;
    }
    // HTTP/1.0 has no chunked framing: a body of unknown length ends with the connection.
    if (this.#hasBody && !length && !transferEncoding) {
      if (this.#head.httpVersion === '1.1') this.#chunked = true;
      else this.keepAlive = false;
    }
    if (connection === undefined) head += this.keepAlive ? `Connection: keep-alive\r\n${this.#sink.keepAliveHeader}` : 'Connection: close\r\n';
    if (this.#chunked) head += 'Transfer-Encoding: chunked\r\n';
    head += CRLF;
    this._header = head;
    this.headersSent = true;
    this.#pending.push(head);
    this.#pendingBytes += head.length;
    return this;
  }

  /** Sends the head now (the fault hooks' throttle writes the body later). */
  flushHeaders(): void {
    if (!this.headersSent) this.writeHead(this.statusCode);
    this.#flush();
  }

  write(chunk: Buffer | string): boolean {
    if (this.writableEnded || this.destroyed) return false;
    if (!this.headersSent) this.writeHead(this.statusCode);
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (!this.#hasBody || data.length === 0) return true;
    this.#add(data);
    if (this.#pendingBytes <= COALESCE_BYTES) {
      if (!this.#flushQueued) {
        this.#flushQueued = true;
        process.nextTick(flushLater, this);
      }
      return true;
    }
    return this.#flush();
  }

  end(chunk?: Buffer | string): this {
    if (this.writableEnded || this.destroyed) return this;
    if (!this.headersSent) {
      // Node's end() without writeHead: the length is known.
      const length = chunk === undefined ? 0 : typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      this.writeHead(this.statusCode, { 'content-length': length });
    }
    if (chunk !== undefined && this.#hasBody) {
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (data.length > 0) this.#add(data);
    }
    if (this.#chunked) {
      this.#pending.push(LAST_CHUNK);
      this.#pendingBytes += LAST_CHUNK.length;
    }
    this.writableEnded = true;
    this.#flush();
    this.#close();
    this.#sink.responseEnded(this);
    return this;
  }

  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.#pending = [];
    this.#sink.output.destroy();
    this.#close();
    return this;
  }

  /** The connection closed under this response. */
  socketClosed(): void {
    if (!this.writableEnded) this.destroyed = true;
    this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const hook = this.closeHook;
    if (hook !== undefined) {
      this.closeHook = undefined;
      hook.responseClosed();
    }
    this.emit('close');
  }

  #add(data: Buffer): void {
    if (this.#chunked) {
      const size = `${data.length.toString(16)}\r\n`;
      this.#pending.push(size, data, CRLF);
      this.#pendingBytes += size.length + data.length + 2;
    } else {
      this.#pending.push(data);
      this.#pendingBytes += data.length;
    }
  }

  /** Writes what is held, in one write (one buffer) when it is small. */
  #flush(): boolean {
    const pending = this.#pending;
    if (pending.length === 0) return !this.#sink.output.writableNeedDrain;
    this.#pending = [];
    const bytes = this.#pendingBytes;
    this.#pendingBytes = 0;
    const socket = this.#sink.output;
    if (socket.destroyed) return false;
    if (pending.length === 1) {
      const only = pending[0] as string | Buffer;
      return typeof only === 'string' ? socket.write(only, 'latin1') : socket.write(only);
    }
    if (bytes <= COALESCE_BYTES) {
      const out = Buffer.allocUnsafe(bytes);
      let at = 0;
      for (const piece of pending) {
        if (typeof piece === 'string') at += out.write(piece, at, 'latin1');
        else {
          out.set(piece, at);
          at += piece.length;
        }
      }
      return socket.write(out);
    }
    socket.cork();
    let ok = true;
    for (const piece of pending) ok = typeof piece === 'string' ? socket.write(piece, 'latin1') : socket.write(piece);
    socket.uncork();
    return ok;
  }

  /** The tick is over and the response has not ended: what is held goes now. */
  flushQueued(): void {
    this.#flushQueued = false;
    if (!this.writableEnded && !this.destroyed) this.#flush();
  }
}

function flushLater(response: LeanResponse): void {
  response.flushQueued();
}
