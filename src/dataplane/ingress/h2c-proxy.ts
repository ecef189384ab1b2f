/**
 * HTTP/2 cleartext (prior knowledge) on a gateway's HTTP listener, for gRPC: a connection
 * that opens with the HTTP/2 preface goes to an http2 server, any other to the HTTP/1
 * server, as Envoy's HTTP connection manager with codec AUTO does. Each stream is routed
 * by the same route table (host from :authority, the match rules), and proxied over an
 * h2c session to a ready endpoint, trailers (grpc-status) included. Errors the gateway
 * makes itself are gRPC-shaped for gRPC requests (HTTP 200 with grpc-status), as Envoy
 * maps them: 404 → UNIMPLEMENTED (12), 500/503 → UNAVAILABLE (14).
 *
 * NetworkPolicy: an upstream connection the snapshot's policies drop is a SYN nobody
 * answers, so the stream waits the route's connect timeout (Istio's 10 s) and then gets
 * what Envoy answers for an upstream connect timeout: 503 (a connection failure, UF), which
 * is UNAVAILABLE (14) for gRPC, with Envoy's reason as grpc-message.
 */
import {
  connect,
  constants,
  createServer,
  type ClientHttp2Session,
  type ClientSessionOptions,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { normalizePath } from '../../cluster/ingress/path-match.js';
import { matchRouteRule, pickBackend } from './route-match.js';
import type { Router } from './router.js';
import type { NetpolGate } from '../netpol-gate.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host']);
const GRPC_STATUS: Readonly<Record<number, string>> = { 404: '12', 500: '14', 502: '14', 503: '14', 504: '4' };
/** Envoy's local reply when the upstream connect times out (response flag UF). */
export const CONNECT_TIMEOUT_REASON = 'upstream connect error or disconnect/reset before headers. reset reason: connection timeout';

export interface H2cOptions {
  getRouter(): Router;
  readonly localAddress?: string;
  readonly random?: () => number;
  /** The current snapshot's NetworkPolicies, looked up per stream (undefined: none). */
  readonly netpol?: () => NetpolGate | undefined;
}

/** Upstream h2c sessions, one per endpoint address, reopened when they close. */
class Sessions {
  readonly #sessions = new Map<string, ClientHttp2Session>();
  constructor(readonly localAddress: string | undefined) {}

