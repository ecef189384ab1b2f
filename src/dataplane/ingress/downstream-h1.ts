/**
 * The lean client-facing HTTP/1.1 server of the ingress controller's plain-HTTP listeners:
 * request heads parsed here over the `net.Socket` (one string per head, the header fields
 * the proxy reads), one request of a connection at a time in order (pipelining as nginx
 * serves it), bodies (Content-Length or chunked) streamed to the proxy, and response heads
 * written in one socket write together with a small body.
 *
 * It refuses what nginx's request parser refuses and what could let a request be smuggled
 * behind another (downstream-request.ts). What it does not serve itself, a WebSocket or other
 * upgrade, CONNECT, an HTTP/2 preface, goes to the listener's `http.Server` at a request
 * boundary, with the bytes already read put back: that path keeps every behaviour it had.
 *
 * The request and response objects (downstream-message.ts) have the part of Node's
 * IncomingMessage and ServerResponse that the proxy uses, so the proxy is the same for both
 * servers.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { listenerGuard } from '../l4/listener-guard.js';
import { LeanHead, LeanRequest, LeanResponse, type ResponseSink } from './downstream-message.js';
import { BadRequest, CONTROL, parseChunkSize, TOKEN, parseRequestHead, type RequestHead, MAX_HEAD_BYTES } from './downstream-request.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface LeanServerOptions {
  /** The request handler (the proxy's, not wrapped: this server runs one request at a time itself). */
  readonly handler: RequestHandler;
  /** keepalive_timeout for clients: an idle connection is closed after it. */
  readonly keepAliveMs: number;
  /** Names the listener in the listener guard's log. */
  readonly label: string;
  /** How long a request head may take to arrive whole (default: nginx's client_header_timeout). */
  readonly headerTimeoutMs?: number;
}

const enum Phase {
  Head,
  Body,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailers,
  /** Waiting for the response before reading the next request. */
  Waiting,
  Closed,
}

const CONNECTION = Symbol('aks-emu.downstream-h1');
type LeanSocket = Socket & { [CONNECTION]?: DownstreamConnection };

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const EMPTY = Buffer.alloc(0);
/** A chunk-size line with extensions; nginx allows no more than fits its buffer either. */
const MAX_CHUNK_LINE = 4096;
/** nginx's client_header_timeout (60 s; Node's headersTimeout is 60 s as well). */
const CLIENT_HEADER_TIMEOUT_MS = 60_000;

/** What Node's server answers to a request it cannot parse: the status line and Connection: close. */
function errorReply(err: BadRequest): string {
  return `HTTP/1.1 ${err.status} ${err.reason}\r\nConnection: close\r\n\r\n`;
}

class DownstreamConnection implements ResponseSink {
  phase = Phase.Head;
  /** Bytes read but not yet parsed (an unfinished head, or requests behind the current one). */
  buffered: Buffer = EMPTY;
  /** Body bytes of the current request (or chunk) still to come. */
  remaining = 0;
  /** The current request while its body is being read. */
  request: LeanRequest | undefined;
  response: LeanResponse | undefined;
  /** The current request's body is still being read (the response may have ended already). */
  reading = false;
  /** The parse loop is running: a response that ends inside it lets the loop go on. */
  parsing = false;
  /** The socket is paused because the request body's reader is not reading. */
  bodyPaused = false;
  /** When the first bytes of an unfinished head came (0: none pending). */
  headSince = 0;
  /** When the connection last read a request or ended a response (the idle sweep reads it). */
  lastActive = 0;
  /** The client has sent its FIN: what it sent before is answered, then the connection ends. */
  clientEnded = false;

  constructor(
    readonly socket: LeanSocket,
    readonly server: LeanServer,
  ) {}

  onData(chunk: Buffer): void {
    this.lastActive = Date.now();
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    this.run();
  }

