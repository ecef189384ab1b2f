/**
 * A Gateway pod's `protocol: TCP` listeners (Envoy's tcp_proxy in Istio's gateway): each
 * accepted connection goes to one backendRef of the port's TCPRoute, chosen by weight,
 * and to one ready endpoint of it (pod IP:targetPort, never the ClusterIP); the bytes are
 * spliced both ways unmodified with the data plane's Splice. A chosen backend that does
 * not resolve or has no ready endpoint, or a port without a route, gets a reset, as the
 * Gateway API asks for connections to an invalid backend. A TLS Passthrough listener first
 * reads the ClientHello's server name (bounded; a malformed hello closes the connection),
 * picks the TLSRoute for it (no match: closed) and passes the hello on untouched.
 *
 * NetworkPolicy: an upstream connection the snapshot's policies drop is a SYN nobody
 * answers. Envoy's tcp_proxy waits its connect timeout (Istio's 10 s) with the client's
 * connection open and silent, then gives up on it as on any failed upstream connect, which
 * here is the reset every other dial failure gets.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

import type { PodInfo } from '../cluster/snapshot.js';
import type { SniRoute, TcpBackend, TcpListenerTable } from '../cluster/gateway/types.js';
import { peekClientHello } from '../dataplane/l4/client-hello.js';
import type { UpstreamEndpoint } from '../cluster/ingress/types.js';
import { rememberSeenAs, type LocalEndpoint, type SeenAs } from '../dataplane/l4/local-endpoints.js';
import { resetSocket } from '../dataplane/l4/reset.js';
import { Splice } from '../dataplane/l4/splice.js';
import type { GlobalCounters } from '../dataplane/stats.js';
import { connectTimeoutError, type NetpolGate } from '../dataplane/netpol-gate.js';
import { closeAll, listenAll } from './pod-listeners.js';

/** What a connection holds back while its upstream connects (then the client is paused). */
const MAX_PENDING_BYTES = 64 * 1024;
/** Istio's default upstream connect timeout (MeshConfig connectTimeout), as the HTTP routes have it. */
const TCP_CONNECT_TIMEOUT_MS = 10_000;

export interface GatewayTcpOptions {
  /** The port's compiled route; read per connection. */
  tableFor(port: number): TcpListenerTable | undefined;
  readonly random: () => number;
  readonly now: () => number;
  log?(line: string): void;
  /** The current snapshot's NetworkPolicies, looked up per upstream connect (undefined: none). */
  readonly netpol?: () => NetpolGate | undefined;
}

/** A backend by weight (weight 0 never), then one of its endpoints; undefined: reset the client. */
export function pickTcpEndpoint(backends: readonly TcpBackend[], random: () => number): UpstreamEndpoint | undefined {
  const total = backends.reduce((n, b) => n + b.weight, 0);
  if (total === 0) return undefined;
  let point = random() * total;
  const chosen = backends.find((b) => (point -= b.weight) < 0) ?? backends[backends.length - 1];
  if (!chosen || chosen.invalid !== undefined || chosen.endpoints.length === 0) return undefined;
  return chosen.endpoints[Math.floor(random() * chosen.endpoints.length)];
}

export class GatewayTcpListeners {
  #servers: Server[] = [];
  #endpoints = new Map<number, LocalEndpoint>();
  readonly #sockets = new Set<Socket>();
  readonly counters: GlobalCounters = { rejectedOutsideCluster: 0, discardedBytes: 0 };

  constructor(
    private readonly pod: () => PodInfo,
    private readonly ports: readonly number[],
    private readonly options: GatewayTcpOptions,
  ) {}

  async start(): Promise<void> {
    if (this.#servers.length > 0 || this.ports.length === 0) return;
    const servers = this.ports.map((port) => {
      const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.#accept(port, socket));
      return { port, server };
    });
    await listenAll(this.pod(), servers);
    this.#servers = servers.map((s) => s.server);
    this.#endpoints = new Map(
      servers.map(({ port, server }) => [
        port,
        {
          acceptForwarded: (socket: Socket, seen: SeenAs) => {
            rememberSeenAs(socket, seen);
            socket.allowHalfOpen = true;
            server.emit('connection', socket);
          },
        },
      ]),
    );
  }

  localEndpoint(port: number): LocalEndpoint | undefined {
    return this.#endpoints.get(port);
  }

