/**
 * The request path of one controller pod, in nginx's phase order:
 *   server rewrite (app-root 302) → find location → client_max_body_size (413) →
 *   location rewrite (denied 503, ssl-redirect 308, rewrite-target, no endpoints 503) →
 *   access (whitelist-source-range 403) → balancer (canary, affinity, round robin) →
 *   proxy (retries on error/timeout for idempotent requests, then 502/504) →
 *   custom-http-errors interception.
 * Errors nginx generates itself answer with its pages (error-pages.ts).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { oneAtATime } from './client-connection.js';
import { errorPage } from './error-pages.js';
import { parseRequestTarget } from './request-target.js';
import { BodyLimit, BodyTooLargeError, Exchange, hasBody, ignore, isTimeout, UpstreamCall, type Scheme, type UpstreamOutcome } from './exchange.js';
import { normalizePath } from '../../cluster/ingress/path-match.js';
import { appendSetCookie, downstreamResponseHeaders, newRequestId, SERVER_VALUE, upstreamRequestHeaders } from './proxy-headers.js';
import { forwardedContext, hstsFor, passScheme, remoteAddr } from './forwarded.js';
import { appRootLocation, applyRewrite, sslRedirectLocation } from './rewrite.js';
import type { CompiledUpstream, Router } from './router.js';
import { affinityCookie, Balancer, canaryDecision, routesToCanary } from './upstream-pool.js';
import { UpstreamPools } from './upstream-connections.js';
import type { ResponseHeaders } from './upstream-response.js';
import { Tunnel, writeRawReply } from './websocket.js';
import { ENVOY_SERVER, gatewayReply, MirrorCall, routeByRules, shadowHost } from './gateway-route.js';
import { applyHeaderEdits } from './route-filters.js';
import type { HttpObserver } from '../observe/http.js';
import type { NetpolGate } from '../netpol-gate.js';
import { dropUpstreamConnect } from './policy-drop.js';
import type { FaultHolder } from '../../faults/compile.js';
import { applyRuleFaults, deferForPodFault } from '../faults/l7-proxy-faults.js';

export type { Scheme } from './exchange.js';

export interface IngressProxyOptions {
  readonly getRouter: () => Router;
  /** Source address of upstream connections: the controller pod's IP. */
  readonly localAddress?: string;
  /** [0, 1); canary weights use it. */
  readonly random?: () => number;
  readonly now?: () => number;
  /** Traces, route counters and the access log of each request (observe/http.ts). */
  readonly observer?: HttpObserver;
  /** The current snapshot's NetworkPolicies (undefined: none). */
  readonly netpol?: () => NetpolGate | undefined;
  /** Active faults: an Ingress or HTTPRoute fault acts on the requests its rules route. */
  readonly faults?: FaultHolder;
}

const noPolicy = (): undefined => undefined;

/** nginx retries only these (proxy_next_upstream without non_idempotent). */
const NON_IDEMPOTENT = new Set(['POST', 'LOCK', 'PATCH']);

export class IngressProxy implements UpstreamOutcome {
  readonly pools: UpstreamPools;
  /** RequestMirror copies that failed (the mirror's answer is never the client's business). */
  readonly mirrorFailures = { count: 0 };
  readonly #balancer = new Balancer();
  readonly #getRouter: () => Router;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #localAddress?: string;
  readonly #observer: HttpObserver | undefined;
  readonly #netpol: () => NetpolGate | undefined;
  readonly #faults: FaultHolder | undefined;

  constructor(options: IngressProxyOptions) {
    this.#observer = options.observer;
    this.#faults = options.faults;
    this.#getRouter = options.getRouter;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    this.#localAddress = options.localAddress;
    this.#netpol = options.netpol ?? noPolicy;
    this.pools = new UpstreamPools({ localAddress: options.localAddress });
  }

  /**
   * The `request` listener of one HTTP or HTTPS listener, made once per listener: each
   * client connection's requests are handled one at a time, in order (client-connection.ts).
   */
  requestListener(scheme: Scheme, port: number): (req: IncomingMessage, res: ServerResponse) => void {
    return oneAtATime(this.handler(scheme, port));
  }

  /** The handler alone, for a server that runs a connection's requests one at a time itself (downstream-h1.ts). */
  handler(scheme: Scheme, port: number): (req: IncomingMessage, res: ServerResponse) => void {
    const forwardedPort = scheme === 'https' ? '443' : String(port);
    return (req, res) => this.handleRequest(req, res, scheme, forwardedPort);
  }

  upgradeListener(scheme: Scheme, port: number): (req: IncomingMessage, socket: Socket, head: Buffer) => void {
    const forwardedPort = scheme === 'https' ? '443' : String(port);
    return (req, socket, head) => this.handleUpgrade(req, socket, head, scheme, forwardedPort);
  }

