/**
 * The ingress-nginx controller as a pod runtime: HTTP and HTTPS listeners on the pod's
 * own address for the ports its container declares (http 80, https 443 in the
 * controller's Deployment), and the controller's health endpoint on :10254, which its
 * readinessProbe (`GET /healthz`) targets. Routing comes from getRouter() per request,
 * so a new router applies to the next request while running ones finish on the old.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import type { PodInfo } from '../cluster/snapshot.js';
import { rememberSeenAs, type LocalEndpoint, type SeenAs } from '../dataplane/l4/local-endpoints.js';
import { IngressProxy, type Scheme } from '../dataplane/ingress/proxy.js';
import { H2cProxy } from '../dataplane/ingress/h2c-proxy.js';
import { LeanServer } from '../dataplane/ingress/downstream-h1.js';
import type { Router } from '../dataplane/ingress/router.js';
import type { FaultHolder } from '../faults/compile.js';
import { defaultCertificate } from '../dataplane/ingress/self-signed-cert.js';
import { HttpObserver } from '../dataplane/observe/http.js';
import type { L7Observe } from '../dataplane/observe/l7-observe.js';
import { closeAll, listenAll } from './pod-listeners.js';
import { AccessLog } from '../dataplane/observe/access-log.js';
import type { NetpolGate } from '../dataplane/netpol-gate.js';
import type { PodRuntime } from './pod-runtime.js';

export interface IngressControllerPodOptions {
  getRouter(): Router;
  readonly nodeName: string;
  /** [0, 1); canary weights use it (tests make it deterministic). */
  readonly random?: () => number;
  /** Where requests are traced and counted; the controller also writes its access log. */
  readonly observe?: L7Observe;
  /** The current snapshot's NetworkPolicies, for the controller's upstream connections. */
  readonly netpol?: () => NetpolGate | undefined;
  readonly faults?: FaultHolder | undefined;
}

/**
 * An L7 proxy pod: the ingress controller, or a Gateway's pod (src/pods/gateway.ts), which
 * has a route table per listener port and Istio's status port instead of nginx's.
 */
export interface L7PodOptions {
  readonly listeners: readonly Listener[];
  /** The router of a listener port, read per request. */
  routerFor(port: number): Router;
  readonly health: { readonly port: number; readonly path: string };
  /** One proxy (pools, balancer state) for every listener, as one nginx; else one per port. */
  readonly sharedProxy: boolean;
  /** HTTP listeners also take HTTP/2 cleartext (prior knowledge), for gRPC: Envoy's codec AUTO. */
  readonly h2c?: boolean;
  readonly random?: () => number;
  readonly observe?: L7Observe;
  /** Write an access log line per request into the pod's log (ingress-nginx does; Istio's gateways by default do not). */
  readonly accessLog?: boolean;
  readonly netpol?: () => NetpolGate | undefined;
  /** Active faults (Ingress and HTTPRoute faults act in the proxy). */
  readonly faults?: FaultHolder | undefined;
}

/** ingress-nginx's --healthz-port. */
export const CONTROLLER_HEALTH_PORT = 10254;
/** ingress-nginx's keepalive_timeout for clients (config `keep-alive: 75`). */
const CLIENT_KEEPALIVE_MS = 75_000;

/**
 * Which server parses plain-HTTP requests: the lean one (downstream-h1.ts, the default) or
 * Node's http.Server alone (`AKS_EMU_INGRESS_HTTP_SERVER=node`, kept for comparison).
 */
function leanHttpServer(): boolean {
  return process.env.AKS_EMU_INGRESS_HTTP_SERVER !== 'node';
}

const FORWARDED_IN = Symbol('aks-emu.forwarded-in');
type ForwardedSocket = Socket & { [FORWARDED_IN]?: Set<Socket> };

function forgetForwarded(this: ForwardedSocket): void {
  this[FORWARDED_IN]?.delete(this);
}

export interface Listener {
  readonly port: number;
  readonly kind: Scheme | 'health';
}