  async stop(): Promise<void> {
    const servers = this.#servers;
    this.#servers = [];
    this.#endpoints = new Map();
    const closed = closeAll(servers);
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    await closed;
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  #accept(port: number, client: Socket): void {
    this.#track(client);
    const table = this.options.tableFor(port);
    const log = (why: string) => this.options.log?.(`${table?.sni ? 'tls' : 'tcp'} listener ${port}: ${why}: connection closed`);
    const route = table?.route ? ` in ${table.route}` : ' (no route attached)';
    if (!table?.sni) {
      const endpoint = table ? pickTcpEndpoint(table.backends, this.options.random) : undefined;
      if (!endpoint) {
        log(`no usable backend${route}`);
        resetSocket(client);
        return;
      }
      return this.#dial(port, client, endpoint, []);
    }
    // TLS passthrough: hold the first bytes until the ClientHello's SNI is known; they go upstream unmodified.
    const sni = table.sni;
    const held: Buffer[] = [];
    const peek = (chunk: Buffer) => {
      held.push(chunk);
      const hello = peekClientHello(Buffer.concat(held));
      if (hello.state === 'incomplete') return;
      client.off('data', peek);
      client.off('end', early);
      client.pause();
      if (hello.state === 'malformed') {
        log(`malformed ClientHello (${hello.reason})`);
        return void client.destroy();
      }
      const match = matchServerName(sni, hello.serverName ?? '');
      const endpoint = match ? pickTcpEndpoint(match.backends, this.options.random) : undefined;
      if (!endpoint) {
        log(match ? `no usable backend in ${match.route}` : `no TLSRoute for server name ${JSON.stringify(hello.serverName ?? '')}`);
        return void client.destroy();
      }
      this.#dial(port, client, endpoint, held);
    };
    const early = () => {
      log('the client ended before a complete ClientHello');
      client.destroy();
    };
    client.on('data', peek);
    client.once('end', early);
    client.on('error', (err) => log(`client error before the ClientHello: ${err.message}`));
    client.resume();
  }

  /** Dials the endpoint and splices; `held` are bytes already read from the client. */
  #dial(port: number, client: Socket, endpoint: UpstreamEndpoint, held: Buffer[]): void {
    const netpol = this.options.netpol?.();
    if (netpol !== undefined && netpol.drops(this.pod().ip, endpoint.ip, endpoint.port)) return this.#dropped(port, client, endpoint);
    // A handed-over socket is resumed by whoever handed it over: hold what arrives until the splice.
    const pending = held;
    let pendingBytes = held.reduce((n, b) => n + b.length, 0);
    let ended = false;
    const hold = (chunk: Buffer) => {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= MAX_PENDING_BYTES) client.pause();
    };
    const onEnd = () => (ended = true);
    const onClientGone = () => upstream.destroy();
    client.on('data', hold);
    client.once('end', onEnd);
    client.once('close', onClientGone);
    client.on('error', onClientGone);
    const upstream = connect({ host: endpoint.ip, port: endpoint.port, localAddress: this.pod().ip, allowHalfOpen: true, noDelay: true });
    this.#track(upstream);
    upstream.once('error', (err) => {
      this.options.log?.(`listener ${port}: dial ${endpoint.ip}:${endpoint.port}: ${err.message}: connection reset`);
      resetSocket(client);
    });
    upstream.once('connect', () => {
      client.off('data', hold);
      client.off('end', onEnd);
      client.off('close', onClientGone);
      client.off('error', onClientGone);
      client.removeAllListeners('error');
      upstream.removeAllListeners('error');
      if (client.destroyed) return upstream.destroy();
      for (const chunk of pending) upstream.write(chunk);
      new Splice(client, upstream, this.counters, this.options.now());
      if (ended) upstream.end();
    });
  }

  /**
   * The upstream SYN is dropped: the client's connection stays open and silent (what it
   * sends is read and discarded) for the connect timeout, then is reset as a failed dial is.
   */
  #dropped(port: number, client: Socket, endpoint: UpstreamEndpoint): void {
    const timeoutMs = TCP_CONNECT_TIMEOUT_MS;
    const timer = setTimeout(() => {
      const err = connectTimeoutError(`${endpoint.ip}:${endpoint.port}`, timeoutMs);
      this.options.log?.(`listener ${port}: dial ${endpoint.ip}:${endpoint.port}: ${err.message}: connection reset`);
      resetSocket(client);
    }, timeoutMs);
    client.once('close', () => clearTimeout(timer));
    client.on('error', () => client.destroy());
    client.on('data', discard);
    client.resume();
  }
}

function discard(): void {}

/** The TLSRoute hostname for a server name: exact first, then the longest wildcard, then `*`. */
export function matchServerName(routes: readonly SniRoute[], serverName: string): SniRoute | undefined {
  const exact = routes.find((r) => r.hostname === serverName);
  if (exact) return exact;
  const wildcards = routes
    .filter((r) => r.hostname.startsWith('*.') && serverName.endsWith(r.hostname.slice(1)) && serverName.length > r.hostname.length - 1)
    .sort((a, b) => b.hostname.length - a.hostname.length);
  return wildcards[0] ?? routes.find((r) => r.hostname === '*');
}
