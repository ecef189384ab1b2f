/**
 * Upstream connections of one controller pod, bounded as ingress-nginx bounds them
 * (nginx.tmpl `upstream upstream_balancer { keepalive ...; }` from the ConfigMap defaults):
 *
 * - idle keep-alive connections: at most 320 for the pod (upstream-keepalive-connections),
 *   the least recently used one closed first when a 321st would be kept, as
 *   ngx_http_upstream_keepalive_module does;
 * - an idle connection is closed after 60 s (upstream-keepalive-timeout) and after 10000
 *   requests (upstream-keepalive-requests);
 * - at most UPSTREAM_CONNECTIONS_PER_ENDPOINT connections to one endpoint at a time: nginx
 *   itself only has worker_connections (16384) as a limit, an emulator on one machine needs
 *   a lower one; further requests wait for a free connection, in arrival order.
 *
 * A connection carries one request at a time. Requests to plain-HTTP upstreams go through
 * the lean client (upstream-h1.ts: our own head serialisation and strict response parser);
 * HTTPS upstreams' through one undici Client per connection (pipelining 1). The two kinds
 * are pooled apart, each under the same caps.
 */
import { Client, type Dispatcher } from 'undici';
import type { CompiledEndpoint, Router } from './router.js';
import type { BackendProtocol } from '../../cluster/ingress/types.js';
import { H1Connection, isBodyStream, type ReleasingHandler } from './upstream-h1.js';

export type { ReleasingHandler } from './upstream-h1.js';

/** upstream-keepalive-connections. */
export const UPSTREAM_KEEPALIVE_CONNECTIONS = 320;
/** upstream-keepalive-timeout, 60 s. */
export const UPSTREAM_KEEPALIVE_TIMEOUT_MS = 60_000;
/** upstream-keepalive-requests. */
export const UPSTREAM_KEEPALIVE_REQUESTS = 10_000;
/** aks-emu's own cap on simultaneous connections from one controller pod to one endpoint. */
export const UPSTREAM_CONNECTIONS_PER_ENDPOINT = 256;

export interface UpstreamPoolsOptions {
  /** The controller pod's IP: upstream connections come from it, as from a real pod. */
  readonly localAddress?: string;
  readonly keepaliveConnections?: number;
  readonly connectionsPerEndpoint?: number;
}

/** Which client carries a request: the lean one for plain HTTP/1.1, undici for HTTPS upstreams. */
type ClientKind = 'lean' | 'undici';

function clientKind(protocol: BackendProtocol, options: Dispatcher.DispatchOptions): ClientKind {
  return protocol === 'HTTP' && options.upgrade == null && (options.body == null || isBodyStream(options.body)) ? 'lean' : 'undici';
}

/** Which connections serve an endpoint: one per client kind, backend protocol, address and connect timeout. */
type EndpointKey = string & { readonly __endpointKey: unique symbol };

function endpointKey(kind: ClientKind, protocol: BackendProtocol, address: string, connectTimeoutMs: number): EndpointKey {
  return `${kind}|${protocol}|${address}|${connectTimeoutMs}` as EndpointKey;
}

interface Waiting {
  readonly options: Dispatcher.DispatchOptions;
  readonly handler: ReleasingHandler;
}

class Connection {
  connected = false;
  busy = false;
  /** Set for the lean client; `client` is then unused. */
  h1: H1Connection | undefined;

  constructor(
    readonly client: Client | undefined,
    readonly group: EndpointConnections,
  ) {}

  close(): void {
    if (this.h1) return this.h1.close();
    const client = this.client!;
    void client.close().catch(() => client.destroy());
  }
}

class EndpointConnections {
  readonly all = new Set<Connection>();
  /** Free connections, most recently freed last (reused first, as nginx's keepalive cache). */
  readonly free: Connection[] = [];
  readonly waiting: Waiting[] = [];
  retired = false;

  constructor(
    readonly key: EndpointKey,
    readonly kind: ClientKind,
    readonly address: string,
    readonly origin: string,
    readonly connectTimeoutMs: number,
  ) {}
}

export interface UpstreamStats {
  /** Connections open (connected) now. */
  readonly open: number;
  /** Of those, idle in keep-alive. */
  readonly idle: number;
  /** Requests waiting for a connection (an endpoint at its cap). */
  readonly waiting: number;
}

export class UpstreamPools {
  readonly #groups = new Map<EndpointKey, EndpointConnections>();
  /** Idle connected connections of the whole pod, least recently used first. */
  readonly #idle = new Set<Connection>();
  readonly #localAddress?: string;
  readonly #keepalive: number;
  readonly #perEndpoint: number;

  constructor(options: UpstreamPoolsOptions = {}) {
    this.#localAddress = options.localAddress;
    this.#keepalive = options.keepaliveConnections ?? UPSTREAM_KEEPALIVE_CONNECTIONS;
    this.#perEndpoint = options.connectionsPerEndpoint ?? UPSTREAM_CONNECTIONS_PER_ENDPOINT;
  }

  dispatch(
    endpoint: CompiledEndpoint,
    protocol: BackendProtocol,
    connectTimeoutMs: number,
    options: Dispatcher.DispatchOptions,
    handler: ReleasingHandler,
  ): void {
    const kind = clientKind(protocol, options);
    const key = endpointKey(kind, protocol, endpoint.address, connectTimeoutMs);
    let group = this.#groups.get(key);
    if (!group) {
      const scheme = protocol === 'HTTPS' ? 'https' : 'http';
      group = new EndpointConnections(key, kind, endpoint.address, `${scheme}://${endpoint.address}`, connectTimeoutMs);
      this.#groups.set(key, group);
    }
    this.#dispatchIn(group, options, handler);
  }

