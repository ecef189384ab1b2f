/**
 * A lean HTTP/1.x server connection for the echo pod: request heads, Content-Length and
 * chunked bodies (counted, not kept), pipelining, keep-alive as RFC 9112 §9.3 sets it,
 * `Expect: 100-continue`. Node's http.Server costs about 4.5 KB more per idle connection
 * (a native llhttp parser per socket plus IncomingMessage machinery); the echo pod runs
 * inside aks-emu, so that cost would be charged to every flow the data plane holds.
 *
 * State lives on one object per connection and the socket handlers are module functions.
 */
import type { Socket } from 'node:net';

/** One complete request, handed to the responder once its body has been read. */
export interface Http1Request {
  readonly method: string;
  /** The request-target as sent (origin-form, absolute-form, ...). */
  readonly target: string;
  /** `1.0` or `1.1`. */
  readonly version: string;
  /** Names as sent, values without surrounding whitespace, in order (like Node's rawHeaders). */
  readonly rawHeaders: readonly string[];
  readonly bodyLength: number;
  /** The connection stays open after this response. */
  readonly keepAlive: boolean;
}

/** Writes the whole response for a request (HEAD: the head only). */
export type Http1Responder = (socket: Socket, request: Http1Request) => void;

/** Node's --max-http-header-size default: the request line and headers together. */
const MAX_HEAD_BYTES = 16 * 1024;
/** A chunk-size line with extensions; anything longer is not a client we serve. */
const MAX_CHUNK_LINE = 1024;

const enum Phase {
  Head,
  Body,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailers,
  Closed,
}

const CONNECTION = Symbol('aks-emu.http1');
type Http1Socket = Socket & { [CONNECTION]?: Http1Connection };

class BadRequest extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