  /** Parses and dispatches what is buffered, as far as the current state allows. */
  run(): void {
    if (this.parsing) return;
    this.parsing = true;
    try {
      while (this.buffered.length > 0 && this.step()) {
        /* step consumed something */
      }
      // Requests behind the one in flight wait in what one read brought; the socket is not read meanwhile.
      if (this.phase === Phase.Waiting && this.buffered.length > 0 && !this.socket.isPaused()) this.socket.pause();
      if (this.clientEnded && this.phase === Phase.Head && this.response === undefined) this.finishWithClient();
    } catch (err) {
      if (!(err instanceof BadRequest)) throw err;
      this.refuse(err);
    } finally {
      this.parsing = false;
    }
  }

  refuse(err: BadRequest): void {
    this.phase = Phase.Closed;
    this.buffered = EMPTY;
    const request = this.request;
    if (request !== undefined && this.reading) request.fail(new Error(`bad request body: ${err.reason}`));
    this.reading = false;
    const response = this.response;
    this.response = undefined;
    if (response !== undefined) {
      if (response.headersSent) {
        // A response is under way: the connection cannot carry an error reply any more.
        this.socket.destroy();
        return;
      }
      // The proxy's answer, still to come, is dropped; the client gets the 400 (Node's server does the same).
      response.socketClosed();
    }
    this.socket.end(errorReply(err), 'latin1');
  }

  /** One step of the state machine; false: nothing more can be done until more bytes or the response. */
  step(): boolean {
    switch (this.phase) {
      case Phase.Head:
        return this.readHead();
      case Phase.Body:
      case Phase.ChunkData:
        return this.readBody();
      case Phase.ChunkSize:
        return this.readChunkSize();
      case Phase.ChunkEnd:
        return this.readChunkEnd();
      case Phase.Trailers:
        return this.readTrailers();
      case Phase.Waiting:
        return false;
      case Phase.Closed:
        this.buffered = EMPTY;
        return false;
    }
  }

  readHead(): boolean {
    // The client does not read its responses: neither is its next request read (Node's server does the same).
    if (this.socket.writableNeedDrain) {
      this.socket.pause();
      return false;
    }
    const data = this.buffered;
    // Empty lines before a request line are ignored (RFC 9112 §2.2, nginx, Node).
    let start = 0;
    while (start < data.length && (data[start] === 13 || data[start] === 10)) start++;
    const end = data.indexOf('\r\n\r\n', start, 'latin1');
    if (end < 0) {
      this.buffered = start === 0 ? data : data.subarray(start);
      checkPartialHead(data, start);
      // client_header_timeout: a head trickled in for longer is cut (a silent client, by the idle timeout).
      if (this.headSince === 0) this.headSince = Date.now();
      else if (Date.now() - this.headSince > this.server.headerTimeoutMs) throw new BadRequest(408);
      return false;
    }
    this.headSince = 0;
    const head = parseRequestHead(data, start, end);
    this.buffered = data.subarray(end + 4);
    if (head.handOver) {
      this.handOver(data.subarray(start));
      return false;
    }
    this.begin(head);
    return true;
  }

  begin(head: RequestHead): void {
    const response = new LeanResponse(this, head);
    this.response = response;
    if (head.expectContinue) this.socket.write(CONTINUE, 'latin1');
    let request: LeanRequest | LeanHead;
    if (head.chunked || head.contentLength > 0) {
      request = this.request = new LeanRequest(this.socket, head, this);
      this.reading = true;
      this.phase = head.chunked ? Phase.ChunkSize : Phase.Body;
      this.remaining = head.contentLength;
    } else {
      request = new LeanHead(this.socket, head);
      this.phase = Phase.Waiting;
    }
    // The proxy reads the part of IncomingMessage and ServerResponse these have (downstream-message.ts).
    this.server.handler(request as unknown as IncomingMessage, response as unknown as ServerResponse);
  }