/** The ports to bind: what the container declares (by name, else by the well-known number). */
export function controllerListeners(pod: PodInfo): Listener[] {
  const listeners: Listener[] = [];
  for (const container of pod.containers) {
    for (const p of container.ports) {
      if (p.protocol !== 'TCP' || p.containerPort === CONTROLLER_HEALTH_PORT) continue;
      const kind: Scheme | undefined =
        p.name === 'https' || (p.name !== 'http' && p.containerPort === 443) ? 'https' : p.name === 'http' || p.containerPort === 80 ? 'http' : undefined;
      if (kind && !listeners.some((l) => l.port === p.containerPort)) listeners.push({ port: p.containerPort, kind });
    }
  }
  if (listeners.length === 0) listeners.push({ port: 80, kind: 'http' }, { port: 443, kind: 'https' });
  listeners.push({ port: CONTROLLER_HEALTH_PORT, kind: 'health' });
  return listeners;
}

export class L7Pod implements PodRuntime {
  #pod: PodInfo;
  #healthy = true;
  #servers: Server[] = [];
  #endpoints = new Map<number, LocalEndpoint>();
  /** Handed-over sockets: a TLS one still in its handshake is not yet an HTTP connection closeAllConnections() knows. */
  readonly #forwarded = new Set<Socket>();
  #proxies: IngressProxy[] = [];
  #h2c: H2cProxy[] = [];
  #lean: LeanServer[] = [];
  readonly #options: L7PodOptions;
  /** ingress-nginx writes its access log to the container's stdout: `kubectl logs` of the pod shows it. */
  readonly #log = new AccessLog();
  readonly #observer: HttpObserver | undefined;