  #dispatchIn(group: EndpointConnections, options: Dispatcher.DispatchOptions, handler: ReleasingHandler): void {
    const conn = group.free.pop() ?? (group.all.size < this.#perEndpoint ? this.#open(group) : undefined);
    if (!conn) {
      group.waiting.push({ options, handler });
      return;
    }
    this.#run(conn, options, handler);
  }

  stats(): UpstreamStats {
    let open = 0;
    let waiting = 0;
    for (const group of this.#groups.values()) {
      waiting += group.waiting.length;
      for (const conn of group.all) if (conn.connected) open++;
    }
    return { open, idle: this.#idle.size, waiting };
  }

  /** Closes the connections of endpoints the router no longer has; busy ones close when done. */
  prune(router: Router): void {
    const live = new Set<string>();
    for (const u of router.upstreams) for (const e of u.endpoints) live.add(e.address);
    for (const group of this.#groups.values()) {
      if (live.has(group.address)) continue;
      this.#groups.delete(group.key);
      group.retired = true;
      for (const conn of [...group.free]) this.#discard(conn);
      // A waiting request already chose this endpoint: it still gets a connection.
    }
  }

  async close(): Promise<void> {
    const conns = [...this.#groups.values()].flatMap((g) => [...g.all]);
    this.#groups.clear();
    this.#idle.clear();
    await Promise.all(conns.map((c) => (c.h1 ? c.h1.close() : c.client!.destroy().catch(() => undefined))));
  }

  #open(group: EndpointConnections): Connection {
    if (group.kind === 'lean') return this.#openLean(group);
    const client = new Client(group.origin, {
      connect: { timeout: group.connectTimeoutMs, rejectUnauthorized: false },
      localAddress: this.#localAddress,
      keepAliveTimeout: UPSTREAM_KEEPALIVE_TIMEOUT_MS,
      // nginx keeps its own timeout whatever Keep-Alive hint the upstream sends.
      keepAliveMaxTimeout: UPSTREAM_KEEPALIVE_TIMEOUT_MS,
      maxRequestsPerClient: UPSTREAM_KEEPALIVE_REQUESTS,
      pipelining: 1,
    });
    const conn = new Connection(client, group);
    group.all.add(conn);
    client.on('connect', () => {
      conn.connected = true;
    });
    client.on('disconnect', () => {
      conn.connected = false;
      // An idle connection the upstream (or the keep-alive timeout) closed: forget it.
      if (!conn.busy) this.#discard(conn);
    });
    return conn;
  }

  #openLean(group: EndpointConnections): Connection {
    const conn = new Connection(undefined, group);
    const colon = group.address.lastIndexOf(':');
    const host = group.address.slice(0, colon).replace(/^\[|\]$/g, '');
    conn.h1 = new H1Connection(
      {
        host,
        port: Number(group.address.slice(colon + 1)),
        hostHeader: group.address,
        localAddress: this.#localAddress,
        connectTimeoutMs: group.connectTimeoutMs,
        idleTimeoutMs: UPSTREAM_KEEPALIVE_TIMEOUT_MS,
        maxRequests: UPSTREAM_KEEPALIVE_REQUESTS,
      },
      (_h1, retry, options) => this.#gone(conn, retry, options),
    );
    conn.connected = true;
    group.all.add(conn);
    return conn;
  }

  /** A lean connection closed or failed; `retry`: its request goes again on another connection. */
  #gone(conn: Connection, retry: ReleasingHandler | undefined, options: Dispatcher.DispatchOptions | undefined): void {
    conn.connected = false;
    if (!conn.group.all.has(conn)) return;
    if (retry && options) {
      conn.busy = false;
      retry.release = undefined;
      this.#discard(conn);
      const group = this.#groups.get(conn.group.key) ?? conn.group;
      if (!this.#groups.has(group.key)) this.#groups.set(group.key, group);
      return this.#dispatchIn(group, options, retry);
    }
    if (!conn.busy) this.#discard(conn);
  }

  #run(conn: Connection, options: Dispatcher.DispatchOptions, handler: ReleasingHandler): void {
    conn.busy = true;
    this.#idle.delete(conn);
    handler.release = () => this.#release(conn);
    if (conn.h1) conn.h1.run(options, handler);
    else conn.client!.dispatch(options, handler);
  }

  #release(conn: Connection): void {
    conn.busy = false;
    const group = conn.group;
    const next = group.waiting.shift();
    if (next) return this.#run(conn, next.options, next.handler);
    if (!conn.connected || group.retired) return this.#discard(conn);
    group.free.push(conn);
    this.#idle.add(conn);
    if (this.#idle.size > this.#keepalive) {
      const oldest = this.#idle.values().next().value;
      if (oldest) this.#discard(oldest);
    }
  }

  #discard(conn: Connection): void {
    this.#idle.delete(conn);
    const group = conn.group;
    group.all.delete(conn);
    const i = group.free.indexOf(conn);
    if (i >= 0) group.free.splice(i, 1);
    if (group.all.size === 0 && group.waiting.length === 0 && this.#groups.get(group.key) === group && group.free.length === 0) {
      this.#groups.delete(group.key);
    }
    conn.close();
  }
}