  readBody(): boolean {
    const data = this.buffered;
    const n = Math.min(this.remaining, data.length);
    this.remaining -= n;
    const piece = n === data.length ? data : data.subarray(0, n);
    this.buffered = n === data.length ? EMPTY : data.subarray(n);
    this.deliver(piece);
    if (this.remaining > 0) return this.buffered.length > 0;
    if (this.phase === Phase.ChunkData) this.phase = Phase.ChunkEnd;
    else this.bodyDone();
    return true;
  }

  /** Body bytes to the request stream (or dropped, once the response has ended). */
  deliver(piece: Buffer): void {
    const request = this.request;
    if (request === undefined || this.response === undefined || piece.length === 0) return;
    if (!request.push(piece) && !this.bodyPaused) {
      this.bodyPaused = true;
      this.socket.pause();
    }
  }

  /** The request stream wants more: read on. */
  bodyRead(): void {
    if (!this.bodyPaused) return;
    this.bodyPaused = false;
    if (this.phase !== Phase.Waiting && this.phase !== Phase.Closed) this.socket.resume();
  }

  readChunkSize(): boolean {
    const data = this.buffered;
    const eol = data.indexOf('\r\n', 0, 'latin1');
    if (eol < 0) {
      if (data.length > MAX_CHUNK_LINE) throw new BadRequest(400);
      // A bare LF or CR is refused now rather than when the line is long enough.
      if (data.indexOf(10) >= 0 || (data.indexOf(13) >= 0 && data.indexOf(13) < data.length - 1)) throw new BadRequest(400);
      return false;
    }
    const size = parseChunkSize(data, eol);
    this.buffered = data.subarray(eol + 2);
    if (size === 0) {
      this.phase = Phase.Trailers;
    } else {
      this.remaining = size;
      this.phase = Phase.ChunkData;
    }
    return true;
  }

  readChunkEnd(): boolean {
    const data = this.buffered;
    if (data.length < 2) {
      if (data[0] !== 13) throw new BadRequest(400);
      return false;
    }
    if (data[0] !== 13 || data[1] !== 10) throw new BadRequest(400);
    this.buffered = data.subarray(2);
    this.phase = Phase.ChunkSize;
    return true;
  }

  /** Trailer fields after the last chunk are read and dropped (nginx does not pass them on). */
  readTrailers(): boolean {
    const data = this.buffered;
    if (data.length >= 2 && data[0] === 13 && data[1] === 10) {
      this.buffered = data.subarray(2);
      this.bodyDone();
      return true;
    }
    const end = data.indexOf('\r\n\r\n', 0, 'latin1');
    if (end < 0) {
      if (data.length > MAX_HEAD_BYTES) throw new BadRequest(431);
      checkPartialHead(data, 0);
      return false;
    }
    parseTrailers(data, end);
    this.buffered = data.subarray(end + 4);
    this.bodyDone();
    return true;
  }

  bodyDone(): void {
    this.reading = false;
    if (this.bodyPaused) {
      this.bodyPaused = false;
      this.socket.resume();
    }
    this.request?.finish();
    if (this.response === undefined) this.next();
    else this.phase = Phase.Waiting;
  }

  /** ResponseSink: the response has been written whole. */
  responseEnded(response: LeanResponse): void {
    if (this.response !== response) return;
    this.response = undefined;
    this.lastActive = Date.now();
    if (!response.keepAlive) {
      this.phase = Phase.Closed;
      this.buffered = EMPTY;
      this.request = undefined;
      closeAfterWrite(this.socket);
      return;
    }
    // The body not read yet is read and dropped, as Node's server and nginx discard it.
    if (this.reading) return;
    this.next();
  }

  /** The current exchange is over: the next request, from what is buffered or still to come. */
  next(): void {
    this.request = undefined;
    if (this.phase === Phase.Closed) return;
    this.phase = Phase.Head;
    if (this.parsing) return;
    if (this.socket.isPaused() && !this.socket.writableNeedDrain) this.socket.resume();
    if (this.buffered.length > 0) this.run();
    else if (this.clientEnded) this.finishWithClient();
  }