  handleRequest(req: IncomingMessage, res: ServerResponse, scheme: Scheme, port: string): void {
    const ex = new Exchange(req, scheme, port);
    this.#observer?.begin(ex, res);
    if (!this.#route(ex)) return this.#reply(ex, res);
    const faults = this.#faults?.table;
    if (faults !== undefined && applyRuleFaults(faults, ex, res, this.#random, this.#proceed)) return;
    this.#proxy(ex, res);
  }

  /** What a fault lets through: the request proxied, or answered with ex.status. */
  readonly #proceed = (ex: Exchange, res: ServerResponse, answer: boolean): void => (answer ? this.#reply(ex, res) : this.#proxy(ex, res));

  handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer, scheme: Scheme, port: string): void {
    socket.on('error', ignore);
    const ex = new Exchange(req, scheme, port);
    if (!this.#route(ex) || !ex.location || !ex.upstream) {
      return writeRawReply(socket, ex.status || 404, scheme === 'https', ex.redirect);
    }
    const upstream = ex.upstream;
    const cfg = ex.location.config;
    const first = this.#pickEndpoint(ex, upstream);
    const order = [first];
    for (let i = 1; i < cfg.proxy.nextUpstreamTries; i++) order.push(this.#balancer.roundRobin(upstream));
    const headers = this.#upstreamHeaders(ex);
    headers.upgrade = req.headers.upgrade ?? 'websocket';
    headers.connection = 'upgrade';
    new Tunnel(
      socket,
      `${req.method ?? 'GET'} ${ex.target} HTTP/1.1`,
      headers,
      head,
      {
        endpoints: upstream.endpoints,
        order,
        protocol: cfg.backendProtocol,
        connectTimeoutMs: cfg.proxy.connectTimeoutMs,
        readTimeoutMs: cfg.proxy.readTimeoutMs,
        localAddress: this.#localAddress,
        dropped: (ip, port) => this.#netpol()?.drops(this.#localAddress ?? '', ip, port) === true,
      },
      scheme === 'https',
    );
  }

  async close(): Promise<void> {
    await this.pools.close();
  }

  #router(): Router {
    const router = this.#getRouter();
    if (this.#balancer.sync(router)) this.pools.prune(router);
    return router;
  }

  /** Decides everything up to the balancer; false: answer with ex.status (and ex.redirect). */
  #route(ex: Exchange): boolean {
    const router = this.#router();
    const req = ex.req;
    const target = parseRequestTarget(req);
    ex.gateway = router.config.dialect === 'gateway-api';
    ex.traffic = router.config.controller;
    if (target.kind === 'bad') {
      ex.server = router.defaultServer;
      ex.closeAfter = true;
      ex.status = 400;
      return false;
    }
    const hostHeader = req.headers.host;
    const server = router.matchServer(target.authority ?? hostHeader);
    ex.server = server;
    ex.host = hostHeader ?? target.authority ?? server.hostname;
    const url = target.url;
    ex.url = url;
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    ex.query = q < 0 ? '' : url.slice(q + 1);
    const path = normalizePath(rawPath);
    ex.decoded = path !== rawPath && rawPath.includes('%');
    if (server.rules) return routeByRules(ex, server, server.rules, path, this.#random);
    if (server.appRoot !== undefined && path === '/') {
      return this.#redirectTo(ex, 302, appRootLocation(ex.scheme, hostHeader ?? '', server.appRoot));
    }
    const match = router.matchLocation(server, path);
    if (!match) return this.#fail(ex, 404);
    const loc = match.target;
    ex.location = loc;
    if (loc.builtin === 'healthz') {
      ex.status = 200;
      return false;
    }
    const cfg = loc.config;
    const length = req.headers['content-length'];
    if (cfg.proxy.bodySizeLimit > 0 && length !== undefined && Number(length) > cfg.proxy.bodySizeLimit) {
      ex.closeAfter = true;
      return this.#fail(ex, 413);
    }
    if (cfg.denied !== undefined) return this.#fail(ex, 503);
    if (passScheme(ex) === 'http' && (cfg.forceSslRedirect || (cfg.sslRedirect && server.hasTls))) {
      return this.#redirectTo(ex, 308, sslRedirectLocation(hostHeader ?? '', url));
    }
    ex.target = loc.rewrite && match.captures ? applyRewrite(loc.rewrite, match.captures, ex.query, ex.decoded) : url;
    let upstream = loc.upstream;
    if (!upstream) return this.#fail(ex, 404);
    if (upstream.endpoints.length === 0) {
      if (!loc.errorUpstream) return this.#fail(ex, 503);
      upstream = loc.errorUpstream;
      ex.errorCode = 503;
    }
    if (loc.allow) {
      const ip = remoteAddr(ex);
      if (!loc.allow.check(ip, ip.includes(':') ? 'ipv6' : 'ipv4')) return this.#fail(ex, 403);
    }
    if (ex.errorCode === 0 && upstream.alternative && routesToCanary(canaryDecision(upstream, req.headers, this.#random))) {
      upstream = upstream.alternative;
    }
    ex.upstream = upstream;
    return true;
  }

  #redirectTo(ex: Exchange, status: number, location: string): false {
    ex.status = status;
    ex.redirect = location;
    return false;
  }

  /** error_page: custom-http-errors hand the error to the default backend; true: proxy to it. */
  #fail(ex: Exchange, status: number): boolean {
    const loc = ex.location;
    if (loc?.customErrors?.has(status) && !ex.intercepted) {
      ex.intercepted = true;
      ex.setCookie = undefined;
      if (loc.errorUpstream) {
        ex.upstream = loc.errorUpstream;
        ex.errorCode = status;
        ex.target = '/';
        return true;
      }
      // The controller's own default backend answers every error page request with 404.
      ex.status = 404;
      return false;
    }
    ex.status = status;
    return false;
  }

  #pickEndpoint(ex: Exchange, upstream: CompiledUpstream): number {
    const pinned = this.#balancer.pinnedEndpoint(upstream, ex.req.headers.cookie);
    if (pinned >= 0) return pinned;
    const index = this.#balancer.roundRobin(upstream);
    const endpoint = upstream.endpoints[index];
    if (upstream.affinity && endpoint && ex.errorCode === 0) {
      ex.setCookie = affinityCookie(upstream.affinity, endpoint.cookieValue, ex.location?.cookiePath ?? '/', ex.scheme === 'https', this.#now());
    }
    return index;
  }

  #upstreamHeaders(ex: Exchange): Record<string, string | string[]> {
    const req = ex.req;
    if (ex.requestId === '') {
      const incoming = req.headers['x-request-id'];
      ex.requestId = typeof incoming === 'string' && incoming !== '' ? incoming : newRequestId();
    }
    const headers = upstreamRequestHeaders(req.headers, forwardedContext(ex));
    if (ex.rule?.requestEdits) applyHeaderEdits(headers, ex.rule.requestEdits);
    if (ex.errorCode !== 0) {
      const [namespace = '', ingress = ''] = (ex.location?.config.ingress ?? '/').split('/');
      const service = ex.location?.upstream?.config.service;
      headers['x-code'] = String(ex.errorCode);
      headers['x-format'] = req.headers.accept ?? '';
      headers['x-original-uri'] = ex.url;
      headers['x-namespace'] = namespace;
      headers['x-ingress-name'] = ingress;
      headers['x-service-name'] = service?.name ?? '';
      headers['x-service-port'] = String(service?.port ?? '');
    }
    return headers;
  }

  /** A bug must cost one request, not the controller: that client sees its connection close. */
  #proxy(ex: Exchange, res: ServerResponse): void {
    try {
      this.#forward(ex, res);
    } catch {
      res.destroy();
    }
  }

  #forward(ex: Exchange, res: ServerResponse): void {
    const loc = ex.location;
    const upstream = ex.upstream;
    if (!loc || !upstream) return this.#reply(ex, res);
    const cfg = loc.config;
    const req = ex.req;
    const withBody = !ex.intercepted && hasBody(req);
    const method = ex.intercepted ? 'GET' : (req.method ?? 'GET');
    ex.tries = withBody || NON_IDEMPOTENT.has(method) ? 1 : cfg.proxy.nextUpstreamTries;
    ex.attempt = 1;
    ex.upstreamRequest = {
      method: method as Dispatcher.HttpMethod,
      path: ex.target,
      headers: this.#upstreamHeaders(ex),
      body: withBody ? this.#body(req, cfg.proxy.bodySizeLimit) : null,
      headersTimeout: cfg.proxy.readTimeoutMs,
      bodyTimeout: cfg.proxy.readTimeoutMs,
    };
    ex.endpoint = this.#pickEndpoint(ex, upstream);
    if (ex.rule && ex.rule.mirrors.length > 0) this.#mirror(ex);
    this.#try(ex, res);
  }