  get(address: string): ClientHttp2Session {
    const existing = this.#sessions.get(address);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const session = connect(`http://${address}`, { localAddress: this.localAddress } as ClientSessionOptions);
    session.on('error', () => this.#sessions.delete(address));
    session.on('close', () => this.#sessions.delete(address));
    this.#sessions.set(address, session);
    return session;
  }

  close(): void {
    for (const s of this.#sessions.values()) s.destroy();
    this.#sessions.clear();
  }
}

/** A reply the gateway makes itself; `reason` is Envoy's text (grpc-message, or the body). */
function reply(stream: ServerHttp2Stream, status: number, grpc: boolean, reason?: string): void {
  if (stream.destroyed) return;
  if (grpc) {
    const headers: Record<string, string | number> = {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': GRPC_STATUS[status] ?? '2',
      server: 'istio-envoy',
    };
    if (reason !== undefined) headers['grpc-message'] = reason;
    stream.respond(headers, { endStream: true });
  } else if (reason !== undefined) {
    stream.respond({ ':status': status, server: 'istio-envoy', 'content-type': 'text/plain', 'content-length': Buffer.byteLength(reason) });
    stream.end(reason);
  } else {
    stream.respond({ ':status': status, server: 'istio-envoy' }, { endStream: true });
  }
}

/**
 * A stream whose upstream connect NetworkPolicy drops: nothing answers until the connect
 * timeout, then Envoy's connect-failure reply. What the client sends meanwhile is read and
 * discarded; a client that gives up first ends the wait.
 */
function dropConnect(stream: ServerHttp2Stream, grpc: boolean, timeoutMs: number): void {
  const timer = setTimeout(() => reply(stream, 503, grpc, CONNECT_TIMEOUT_REASON), timeoutMs);
  stream.once('close', () => clearTimeout(timer));
  stream.resume();
}

export class H2cProxy {
  readonly server: Http2Server;
  readonly #sessions: Sessions;
  readonly #options: H2cOptions;
  readonly #clients = new Set<ServerHttp2Session>();
  /** Streams that failed upstream (reset, refused): counted, each answered to its client. */
  failures = 0;
  /** Connections that failed (reset) before sending a byte, so before either server took them. */
  resetsBeforeFirstByte = 0;

  constructor(options: H2cOptions) {
    this.#options = options;
    this.#sessions = new Sessions(options.localAddress);
    this.server = createServer();
    this.server.on('stream', (stream, headers) => this.#stream(stream, headers));
    this.server.on('session', (session) => {
      this.#clients.add(session);
      session.once('close', () => this.#clients.delete(session));
    });
  }

  /**
   * Puts a sniffer in front of an HTTP/1 server: the first bytes of each connection choose
   * the HTTP/2 server (the preface) or the HTTP/1 server's own connection handling.
   */
  attach(http1: Server): void {
    const original = http1.listeners('connection') as ((socket: Socket) => void)[];
    http1.removeAllListeners('connection');
    http1.on('connection', (socket: Socket) => {
      // Until a server owns the socket its errors are ours: a peer that resets before its
      // first byte (a load balancer's TCP probe through kube-proxy) must not go unhandled.
      const beforeFirstByte = (): void => {
        this.resetsBeforeFirstByte++;
      };
      socket.on('error', beforeFirstByte);
      socket.once('data', (chunk: Buffer) => {
        socket.off('error', beforeFirstByte);
        socket.pause();
        socket.unshift(chunk);
        const h2 =
          chunk.length >= 3 && chunk.subarray(0, Math.min(chunk.length, PREFACE.length)).equals(PREFACE.subarray(0, Math.min(chunk.length, PREFACE.length)));
        if (h2) this.server.emit('connection', socket);
        else for (const listener of original) listener.call(http1, socket);
        process.nextTick(() => socket.resume());
      });
    });
  }

  /** The server never listens (connections are handed to it), so closing is destroying its sessions. */
  close(): void {
    this.#sessions.close();
    for (const session of this.#clients) session.destroy();
    this.#clients.clear();
  }

  #stream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', () => this.failures++);
    const grpc = String(headers['content-type'] ?? '').startsWith('application/grpc');
    const router = this.#options.getRouter();
    const authority = String(headers[':authority'] ?? '');
    const server = router.matchServer(authority);
    const url = String(headers[':path'] ?? '/');
    const q = url.indexOf('?');
    const path = normalizePath(q < 0 ? url : url.slice(0, q));
    const rule = matchRouteRule(server.rules ?? [], {
      method: String(headers[':method'] ?? 'GET'),
      path,
      query: q < 0 ? '' : url.slice(q + 1),
      headers: headers as never,
    });
    if (!rule) return reply(stream, 404, grpc);
    const backend = pickBackend(rule, (this.#options.random ?? Math.random)());
    const endpoints = backend?.upstream?.endpoints ?? [];
    if (!backend?.upstream) return reply(stream, 500, grpc);
    if (endpoints.length === 0) return reply(stream, 503, grpc);
    const endpoint = endpoints[Math.floor((this.#options.random ?? Math.random)() * endpoints.length)] ?? endpoints[0]!;
    const netpol = this.#options.netpol?.();
    if (netpol !== undefined && netpol.drops(this.#options.localAddress ?? '', endpoint.config.ip, endpoint.config.port)) {
      return dropConnect(stream, grpc, rule.location.config.proxy.connectTimeoutMs);
    }
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (
        value === undefined ||
        HOP.has(name) ||
        (name.startsWith(':') && name !== ':method' && name !== ':path' && name !== ':scheme' && name !== ':authority')
      )
        continue;
      out[name] = value as string | string[];
    }
    if (rule.requestEdits) {
      for (const { name, value } of rule.requestEdits.set) out[name.toLowerCase()] = value;
      for (const { name, value } of rule.requestEdits.add)
        out[name.toLowerCase()] = out[name.toLowerCase()] === undefined ? value : `${String(out[name.toLowerCase()])},${value}`;
      for (const name of rule.requestEdits.remove) delete out[name.toLowerCase()];
    }
    let upstream;
    try {
      upstream = this.#sessions.get(endpoint.address).request(out, { waitForTrailers: false });
    } catch {
      this.failures++;
      return reply(stream, 503, grpc);
    }
    upstream.on('response', (h) => {
      const relay: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(h)) if (value !== undefined && !HOP.has(name)) relay[name] = value as string | string[];
      relay.server = 'istio-envoy';
      if (!stream.destroyed) stream.respond(relay, { waitForTrailers: true });
    });
    let trailers: Record<string, string | string[]> | undefined;
    upstream.on('trailers', (t) => (trailers = t as Record<string, string | string[]>));
    stream.on('wantTrailers', () => (trailers ? stream.sendTrailers(trailers) : stream.close()));
    upstream.on('error', () => {
      this.failures++;
      if (!stream.headersSent) reply(stream, 503, grpc);
      else stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    });
    upstream.pipe(stream);
    stream.pipe(upstream);
  }
}