  /** Everything the client sent before its FIN has been answered (an unfinished head is dropped). */
  finishWithClient(): void {
    this.phase = Phase.Closed;
    this.buffered = EMPTY;
    if (!this.socket.writableEnded) this.socket.end();
  }

  /** Not ours to serve: the listener's http.Server takes the connection from this request on. */
  handOver(bytes: Buffer): void {
    this.phase = Phase.Closed;
    this.buffered = EMPTY;
    this.server.release(this.socket);
    const socket = this.socket;
    socket.pause();
    socket.unshift(bytes);
    this.server.fallback(socket);
    process.nextTick(resumeSocket, socket);
  }

  /** ResponseSink: the socket of this connection. */
  get output(): Socket {
    return this.socket;
  }

  /** ResponseSink: what Node's server sends with keepAliveTimeout set. */
  get keepAliveHeader(): string {
    return this.server.keepAliveHeader;
  }

  /** The socket is gone: the request in flight, if any, learns it. */
  closed(): void {
    this.phase = Phase.Closed;
    this.buffered = EMPTY;
    if (this.reading) this.request?.fail(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    this.reading = false;
    const response = this.response;
    this.response = undefined;
    response?.socketClosed();
    this.request = undefined;
  }
}

function resumeSocket(socket: Socket): void {
  if (!socket.destroyed) socket.resume();
}

/**
 * An unfinished head is refused as soon as it cannot become a valid one: over the size
 * limit, or a bare LF or CR already in it (nginx and Node answer without waiting).
 */
function checkPartialHead(data: Buffer, start: number): void {
  if (data.length - start > MAX_HEAD_BYTES) throw new BadRequest(431);
  let i = data.indexOf(10, start);
  while (i >= 0) {
    if (data[i - 1] !== 13) throw new BadRequest(400);
    i = data.indexOf(10, i + 1);
  }
  i = data.indexOf(13, start);
  while (i >= 0 && i < data.length - 1) {
    if (data[i + 1] !== 10) throw new BadRequest(400);
    i = data.indexOf(13, i + 1);
  }
}

/** Trailer fields are checked as header fields are (no bare CR/LF, no obs-fold, token names) and dropped. */
function parseTrailers(data: Buffer, end: number): void {
  const lines = data.toString('latin1', 0, end).split('\r\n');
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0 || !TOKEN.test(line.slice(0, colon)) || CONTROL.test(line)) throw new BadRequest(400);
  }
}

function onData(this: LeanSocket, chunk: Buffer): void {
  const connection = this[CONNECTION];
  if (connection === undefined) return;
  try {
    connection.onData(chunk);
  } catch (err) {
    listenerGuard.fail(connection.server.label, this, err);
  }
}

/**
 * The client is done sending. Requests it sent before are answered; a request in flight
 * with nothing behind it is abandoned, as nginx does when it finds the client's connection
 * closed under a proxied request (499; Node's server aborts it too).
 */
function onEnd(this: LeanSocket): void {
  const connection = this[CONNECTION];
  if (connection === undefined) return;
  connection.clientEnded = true;
  if (connection.reading || (connection.response !== undefined && connection.buffered.length === 0)) {
    this.destroy();
    return;
  }
  if (connection.response === undefined && connection.phase === Phase.Head && !connection.parsing) connection.run();
}

function onDrain(this: LeanSocket): void {
  const connection = this[CONNECTION];
  if (connection === undefined) return;
  connection.response?.emit('drain');
  if (connection.response === undefined && connection.phase === Phase.Head) {
    if (this.isPaused()) this.resume();
    connection.run();
  }
}

/** Ends the connection after what is written has gone, as Node's server does (destroySoon). */
function closeAfterWrite(socket: Socket): void {
  socket.end();
  if (socket.writableFinished) socket.destroy();
  else socket.once('finish', destroySocket);
}

function destroySocket(this: Socket): void {
  this.destroy();
}

function onError(this: LeanSocket): void {
  // A peer's reset: the close that follows settles the connection.
  this.destroy();
}