  constructor(pod: PodInfo, options: L7PodOptions) {
    this.#pod = pod;
    this.#options = options;
    const observe = options.observe;
    this.#observer =
      observe === undefined
        ? undefined
        : new HttpObserver({
            traces: observe.traces,
            counters: observe.http,
            pod: `${pod.namespace}/${pod.name}`,
            ...(options.accessLog ? { accessLog: this.#log } : {}),
          });
  }

  /** The container's output: the access log (empty for pods that write none). */
  logs(request: { readonly previous?: boolean }): string | undefined {
    return request.previous ? undefined : this.#log.text();
  }

  followLogs(_container: string | undefined, onLine: (line: string) => void): () => void {
    return this.#log.follow(onLine);
  }

  get pod(): PodInfo {
    return this.#pod;
  }

  async start(): Promise<void> {
    if (this.#servers.length > 0) return;
    const listeners = this.#options.listeners;
    const cert = listeners.some((l) => l.kind === 'https') ? await defaultCertificate() : undefined;
    const proxyFor = (port: number) => {
      const proxy = new IngressProxy({
        getRouter: () => this.#options.routerFor(port),
        localAddress: this.#pod.ip,
        random: this.#options.random,
        ...(this.#observer === undefined ? {} : { observer: this.#observer }),
        netpol: this.#options.netpol,
        faults: this.#options.faults,
      });
      this.#proxies.push(proxy);
      return proxy;
    };
    const shared = this.#options.sharedProxy ? proxyFor(listeners[0]?.port ?? 0) : undefined;
    const servers = listeners.map((l) => ({ port: l.port, server: this.#server(l, l.kind === 'health' ? undefined : (shared ?? proxyFor(l.port)), cert) }));
    try {
      await listenAll(this.#pod, servers, this.#options.netpol);
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.#servers = servers.map((s) => s.server);
    this.#endpoints = new Map(servers.map(({ port, server }) => [port, this.#forwardedTo(server)]));
  }

  localEndpoint(port: number): LocalEndpoint | undefined {
    return this.#endpoints.get(port);
  }

  #forwardedTo(server: Server): LocalEndpoint {
    // What this server's own accept would have set (tls.Server: no half-open; http.Server: half-open).
    const allowHalfOpen = (server as { allowHalfOpen?: boolean }).allowHalfOpen === true;
    return {
      acceptForwarded: (socket: Socket, seen: SeenAs) => {
        rememberSeenAs(socket, seen);
        socket.allowHalfOpen = allowHalfOpen;
        this.#forwarded.add(socket);
        (socket as ForwardedSocket)[FORWARDED_IN] = this.#forwarded;
        socket.once('close', forgetForwarded);
        server.emit('connection', socket);
      },
    };
  }

  async stop(): Promise<void> {
    const servers = this.#servers;
    this.#servers = [];
    this.#endpoints = new Map();
    const closed = closeAll(servers);
    for (const server of servers) server.closeAllConnections();
    for (const socket of this.#forwarded) socket.destroy();
    this.#forwarded.clear();
    await closed;
    for (const lean of this.#lean) lean.closeAll();
    this.#lean = [];
    for (const h2c of this.#h2c) h2c.close();
    this.#h2c = [];
    const proxies = this.#proxies;
    this.#proxies = [];
    await Promise.all(proxies.map((p) => p.close()));
  }

  setHealthy(healthy: boolean): void {
    this.#healthy = healthy;
  }

  update(pod: PodInfo): void {
    this.#pod = pod;
  }

  #server(listener: Listener, proxy: IngressProxy | undefined, cert: { certPem: string; keyPem: string } | undefined): Server {
    if (listener.kind === 'health' || !proxy) return createHttpServer((req, res) => this.#health(req, res));
    let server: Server;
    if (listener.kind === 'https' && cert) {
      const sni = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => {
        cb(null, this.#options.routerFor(listener.port).secureContext(servername));
      };
      server = createHttpsServer({ cert: cert.certPem, key: cert.keyPem, SNICallback: sni }, proxy.requestListener('https', listener.port));
      server.on('upgrade', proxy.upgradeListener('https', listener.port));
      if (leanHttpServer()) this.#leanServer(server, proxy, listener, 'https');
    } else {
      server = createHttpServer(proxy.requestListener('http', listener.port));
      server.on('upgrade', proxy.upgradeListener('http', listener.port));
      if (this.#options.h2c) {
        const h2c = new H2cProxy({
          getRouter: () => this.#options.routerFor(listener.port),
          localAddress: this.#pod.ip,
          random: this.#options.random,
          netpol: this.#options.netpol,
        });
        h2c.attach(server);
        this.#h2c.push(h2c);
      }
      if (leanHttpServer()) this.#leanServer(server, proxy, listener, 'http');
    }
    server.keepAliveTimeout = CLIENT_KEEPALIVE_MS;
    return server;
  }

  /** The lean server in front of Node's (and the h2c sniffer), which serves what the lean one hands over. */
  #leanServer(server: Server, proxy: IngressProxy, listener: Listener, scheme: Scheme): void {
    const lean = new LeanServer({
      handler: proxy.handler(scheme, listener.port),
      keepAliveMs: CLIENT_KEEPALIVE_MS,
      label: `ingress pod ${this.#pod.namespace}/${this.#pod.name} :${listener.port}`,
    });
    lean.install(server, scheme === 'https' ? 'secureConnection' : 'connection');
    this.#lean.push(lean);
  }

  /** The controller's /healthz: 200 `ok` while healthy, as its readinessProbe expects. */
  #health(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    const status = path !== this.#options.health.path ? 404 : this.#healthy ? 200 : 503;
    const body = status === 200 ? 'ok' : status === 503 ? 'unhealthy' : 'not found';
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }
}

export function createIngressControllerPod(pod: PodInfo, options: IngressControllerPodOptions): PodRuntime {
  return new L7Pod(pod, {
    listeners: controllerListeners(pod),
    routerFor: () => options.getRouter(),
    health: { port: CONTROLLER_HEALTH_PORT, path: '/healthz' },
    sharedProxy: true,
    random: options.random,
    ...(options.observe === undefined ? {} : { observe: options.observe }),
    accessLog: true,
    netpol: options.netpol,
    faults: options.faults,
  });
}