function errorReply(status: number, reason: string): string {
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`;
}

/** Does the comma-separated header value contain `token` (case-insensitive)? */
function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  for (const part of value.split(',')) if (part.trim().toLowerCase() === token) return true;
  return false;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/1\.([01])$/;

class Http1Connection {
  phase = Phase.Head;
  /** Bytes of an unfinished head, chunk-size line or trailer section. */
  pending: Buffer | undefined;
  /** Body bytes (or chunk bytes) still to come. */
  remaining = 0;
  head: Omit<Http1Request, 'bodyLength'> | undefined;
  bodyLength = 0;

  constructor(
    readonly socket: Socket,
    readonly respond: Http1Responder,
  ) {}

  feed(chunk: Buffer): void {
    let data = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    try {
      while (data.length > 0 && this.phase !== Phase.Closed) data = this.step(data);
    } catch (err) {
      if (!(err instanceof BadRequest)) throw err;
      this.phase = Phase.Closed;
      this.socket.end(errorReply(err.status, err.reason));
    }
  }

  /** Consumes what it can of `data`; returns the rest (empty when it needs more bytes). */
  private step(data: Buffer): Buffer {
    switch (this.phase) {
      case Phase.Head:
        return this.readHead(data);
      case Phase.Body:
      case Phase.ChunkData: {
        const n = Math.min(this.remaining, data.length);
        this.bodyLength += n;
        this.remaining -= n;
        if (this.remaining > 0) return data.subarray(n);
        if (this.phase === Phase.Body) this.complete();
        else this.phase = Phase.ChunkEnd;
        return data.subarray(n);
      }
      case Phase.ChunkSize:
        return this.readChunkSize(data);
      case Phase.ChunkEnd:
        return this.readLineEnd(data);
      case Phase.Trailers:
        return this.readTrailers(data);
      case Phase.Closed:
        return data.subarray(data.length);
    }
  }

  private readHead(data: Buffer): Buffer {
    // Blank lines before a request line are ignored (RFC 9112 §2.2).
    let start = 0;
    while (start < data.length && (data[start] === 13 || data[start] === 10)) start++;
    const end = data.indexOf('\r\n\r\n', start, 'latin1');
    if (end < 0) {
      if (data.length - start > MAX_HEAD_BYTES) throw new BadRequest(431, 'Request Header Fields Too Large');
      this.pending = start < data.length ? data.subarray(start) : undefined;
      return data.subarray(data.length);
    }
    if (end - start > MAX_HEAD_BYTES) throw new BadRequest(431, 'Request Header Fields Too Large');
    const lines = data.toString('latin1', start, end).split('\r\n');
    const line = REQUEST_LINE.exec(lines[0] ?? '');
    if (line === null) throw new BadRequest(400, 'Bad Request');
    const rawHeaders: string[] = [];
    let contentLength: string | undefined;
    let transferEncoding: string | undefined;
    let connection: string | undefined;
    let expect: string | undefined;
    for (let i = 1; i < lines.length; i++) {
      const text = lines[i] as string;
      const colon = text.indexOf(':');
      const name = colon > 0 ? text.slice(0, colon) : '';
      // No obsolete line folding, no space before the colon (RFC 9112 §5).
      if (!TOKEN.test(name)) throw new BadRequest(400, 'Bad Request');
      const value = text.slice(colon + 1).trim();
      rawHeaders.push(name, value);
      switch (name.toLowerCase()) {
        case 'content-length':
          if (contentLength !== undefined && contentLength !== value) throw new BadRequest(400, 'Bad Request');
          contentLength = value;
          break;
        case 'transfer-encoding':
          transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
          break;
        case 'connection':
          connection = connection === undefined ? value : `${connection}, ${value}`;
          break;
        case 'expect':
          expect = value;
          break;
      }
    }
    const version = line[3] === '1' ? '1.1' : '1.0';
    const keepAlive = version === '1.1' ? !hasToken(connection, 'close') : hasToken(connection, 'keep-alive');
    this.head = { method: line[1] as string, target: line[2] as string, version, rawHeaders, keepAlive };
    this.bodyLength = 0;
    if (expect !== undefined && version === '1.1' && expect.toLowerCase() === '100-continue') this.socket.write(CONTINUE);
    if (transferEncoding !== undefined) {
      // Transfer-Encoding overrides Content-Length (RFC 9112 §6.3); only chunked is understood.
      const codings = transferEncoding.split(',');
      if ((codings[codings.length - 1] ?? '').trim().toLowerCase() !== 'chunked') throw new BadRequest(501, 'Not Implemented');
      this.phase = Phase.ChunkSize;
    } else if (contentLength !== undefined) {
      if (!/^\d{1,15}$/.test(contentLength)) throw new BadRequest(400, 'Bad Request');
      this.remaining = Number(contentLength);
      if (this.remaining === 0) this.complete();
      else this.phase = Phase.Body;
    } else {
      this.complete();
    }
    return data.subarray(end + 4);
  }

  private readChunkSize(data: Buffer): Buffer {
    const eol = data.indexOf('\r\n', 0, 'latin1');
    if (eol < 0) {
      if (data.length > MAX_CHUNK_LINE) throw new BadRequest(400, 'Bad Request');
      this.pending = data;
      return data.subarray(data.length);
    }
    const line = data.toString('latin1', 0, eol);
    const semi = line.indexOf(';');
    const hex = (semi < 0 ? line : line.slice(0, semi)).trim();
    if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new BadRequest(400, 'Bad Request');
    this.remaining = parseInt(hex, 16);
    this.phase = this.remaining === 0 ? Phase.Trailers : Phase.ChunkData;
    return data.subarray(eol + 2);
  }

  private readLineEnd(data: Buffer): Buffer {
    if (data.length < 2) {
      this.pending = data;
      return data.subarray(data.length);
    }
    if (data[0] !== 13 || data[1] !== 10) throw new BadRequest(400, 'Bad Request');
    this.phase = Phase.ChunkSize;
    return data.subarray(2);
  }

  /** Trailer fields after the last chunk are read and dropped, up to the empty line. */
  private readTrailers(data: Buffer): Buffer {
    if (data.length >= 2 && data[0] === 13 && data[1] === 10) {
      this.complete();
      return data.subarray(2);
    }
    const end = data.indexOf('\r\n\r\n', 0, 'latin1');
    if (end < 0) {
      if (data.length > MAX_HEAD_BYTES) throw new BadRequest(431, 'Request Header Fields Too Large');
      this.pending = data;
      return data.subarray(data.length);
    }
    this.complete();
    return data.subarray(end + 4);
  }

  private complete(): void {
    const head = this.head;
    if (head === undefined) return;
    this.head = undefined;
    this.phase = head.keepAlive ? Phase.Head : Phase.Closed;
    this.respond(this.socket, { ...head, bodyLength: this.bodyLength });
    if (!head.keepAlive) this.socket.end();
  }
}

function onData(this: Http1Socket, chunk: Buffer): void {
  this[CONNECTION]?.feed(chunk);
}

/** The client is done sending: every complete request has been answered, so end ours too. */
function onEnd(this: Http1Socket): void {
  const connection = this[CONNECTION];
  if (connection) connection.phase = Phase.Closed;
  if (!this.writableEnded) this.end();
}

function onDrain(this: Http1Socket): void {
  this.resume();
}

/**
 * Serves HTTP/1.x on `socket` from now on; `first` holds bytes already read from it. A
 * client that stops reading its responses stops being read (backpressure).
 */
export function serveHttp1(socket: Socket, respond: Http1Responder, first?: Buffer): void {
  const s = socket as Http1Socket;
  const connection = new Http1Connection(socket, respond);
  s[CONNECTION] = connection;
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('drain', onDrain);
  if (first !== undefined && first.length > 0) connection.feed(first);
}

/** After a response, pause reading while the socket's buffer is over its high-water mark. */
export function writeResponse(socket: Socket, head: string, body?: Buffer | string): void {
  if (body === undefined || body.length === 0) {
    if (!socket.write(head, 'latin1')) socket.pause();
    return;
  }
  socket.cork();
  socket.write(head, 'latin1');
  const flowing = typeof body === 'string' ? socket.write(body, 'utf8') : socket.write(body);
  socket.uncork();
  if (!flowing) socket.pause();
}