function onClose(this: LeanSocket): void {
  const connection = this[CONNECTION];
  this[CONNECTION] = undefined;
  if (connection === undefined) return;
  connection.server.sockets.delete(this);
  connection.closed();
}

type SocketListener = (this: LeanSocket, chunk: Buffer) => void;
const SOCKET_LISTENERS: readonly (readonly [string, SocketListener])[] = [
  ['data', onData],
  ['end', onEnd],
  ['drain', onDrain],
  ['error', onError],
  ['close', onClose],
];

/**
 * The lean server in front of one listener's `http.Server`: the server keeps its listening
 * socket and its own connection handling, which the lean server calls for what it hands
 * over. `install()` takes the server's `connection` (or, for HTTPS, `secureConnection`)
 * listeners (its own, and the h2c sniffer's when attached) as the fallback.
 */
export class LeanServer {
  readonly sockets = new Set<Socket>();
  readonly handler: RequestHandler;
  readonly label: string;
  readonly keepAliveHeader: string;
  readonly headerTimeoutMs: number;
  readonly #keepAliveMs: number;
  #fallback: ((socket: Socket) => void)[] = [];
  #server: Server | undefined;
  #sweep: NodeJS.Timeout | undefined;

  constructor(options: LeanServerOptions) {
    this.handler = options.handler;
    this.label = options.label;
    this.#keepAliveMs = options.keepAliveMs;
    this.headerTimeoutMs = options.headerTimeoutMs ?? CLIENT_HEADER_TIMEOUT_MS;
    this.keepAliveHeader = `Keep-Alive: timeout=${Math.floor(options.keepAliveMs / 1000)}\r\n`;
  }

  /**
   * Takes the server's connections: `connection` for an http.Server, `secureConnection`
   * (the decrypted socket, after the handshake) for an https.Server.
   */
  install(server: Server, event: 'connection' | 'secureConnection' = 'connection'): void {
    this.#server = server;
    if (this.#sweep === undefined) {
      // One timer for every connection, as Node's server checks its connections, not one per socket.
      this.#sweep = setInterval(() => this.#expire(), Math.max(10, Math.min(this.#keepAliveMs, this.headerTimeoutMs) / 4));
      this.#sweep.unref();
    }
    this.#fallback = server.listeners(event) as ((socket: Socket) => void)[];
    server.removeAllListeners(event);
    server.on(event, (socket: Socket) => this.serve(socket));
  }

  serve(socket: Socket): void {
    const s = socket as LeanSocket;
    s[CONNECTION] = new DownstreamConnection(s, this);
    this.sockets.add(socket);
    socket.setNoDelay(true);
    s[CONNECTION].lastActive = Date.now();
    for (const [event, listener] of SOCKET_LISTENERS) socket.on(event, listener);
    socket.resume();
  }

  /** The socket leaves the lean server (handed over). */
  release(socket: Socket): void {
    const s = socket as LeanSocket;
    s[CONNECTION] = undefined;
    this.sockets.delete(socket);
    for (const [event, listener] of SOCKET_LISTENERS) socket.off(event, listener);
  }

  fallback(socket: Socket): void {
    for (const listener of this.#fallback) listener.call(this.#server, socket);
  }

  /**
   * keepalive_timeout: an idle connection between requests is closed; client_header_timeout:
   * a head unfinished for longer gets 408. A request in flight has the proxy's timeouts.
   */
  #expire(): void {
    const now = Date.now();
    for (const socket of this.sockets) {
      const connection = (socket as LeanSocket)[CONNECTION];
      if (connection === undefined || connection.response !== undefined || connection.phase !== Phase.Head) continue;
      if (connection.headSince !== 0 && now - connection.headSince > this.headerTimeoutMs) connection.refuse(new BadRequest(408));
      else if (now - connection.lastActive > this.#keepAliveMs) socket.destroy();
    }
  }

  /** Closes every connection the lean server holds (the pod stops). */
  closeAll(): void {
    if (this.#sweep !== undefined) clearInterval(this.#sweep);
    this.#sweep = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }
}