  /** RequestMirror: a copy of the request head to each mirror backend, its answer discarded. */
  #mirror(ex: Exchange): void {
    const request = ex.upstreamRequest;
    if (!request || !ex.rule) return;
    for (const m of ex.rule.mirrors) {
      if (m.percent < 100 && this.#random() * 100 >= m.percent) continue;
      const endpoint = m.upstream.endpoints[this.#balancer.roundRobin(m.upstream)];
      if (!endpoint) continue;
      const headers: Record<string, string | string[]> = { ...(request.headers as Record<string, string | string[]>), host: shadowHost(ex.host) };
      delete headers['content-length'];
      delete headers['transfer-encoding'];
      this.pools.dispatch(endpoint, 'HTTP', 10_000, { method: request.method, path: request.path, headers, body: null }, new MirrorCall(this.mirrorFailures));
    }
  }

  #try(ex: Exchange, res: ServerResponse): void {
    const upstream = ex.upstream;
    const endpoint = upstream?.endpoints[ex.endpoint];
    const cfg = ex.location?.config;
    if (!endpoint || !cfg || !ex.upstreamRequest) {
      if (this.#fail(ex, 502)) return this.#proxy(ex, res);
      return this.#reply(ex, res);
    }
    const netpol = this.#netpol();
    if (netpol !== undefined && netpol.drops(this.#localAddress ?? '', endpoint.config.ip, endpoint.config.port)) {
      return dropUpstreamConnect(this, ex, res, endpoint.address, cfg.proxy.connectTimeoutMs);
    }
    const faults = this.#faults?.table;
    if (faults !== undefined && deferForPodFault(faults, endpoint.config, cfg.proxy.readTimeoutMs, ex, res, this.#dispatch, this)) return;
    this.#dispatch(ex, res);
  }

  readonly #dispatch = (ex: Exchange, res: ServerResponse): void => {
    const endpoint = ex.upstream?.endpoints[ex.endpoint];
    const cfg = ex.location?.config;
    if (!endpoint || !cfg || !ex.upstreamRequest) return;
    this.pools.dispatch(endpoint, cfg.backendProtocol, cfg.proxy.connectTimeoutMs, ex.upstreamRequest, new UpstreamCall(ex, res, this));
  };

  responseStart(ex: Exchange, res: ServerResponse, statusCode: number, upstreamHeaders: ResponseHeaders): boolean {
    if (!ex.intercepted && ex.location?.customErrors?.has(statusCode)) return false;
    const headers = downstreamResponseHeaders(upstreamHeaders, hstsFor(ex));
    if (ex.gateway) {
      headers.server = ENVOY_SERVER;
      if (ex.rule?.responseEdits) applyHeaderEdits(headers, ex.rule.responseEdits);
    }
    if (ex.setCookie !== undefined) appendSetCookie(headers, ex.setCookie);
    res.writeHead(statusCode, headers);
    return true;
  }

  responseDropped(ex: Exchange, res: ServerResponse, statusCode: number): void {
    if (res.destroyed) return;
    if (this.#fail(ex, statusCode)) return this.#proxy(ex, res);
    this.#reply(ex, res);
  }

  responseFailed(ex: Exchange, res: ServerResponse, err: Error): void {
    if (res.headersSent || res.destroyed) return;
    if (err instanceof BodyTooLargeError) {
      ex.closeAfter = true;
      if (this.#fail(ex, 413)) return this.#proxy(ex, res);
      return this.#reply(ex, res);
    }
    const upstream = ex.upstream;
    // Istio's retry policy (connect-failure, refused-stream, ...) does not retry a timeout.
    if (upstream && ex.attempt < ex.tries && !(ex.gateway && isTimeout(err))) {
      ex.attempt++;
      ex.endpoint = this.#balancer.roundRobin(upstream);
      return this.#try(ex, res);
    }
    if (this.#fail(ex, isTimeout(err) ? 504 : 502)) return this.#proxy(ex, res);
    this.#reply(ex, res);
  }

  #body(req: IncomingMessage, limit: number): Readable {
    if (limit <= 0 || req.headers['content-length'] !== undefined) return req;
    const limiter = new BodyLimit(limit);
    // The overflow error reaches undici through the stream it reads; nobody else listens.
    limiter.on('error', ignore);
    req.on('error', (err) => limiter.destroy(err));
    req.pipe(limiter);
    return limiter;
  }

  /** A response the controller makes itself: a page, a redirect, or the /healthz 200. */
  #reply(ex: Exchange, res: ServerResponse): void {
    if (res.headersSent) return void res.destroy();
    const status = ex.status || 404;
    if (ex.gateway) {
      const reply = gatewayReply(status, ex.redirect);
      res.writeHead(status, reply.headers);
      return void res.end(ex.req.method === 'HEAD' ? undefined : reply.body);
    }
    const headers: OutgoingHttpHeaders = { server: SERVER_VALUE, 'content-type': 'text/html' };
    const hsts = hstsFor(ex);
    if (hsts !== undefined) headers['strict-transport-security'] = hsts;
    if (status === 200) {
      headers['content-length'] = 0;
      res.writeHead(200, headers);
      return void res.end();
    }
    const body = errorPage(status);
    headers['content-length'] = body.length;
    if (ex.redirect !== undefined) headers.location = ex.redirect;
    if (ex.closeAfter) headers.connection = 'close';
    res.writeHead(status, headers);
    res.end(ex.req.method === 'HEAD' ? undefined : body);
  }
}
